//! The error model: every failure an account function answers with, and the one place that
//! turns it into an HTTP status and an RFC 9457 `application/problem+json` body.
//!
//! [`ApiError::describe`] is the table of statuses, codes, titles and details (the error table of
//! `docs/api.md`). Conversions never log: [`respond`], where a handler's answer is written, logs each
//! failure once, with the cause of a 5xx kept out of the body.

use std::borrow::Cow;

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Seconds a caller should wait before retrying after a 429 or a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// One problem with one part of the request (a body field, a header, a check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the problem is: a body field name, `body`, a header name, or a check name.
    pub source: String,
    /// What is wrong, written for the API's user.
    pub message: String,
}

impl FieldError {
    /// A problem with `source`.
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            message: message.into(),
        }
    }
}

/// Every error an account function can answer with.
///
/// The `Display` text is for logs only; what the caller sees comes from [`ApiError::problem`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad request fields, one entry each.
    #[error("request validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// Cognito rejected a parameter.
    #[error("identity provider rejected a parameter")]
    InvalidParameter,
    /// The password breaks the pool's policy; `detail` names the rule.
    #[error("password does not meet the policy")]
    InvalidPassword {
        /// Which rule failed, for the caller.
        detail: String,
    },
    /// A sign-in method this pool or its plan does not offer (or choice-based sign-in is off).
    #[error("sign-in method {method} unavailable")]
    SignInMethodUnavailable {
        /// The method asked for, in sign-in's words.
        method: &'static str,
    },
    /// A wrong confirmation code.
    #[error("confirmation code mismatch")]
    CodeMismatch,
    /// An expired confirmation code.
    #[error("confirmation code expired")]
    ExpiredCode,
    /// Wrong password or unknown user, indistinguishably.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// A missing, malformed, expired or revoked token.
    #[error("unauthorized: {detail}")]
    Unauthorized {
        /// What is wrong with the credential, for the caller.
        detail: String,
    },
    /// The change hands an account over and the token's sign-in is older than allowed: sign in
    /// again (RFC 9470's `insufficient_user_authentication`).
    #[error("recent authentication required (max age {max_age} s)")]
    RecentAuthenticationRequired {
        /// The longest age accepted, in seconds.
        max_age: u64,
    },
    /// An OAuth callback whose flow cookie is missing, tampered with or expired, or whose
    /// `state` is not the flow's.
    #[error("invalid OAuth state")]
    InvalidOAuthState,
    /// The login page answered with an error (the user declined, say).
    #[error("OAuth denied: {provider_error}")]
    OAuthDenied {
        /// The provider's `error` code, checked to be a plain code.
        provider_error: String,
    },
    /// The token endpoint refused the code (used, expired, or not the verifier's).
    #[error("invalid grant")]
    InvalidGrant,
    /// An access token without the scope a route needs.
    #[error("insufficient scope")]
    InsufficientScope {
        /// The scope missing.
        scope: &'static str,
        /// Where to go instead, for the caller.
        hint: &'static str,
    },
    /// A sign-in challenge's session expired or is unknown: sign in again.
    #[error("challenge session expired")]
    SessionExpired,
    /// A refresh token rotated out longer ago than the grace period was presented again.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// Sign-in before the account is verified.
    #[error("user not confirmed")]
    UserNotConfirmed,
    /// The password must be reset first.
    #[error("password reset required")]
    PasswordResetRequired,
    /// The caller may not do this; `errors` names the failed check, if any.
    #[error("forbidden: {0:?}")]
    Forbidden(Vec<FieldError>),
    /// No such user, where the route may say so.
    #[error("user not found")]
    UserNotFound,
    /// No such group.
    #[error("group not found")]
    GroupNotFound,
    /// Verify-account on a verified account.
    #[error("account already confirmed")]
    AlreadyConfirmed,
    /// An administrator would lock themselves out (removing their own admin membership,
    /// disabling or signing out themselves).
    #[error("self lockout refused")]
    SelfLockout,
    /// The username is taken.
    #[error("username exists")]
    UsernameExists,
    /// The email is used by another account.
    #[error("alias exists")]
    AliasExists,
    /// The body is over the limit.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Cognito throttled the call.
    #[error("too many requests")]
    TooManyRequests,
    /// A user pool Lambda trigger failed.
    #[error("identity provider trigger failed: {cause}")]
    TriggerFailed {
        /// For the log.
        cause: String,
    },
    /// A code could not be sent.
    #[error("code delivery failed: {cause}")]
    CodeDeliveryFailed {
        /// For the log.
        cause: String,
    },
    /// The revocation store could not record a logout or a sign-out: nothing was changed.
    #[error("revocation store unavailable: {cause}")]
    RevocationUnavailable {
        /// For the log.
        cause: String,
    },
    /// The user pool or its app client lets users set what the rules trust (an attribute a
    /// claim comes from, an unverified email): administration waits until an operator fixes it.
    #[error("the user pool's configuration is unsafe: {cause}")]
    PoolConfigurationUnsafe {
        /// For the log.
        cause: String,
    },
    /// The identity provider refused this API's own client (its id, secret or allowed flows):
    /// an operator must fix the configuration.
    #[error("identity provider misconfigured: {cause}")]
    IdentityProviderMisconfigured {
        /// For the log.
        cause: String,
    },
    /// Cognito is unreachable, slow or failing.
    #[error("identity provider unavailable: {cause}")]
    Unavailable {
        /// For the log.
        cause: String,
    },
    /// Anything else: a bug or an unexpected answer.
    #[error("internal error: {cause}")]
    Internal {
        /// For the log.
        cause: String,
    },
}

/// The RFC 9457 body. `errors` is left out when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `/problems/<code in kebab-case>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// A short, fixed summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for the caller; never a cause or a secret.
    pub detail: String,
    /// The stable machine-readable name callers branch on.
    pub code: &'static str,
    /// Per-field problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem without field errors.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: problem_type(code),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
        }
    }

    /// The problem+json response: `Retry-After` on 429 and 503, `WWW-Authenticate: Bearer` on
    /// 401.
    pub fn into_response(self) -> Response<Body> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serialising a struct of strings cannot fail; fall back to a fixed body all the same.
        let body = serde_json::to_string(&self).unwrap_or_else(|_| {
            r#"{"type":"/problems/internal-error","title":"Internal error","status":500,"detail":"An unexpected error occurred.","code":"InternalError"}"#.to_owned()
        });
        let mut response = Response::new(Body::Text(body));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        if matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// What a caller is told of an [`ApiError`], from [`ApiError::describe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable machine-readable name callers branch on.
    pub code: &'static str,
    /// The problem's title.
    pub title: &'static str,
    /// The problem's detail: never a cause, a stack trace or a secret.
    pub detail: Cow<'static, str>,
}

impl ApiError {
    /// A 401 with `detail` for the caller.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized { detail: detail.into() }
    }

    /// A 500 whose `cause` is logged, never shown.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
        }
    }

    /// A 400 about one field.
    pub fn validation(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(source, message)])
    }

    /// Status, `code`, title and detail of every error: the error table of `docs/api.md`.
    pub fn describe(&self) -> Description {
        use Cow::{Borrowed, Owned};
        use StatusCode as S;
        let describe = |status, code, title, detail| Description {
            status,
            code,
            title,
            detail,
        };
        match self {
            Self::Validation(_) => describe(
                S::BAD_REQUEST,
                "ValidationFailed",
                "The request is not valid",
                Borrowed("One or more fields are invalid; see errors."),
            ),
            Self::InvalidParameter => describe(
                S::BAD_REQUEST,
                "InvalidParameter",
                "A parameter was rejected",
                Borrowed("The identity provider rejected a parameter of the request."),
            ),
            Self::InvalidPassword { detail } => describe(
                S::BAD_REQUEST,
                "InvalidPassword",
                "The password does not meet the policy",
                Owned(detail.clone()),
            ),
            Self::SignInMethodUnavailable { method } => describe(
                S::BAD_REQUEST,
                "SignInMethodUnavailable",
                "The sign-in method is not offered",
                Owned(format!(
                    "This user pool does not offer sign-in with {method}; GET /auth/me/sign-in-methods lists a user's methods."
                )),
            ),
            Self::CodeMismatch => describe(
                S::BAD_REQUEST,
                "CodeMismatch",
                "The confirmation code is wrong",
                Borrowed("The confirmation code does not match; check it and try again."),
            ),
            Self::ExpiredCode => describe(
                S::BAD_REQUEST,
                "ExpiredCode",
                "The confirmation code has expired",
                Borrowed("The confirmation code has expired; request a new one."),
            ),
            Self::InvalidCredentials => describe(
                S::UNAUTHORIZED,
                "InvalidCredentials",
                "Invalid credentials",
                Borrowed("The username or password is incorrect."),
            ),
            Self::Unauthorized { detail } => {
                describe(S::UNAUTHORIZED, "Unauthorized", "Unauthorized", Owned(detail.clone()))
            }
            Self::SessionExpired => describe(
                S::UNAUTHORIZED,
                "SessionExpired",
                "The sign-in session has expired",
                Borrowed("The sign-in session is unknown or has expired (3 minutes); sign in again."),
            ),
            Self::RefreshTokenReused => describe(
                S::UNAUTHORIZED,
                "RefreshTokenReused",
                "The refresh token was already used",
                Borrowed("This refresh token was replaced by a newer one; sign in again."),
            ),
            Self::RecentAuthenticationRequired { max_age } => describe(
                S::UNAUTHORIZED,
                "RecentAuthenticationRequired",
                "Recent authentication required",
                Owned(format!(
                    "This change needs a sign-in within the last {max_age} seconds; sign in again, then retry with the new token."
                )),
            ),
            Self::InvalidOAuthState => describe(
                S::BAD_REQUEST,
                "InvalidOAuthState",
                "The sign-in flow is not valid",
                Borrowed(
                    "The sign-in flow's cookie is missing, altered or expired, or the state does not match; start the sign-in again.",
                ),
            ),
            Self::OAuthDenied { provider_error } => describe(
                S::UNAUTHORIZED,
                "OAuthDenied",
                "The sign-in was refused",
                Owned(format!("The login page answered {provider_error}.")),
            ),
            Self::InvalidGrant => describe(
                S::BAD_REQUEST,
                "InvalidGrant",
                "The authorization code is not valid",
                Borrowed(
                    "The authorization code was already used, has expired, or does not match the code verifier or redirect URI; start the sign-in again.",
                ),
            ),
            Self::InsufficientScope { scope, hint } => describe(
                S::FORBIDDEN,
                "InsufficientScope",
                "The token lacks a scope",
                Owned(format!("The access token lacks the {scope} scope; {hint}")),
            ),
            Self::UserNotConfirmed => describe(
                S::FORBIDDEN,
                "UserNotConfirmed",
                "The account is not verified",
                Borrowed("Verify the account with the code that was sent before signing in."),
            ),
            Self::PasswordResetRequired => describe(
                S::FORBIDDEN,
                "PasswordResetRequired",
                "A password reset is required",
                Borrowed("The password must be reset before signing in."),
            ),
            Self::Forbidden(_) => describe(
                S::FORBIDDEN,
                "Forbidden",
                "Forbidden",
                Borrowed("The caller is not allowed to do this."),
            ),
            Self::UserNotFound => describe(
                S::NOT_FOUND,
                "UserNotFound",
                "User not found",
                Borrowed("No such user."),
            ),
            Self::GroupNotFound => describe(
                S::NOT_FOUND,
                "GroupNotFound",
                "Group not found",
                Borrowed("No such group."),
            ),
            Self::AlreadyConfirmed => describe(
                S::CONFLICT,
                "AlreadyConfirmed",
                "The account is already verified",
                Borrowed("This account is already verified; sign in instead."),
            ),
            Self::SelfLockout => describe(
                S::CONFLICT,
                "SelfLockout",
                "An administrator cannot lock themselves out",
                Borrowed(
                    "Administrators cannot remove their own admin membership, disable or sign out themselves here; ask another administrator.",
                ),
            ),
            Self::UsernameExists => describe(
                S::CONFLICT,
                "UsernameExists",
                "The username is taken",
                Borrowed("An account with this username already exists."),
            ),
            Self::AliasExists => describe(
                S::CONFLICT,
                "AliasExists",
                "The email is already in use",
                Borrowed("An account with this email already exists."),
            ),
            Self::PayloadTooLarge { limit } => describe(
                S::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                "The request body is too large",
                Owned(format!("The request body must be at most {limit} bytes.")),
            ),
            Self::UnsupportedMediaType => describe(
                S::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                "Unsupported media type",
                Borrowed("The request body must be JSON (Content-Type: application/json)."),
            ),
            Self::TooManyRequests => describe(
                S::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Too many requests",
                Borrowed("Too many requests; retry later."),
            ),
            Self::TriggerFailed { .. } => describe(
                S::BAD_GATEWAY,
                "TriggerFailed",
                "An identity provider trigger failed",
                Borrowed("A user pool trigger failed; try again later."),
            ),
            Self::CodeDeliveryFailed { .. } => describe(
                S::BAD_GATEWAY,
                "CodeDeliveryFailed",
                "The confirmation code could not be delivered",
                Borrowed("The confirmation code could not be delivered; try again later."),
            ),
            Self::RevocationUnavailable { .. } => describe(
                S::SERVICE_UNAVAILABLE,
                "RevocationUnavailable",
                "The revocation store is unavailable",
                Borrowed("Nothing was changed: the sign-out could not be recorded; retry later."),
            ),
            Self::PoolConfigurationUnsafe { .. } => describe(
                S::SERVICE_UNAVAILABLE,
                "PoolConfigurationUnsafe",
                "The user pool's configuration is unsafe",
                Borrowed(
                    "The user pool lets users change what access rules trust; administration is off until the operator fixes it.",
                ),
            ),
            Self::IdentityProviderMisconfigured { .. } => describe(
                S::BAD_GATEWAY,
                "IdentityProviderMisconfigured",
                "The identity provider refused this API's client",
                Borrowed("The identity provider refused this API's client; the operator has been told."),
            ),
            Self::Unavailable { .. } => describe(
                S::SERVICE_UNAVAILABLE,
                "IdentityProviderUnavailable",
                "The identity provider is unavailable",
                Borrowed("The identity provider did not answer in time; retry later."),
            ),
            Self::Internal { .. } => describe(
                S::INTERNAL_SERVER_ERROR,
                "InternalError",
                "Internal error",
                Borrowed("An unexpected error occurred."),
            ),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.describe().status
    }

    /// The stable machine-readable name callers can branch on.
    pub fn code(&self) -> &'static str {
        self.describe().code
    }

    /// The body the caller sees. Never contains a cause, a stack trace or a secret.
    pub fn problem(&self) -> Problem {
        let Description {
            status,
            code,
            title,
            detail,
        } = self.describe();
        let mut problem = Problem::new(status, code, title, detail);
        if let Self::Validation(errors) | Self::Forbidden(errors) = self {
            problem.errors.clone_from(errors);
        }
        problem
    }

    /// The problem+json response (no logging: see [`respond`]). A recent-authentication
    /// refusal says what it needs in `WWW-Authenticate` (RFC 9470).
    pub fn into_response(self) -> Response<Body> {
        let mut response = self.problem().into_response();
        if let Self::RecentAuthenticationRequired { max_age } = self {
            let challenge = format!(
                r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="{max_age}""#
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// `/problems/<kebab-case code>`: a reference documented in `docs/api.md#errors`.
pub fn problem_type(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 14);
    out.push_str("/problems/");
    for (i, c) in code.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes a handler's answer: the response, or the error's problem. Each failure is logged
/// here, once: a 4xx with its code, a 5xx with its cause (which the caller never sees).
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(error) => {
            let Description { status, code, .. } = error.describe();
            if status.is_server_error() {
                tracing::error!(code, status = status.as_u16(), cause = %error, "request failed");
            } else {
                tracing::info!(code, status = status.as_u16(), "request rejected");
            }
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(response: &Response<Body>) -> serde_json::Value {
        match response.body() {
            Body::Text(text) => serde_json::from_str(text).expect("json body"),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn problem_type_is_kebab_case_of_code() {
        assert_eq!(problem_type("ValidationFailed"), "/problems/validation-failed");
        assert_eq!(
            problem_type("IdentityProviderUnavailable"),
            "/problems/identity-provider-unavailable"
        );
    }

    #[test]
    fn validation_problem_lists_every_field() {
        let err = ApiError::Validation(vec![
            FieldError::new("username", "is required"),
            FieldError::new("password", "must be a string"),
        ]);
        let response = err.into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        let body = body_json(&response);
        assert_eq!(body["code"], "ValidationFailed");
        assert_eq!(body["status"], 400);
        assert_eq!(body["type"], "/problems/validation-failed");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["errors"][0]["source"], "username");
    }

    #[test]
    fn server_errors_hide_their_cause() {
        for err in [
            ApiError::internal("database password=hunter2 leaked"),
            ApiError::Unavailable {
                cause: "dispatch failure: connect 10.0.0.1".into(),
            },
            ApiError::TriggerFailed {
                cause: "PreSignUp lambda stack trace".into(),
            },
        ] {
            let response = respond(Err(err));
            let Body::Text(text) = response.body() else {
                panic!("text body")
            };
            assert!(
                !text.contains("hunter2") && !text.contains("10.0.0.1") && !text.contains("stack trace"),
                "{text}"
            );
            assert!(response.status().is_server_error());
        }
    }

    #[test]
    fn throttling_and_unavailability_carry_retry_after() {
        let response = ApiError::TooManyRequests.into_response();
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let response = ApiError::Unavailable {
            cause: "timeout".into(),
        }
        .into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(body_json(&response)["code"], "IdentityProviderUnavailable");
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        assert!(
            !ApiError::InvalidCredentials
                .into_response()
                .headers()
                .contains_key(header::RETRY_AFTER)
        );
    }

    #[test]
    fn errors_member_is_omitted_when_empty() {
        let body = body_json(&ApiError::InvalidCredentials.into_response());
        assert!(body.get("errors").is_none());
        assert_eq!(body["status"], 401);
    }

    #[test]
    fn a_stale_sign_in_is_told_what_it_needs_as_rfc_9470_says() {
        let response = ApiError::RecentAuthenticationRequired { max_age: 300 }.into_response();
        assert_eq!(response.status(), 401);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age="300""#
        );
        let body = body_json(&response);
        assert_eq!(
            (body["type"].as_str(), body["title"].as_str(), body["code"].as_str()),
            (
                Some("/problems/recent-authentication-required"),
                Some("Recent authentication required"),
                Some("RecentAuthenticationRequired")
            )
        );
        assert!(body["detail"].as_str().unwrap().contains("300 seconds"));
    }

    #[test]
    fn unauthorized_answers_name_the_bearer_scheme() {
        let response = ApiError::unauthorized("no token").into_response();
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body_json(&response)["detail"], "no token");
    }

    #[test]
    fn a_problem_built_elsewhere_has_the_same_shape() {
        let response = Problem::new(StatusCode::NOT_FOUND, "RouteNotFound", "Not found", "No route.").into_response();
        assert_eq!(response.status(), 404);
        assert_eq!(
            body_json(&response),
            serde_json::json!({"type": "/problems/route-not-found", "title": "Not found", "status": 404, "detail": "No route.", "code": "RouteNotFound"})
        );
    }
}
