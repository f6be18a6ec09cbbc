//! Cognito's failures as one domain enum, classified by the service's error code so the same
//! mapping serves every operation.

use std::error::Error as StdError;

use auth_core::ApiError;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};

/// A failure of the identity provider, as the handlers need to tell them apart.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdpError {
    #[error("username exists")]
    UsernameExists,
    #[error("alias exists")]
    AliasExists,
    /// Carries Cognito's description of the policy that failed (written for end users).
    #[error("invalid password")]
    InvalidPassword(String),
    #[error("invalid parameter")]
    InvalidParameter,
    #[error("code mismatch")]
    CodeMismatch,
    #[error("expired code")]
    ExpiredCode,
    #[error("not authorized")]
    NotAuthorized,
    #[error("user not found")]
    UserNotFound,
    #[error("user not confirmed")]
    UserNotConfirmed,
    #[error("password reset required")]
    PasswordResetRequired,
    #[error("throttled ({0})")]
    Throttled(String),
    #[error("user pool trigger failed ({0})")]
    TriggerFailed(String),
    #[error("code delivery failed ({0})")]
    CodeDeliveryFailed(String),
    #[error("forbidden by the user pool's web ACL")]
    Forbidden,
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("unexpected identity provider error: {0}")]
    Unexpected(String),
}

impl IdpError {
    /// Classifies a Cognito error code (`UsernameExistsException`...).
    pub fn from_code(code: &str, message: Option<&str>) -> Self {
        match code {
            "UsernameExistsException" => Self::UsernameExists,
            "AliasExistsException" => Self::AliasExists,
            "InvalidPasswordException" => Self::InvalidPassword(password_policy_detail(message)),
            "InvalidParameterException" | "UnsupportedTokenTypeException" => Self::InvalidParameter,
            "CodeMismatchException" => Self::CodeMismatch,
            "ExpiredCodeException" => Self::ExpiredCode,
            "NotAuthorizedException" => Self::NotAuthorized,
            "UserNotFoundException" => Self::UserNotFound,
            "UserNotConfirmedException" => Self::UserNotConfirmed,
            "PasswordResetRequiredException" => Self::PasswordResetRequired,
            "TooManyRequestsException"
            | "LimitExceededException"
            | "TooManyFailedAttemptsException"
            | "ThrottlingException" => Self::Throttled(code.to_owned()),
            "UserLambdaValidationException" | "UnexpectedLambdaException" | "InvalidLambdaResponseException" => {
                Self::TriggerFailed(code.to_owned())
            }
            "CodeDeliveryFailureException"
            | "InvalidEmailRoleAccessPolicyException"
            | "InvalidSmsRoleAccessPolicyException"
            | "InvalidSmsRoleTrustRelationshipException" => Self::CodeDeliveryFailed(code.to_owned()),
            "ForbiddenException" => Self::Forbidden,
            "InternalErrorException" | "ServiceUnavailable" | "InternalFailure" => Self::Unavailable(code.to_owned()),
            other => Self::Unexpected(format!("{other}: {}", message.unwrap_or_default())),
        }
    }

    /// Classifies any SDK error: transport failures and time-outs become `Unavailable`.
    pub fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) => Self::from_code(code, service.err().message()),
                None => Self::Unexpected(format!("service error without a code: {:?}", service.raw())),
            },
            SdkError::TimeoutError(_) => Self::Unavailable("timed out".into()),
            SdkError::DispatchFailure(failure) => Self::Unavailable(format!("dispatch failure: {failure:?}")),
            SdkError::ResponseError(_) => Self::Unavailable("unreadable response".into()),
            _ => Self::Unexpected(describe(&err)),
        }
    }
}

/// Cognito's InvalidPassword message reads "Password did not conform with policy: <rule>";
/// only the rule is for the caller, and only when it looks like one.
fn password_policy_detail(message: Option<&str>) -> String {
    const GENERIC: &str = "The password does not meet the user pool's password policy.";
    let Some(message) = message else { return GENERIC.into() };
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

fn describe(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The default answer for each failure. Handlers override where the route needs another
/// (sign-in answers `InvalidCredentials` for an unknown user, so it reveals nothing).
impl From<IdpError> for ApiError {
    fn from(err: IdpError) -> Self {
        match err {
            IdpError::UsernameExists => ApiError::UsernameExists,
            IdpError::AliasExists => ApiError::AliasExists,
            IdpError::InvalidPassword(detail) => ApiError::InvalidPassword { detail },
            IdpError::InvalidParameter => ApiError::InvalidParameter,
            IdpError::CodeMismatch => ApiError::CodeMismatch,
            IdpError::ExpiredCode => ApiError::ExpiredCode,
            IdpError::NotAuthorized => ApiError::unauthorized("The token or credentials are not valid."),
            IdpError::UserNotFound => ApiError::UserNotFound,
            IdpError::UserNotConfirmed => ApiError::UserNotConfirmed,
            IdpError::PasswordResetRequired => ApiError::PasswordResetRequired,
            IdpError::Throttled(_) => ApiError::TooManyRequests,
            IdpError::TriggerFailed(cause) => ApiError::TriggerFailed { cause },
            IdpError::CodeDeliveryFailed(cause) => ApiError::CodeDeliveryFailed { cause },
            IdpError::Forbidden => ApiError::Forbidden(Vec::new()),
            IdpError::Unavailable(cause) => ApiError::Unavailable { cause },
            IdpError::Unexpected(cause) => ApiError::Internal { cause },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_maps_to_its_status() {
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
            let api: ApiError = IdpError::from_code(code, Some("message")).into();
            assert_eq!((api.status().as_u16(), api.code()), (*status, *api_code), "{code}");
        }
    }

    #[test]
    fn password_policy_detail_keeps_only_a_plain_rule() {
        assert_eq!(
            password_policy_detail(Some(
                "Password did not conform with policy: Password must have uppercase characters"
            )),
            "The password does not meet the policy: Password must have uppercase characters"
        );
        assert_eq!(
            password_policy_detail(Some("Password did not conform with policy: <script>")),
            "The password does not meet the user pool's password policy."
        );
        assert_eq!(
            password_policy_detail(None),
            "The password does not meet the user pool's password policy."
        );
    }
}
