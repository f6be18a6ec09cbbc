//! What each Cognito error becomes: one table from Cognito's error code to the HTTP status and
//! the problem the caller gets (the problem's `code` and title are in
//! [`http_kit::ApiError::describe`]).
//!
//! A route that gives a code another meaning declares it next to its handler, in a
//! `COGNITO_EXCEPTIONS` list that [`answer`] consults before this table (sign-in answers
//! `UserNotFoundException` as 401 `InvalidCredentials`, say). Transport failures and time-outs
//! are 503 `IdentityProviderUnavailable`; a code not listed is a 500.

use http_kit::ApiError;

use crate::cognito::IdpError;

/// A route's own reading of some Cognito codes: `(code, answer)`.
pub(crate) type Exceptions = &'static [(&'static str, fn() -> ApiError)];

/// The table: `"Cognito code" => status: answer`. A test checks every status against the
/// answer's.
macro_rules! cognito_errors {
    (|$message:ident| $($code:literal => $status:literal: $answer:expr,)*) => {
        fn default_answer(code: &str, $message: &str) -> ApiError {
            match code {
                $($code => $answer,)*
                other => ApiError::internal(format!("unexpected Cognito error {other}: {}", $message)),
            }
        }

        #[cfg(test)]
        const TABLE: &[(&str, u16)] = &[$(($code, $status)),*];
    };
}

cognito_errors! { |message|
    // Cognito error code                          status  answer
    "UsernameExistsException"                   => 409: ApiError::UsernameExists,
    "AliasExistsException"                      => 409: ApiError::AliasExists,
    "InvalidPasswordException"                  => 400: ApiError::InvalidPassword { detail: password_policy_detail(message) },
    "InvalidParameterException"                 => 400: ApiError::InvalidParameter,
    "UnsupportedTokenTypeException"             => 400: ApiError::InvalidParameter,
    "CodeMismatchException"                     => 400: ApiError::CodeMismatch,
    "EnableSoftwareTokenMFAException"           => 400: ApiError::CodeMismatch,
    "SoftwareTokenMFANotFoundException"         => 400: ApiError::InvalidParameter,
    "ExpiredCodeException"                      => 400: ApiError::ExpiredCode,
    "NotAuthorizedException"                    => 401: ApiError::unauthorized("The token or credentials are not valid."),
    "UserNotConfirmedException"                 => 403: ApiError::UserNotConfirmed,
    "PasswordResetRequiredException"            => 403: ApiError::PasswordResetRequired,
    "ForbiddenException"                        => 403: ApiError::Forbidden(Vec::new()),
    "UserNotFoundException"                     => 404: ApiError::UserNotFound,
    "TooManyRequestsException"                  => 429: ApiError::TooManyRequests,
    "LimitExceededException"                    => 429: ApiError::TooManyRequests,
    "TooManyFailedAttemptsException"            => 429: ApiError::TooManyRequests,
    "ThrottlingException"                       => 429: ApiError::TooManyRequests,
    "UserLambdaValidationException"             => 502: ApiError::TriggerFailed { cause: message.to_owned() },
    "UnexpectedLambdaException"                 => 502: ApiError::TriggerFailed { cause: message.to_owned() },
    "InvalidLambdaResponseException"            => 502: ApiError::TriggerFailed { cause: message.to_owned() },
    "CodeDeliveryFailureException"              => 502: ApiError::CodeDeliveryFailed { cause: message.to_owned() },
    "InvalidEmailRoleAccessPolicyException"     => 502: ApiError::CodeDeliveryFailed { cause: message.to_owned() },
    "InvalidSmsRoleAccessPolicyException"       => 502: ApiError::CodeDeliveryFailed { cause: message.to_owned() },
    "InvalidSmsRoleTrustRelationshipException"  => 502: ApiError::CodeDeliveryFailed { cause: message.to_owned() },
    "FeatureUnavailableInTierException"         => 502: ApiError::IdentityProviderMisconfigured { cause: message.to_owned() },
    "InternalErrorException"                    => 503: ApiError::Unavailable { cause: message.to_owned() },
    "ServiceUnavailable"                        => 503: ApiError::Unavailable { cause: message.to_owned() },
    "InternalFailure"                           => 503: ApiError::Unavailable { cause: message.to_owned() },
}

/// The answer to a failed Cognito call: the route's exceptions first, then the table.
pub(crate) fn answer(exceptions: Exceptions) -> impl FnOnce(IdpError) -> ApiError {
    move |err| match err {
        IdpError::Service { code, message } => exceptions
            .iter()
            .find(|(c, _)| *c == code)
            .map_or_else(|| default_answer(&code, &message), |(_, answer)| answer()),
        IdpError::Unavailable(cause) => ApiError::Unavailable { cause },
        IdpError::Unexpected(cause) => ApiError::Internal { cause },
    }
}

/// The outcome of a code request (a reset code, a confirmation code again) that must not tell
/// whether an account exists or what state it is in: `Ok` whatever Cognito said, when it said
/// one of `not_told`. Every other failure (throttling, an outage) is still answered.
pub(crate) fn without_telling<T>(result: Result<T, IdpError>, not_told: &[&str]) -> Result<(), ApiError> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if err.code().is_some_and(|code| not_told.contains(&code)) => {
            // Only the code: the operator can tell a misconfigured client from a stranger.
            tracing::info!(cognito_code = err.code(), "code request answered as sent");
            Ok(())
        }
        Err(err) => Err(err.into()),
    }
}

impl From<IdpError> for ApiError {
    fn from(err: IdpError) -> Self {
        answer(&[])(err)
    }
}

/// Cognito's InvalidPassword message reads "Password did not conform with policy: <rule>";
/// only the rule is for the caller, and only when it looks like one.
fn password_policy_detail(message: &str) -> String {
    const GENERIC: &str = "The password does not meet the user pool's password policy.";
    let rule = message.rsplit_once(": ").map_or(message, |(_, rule)| rule).trim();
    let safe = !rule.is_empty()
        && rule.len() <= 200
        && rule.chars().all(|c| c.is_ascii_alphanumeric() || " .,-'()".contains(c));
    if safe {
        format!("The password does not meet the policy: {rule}")
    } else {
        GENERIC.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str) -> IdpError {
        IdpError::Service {
            code: code.into(),
            message: "message".into(),
        }
    }

    #[test]
    fn every_row_answers_its_status() {
        for (code, status) in TABLE {
            let api = ApiError::from(service(code));
            assert_eq!(api.status().as_u16(), *status, "{code}");
        }
        assert!(TABLE.len() >= 28);
    }

    #[test]
    fn every_documented_code_maps_to_its_problem() {
        let cases: &[(&str, u16, &str)] = &[
            ("UsernameExistsException", 409, "UsernameExists"),
            ("AliasExistsException", 409, "AliasExists"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
            ("InvalidParameterException", 400, "InvalidParameter"),
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("NotAuthorizedException", 401, "Unauthorized"),
            ("UserNotFoundException", 404, "UserNotFound"),
            ("UserNotConfirmedException", 403, "UserNotConfirmed"),
            ("PasswordResetRequiredException", 403, "PasswordResetRequired"),
            ("TooManyRequestsException", 429, "TooManyRequests"),
            ("LimitExceededException", 429, "TooManyRequests"),
            ("TooManyFailedAttemptsException", 429, "TooManyRequests"),
            ("UserLambdaValidationException", 502, "TriggerFailed"),
            ("UnexpectedLambdaException", 502, "TriggerFailed"),
            ("InvalidLambdaResponseException", 502, "TriggerFailed"),
            ("CodeDeliveryFailureException", 502, "CodeDeliveryFailed"),
            ("InvalidEmailRoleAccessPolicyException", 502, "CodeDeliveryFailed"),
            ("InvalidSmsRoleAccessPolicyException", 502, "CodeDeliveryFailed"),
            ("InvalidSmsRoleTrustRelationshipException", 502, "CodeDeliveryFailed"),
            ("ForbiddenException", 403, "Forbidden"),
            ("InternalErrorException", 503, "IdentityProviderUnavailable"),
            ("ResourceNotFoundException", 500, "InternalError"),
            ("SomethingNewException", 500, "InternalError"),
        ];
        for (code, status, api_code) in cases {
            let api = ApiError::from(service(code));
            assert_eq!((api.status().as_u16(), api.code()), (*status, *api_code), "{code}");
        }
        let transport = ApiError::from(IdpError::Unavailable("timed out".into()));
        assert_eq!(transport.code(), "IdentityProviderUnavailable");
    }

    #[test]
    fn a_route_exception_wins_over_the_table() {
        const EXCEPTIONS: Exceptions = &[("UserNotFoundException", || ApiError::InvalidCredentials)];
        assert_eq!(
            answer(EXCEPTIONS)(service("UserNotFoundException")).code(),
            "InvalidCredentials"
        );
        assert_eq!(
            answer(EXCEPTIONS)(service("CodeMismatchException")).code(),
            "CodeMismatch"
        );
    }

    #[test]
    fn password_policy_detail_keeps_only_a_plain_rule() {
        assert_eq!(
            password_policy_detail("Password did not conform with policy: Password must have uppercase characters"),
            "The password does not meet the policy: Password must have uppercase characters"
        );
        assert_eq!(
            password_policy_detail("Password did not conform with policy: <script>"),
            "The password does not meet the user pool's password policy."
        );
        assert_eq!(
            password_policy_detail(""),
            "The password does not meet the user pool's password policy."
        );
    }
}
