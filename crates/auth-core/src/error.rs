//! The error model: every failure a function can meet, and the one place that turns it into an
//! HTTP status and an RFC 9457 `application/problem+json` body.
//!
//! Causes of 5xx answers are logged here and never shown to the caller.

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Seconds a caller should wait before retrying after a 429 or a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

/// One problem with one part of the request (a body field, a header, a check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Where the problem is: a body field name, `body`, a header name, or a check name.
    pub source: String,
    /// What is wrong, written for the API's user.
    pub message: String,
}

impl FieldError {
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            message: message.into(),
        }
    }
}

/// Every error a handler can answer with.
///
/// The `Display` text is for logs only; what the caller sees comes from [`ApiError::problem`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("identity provider rejected a parameter")]
    InvalidParameter,
    #[error("password does not meet the policy")]
    InvalidPassword { detail: String },
    #[error("confirmation code mismatch")]
    CodeMismatch,
    #[error("confirmation code expired")]
    ExpiredCode,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String },
    #[error("user not confirmed")]
    UserNotConfirmed,
    #[error("password reset required")]
    PasswordResetRequired,
    #[error("forbidden: {0:?}")]
    Forbidden(Vec<FieldError>),
    #[error("user not found")]
    UserNotFound,
    #[error("route not found")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("account already confirmed")]
    AlreadyConfirmed,
    #[error("username exists")]
    UsernameExists,
    #[error("alias exists")]
    AliasExists,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests,
    #[error("identity provider trigger failed: {cause}")]
    TriggerFailed { cause: String },
    #[error("code delivery failed: {cause}")]
    CodeDeliveryFailed { cause: String },
    #[error("identity provider unavailable: {cause}")]
    Unavailable { cause: String },
    #[error("internal error: {cause}")]
    Internal { cause: String },
}

/// The RFC 9457 body. `errors` is left out when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized { detail: detail.into() }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal {
            cause: cause.to_string(),
        }
    }

    pub fn validation(source: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(source, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_)
            | Self::InvalidParameter
            | Self::InvalidPassword { .. }
            | Self::CodeMismatch
            | Self::ExpiredCode => StatusCode::BAD_REQUEST,
            Self::InvalidCredentials | Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::UserNotConfirmed | Self::PasswordResetRequired | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::UserNotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::UsernameExists | Self::AliasExists | Self::AlreadyConfirmed => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::TriggerFailed { .. } | Self::CodeDeliveryFailed { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable name callers can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationFailed",
            Self::InvalidParameter => "InvalidParameter",
            Self::InvalidPassword { .. } => "InvalidPassword",
            Self::CodeMismatch => "CodeMismatch",
            Self::ExpiredCode => "ExpiredCode",
            Self::InvalidCredentials => "InvalidCredentials",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::UserNotConfirmed => "UserNotConfirmed",
            Self::PasswordResetRequired => "PasswordResetRequired",
            Self::Forbidden(_) => "Forbidden",
            Self::UserNotFound => "UserNotFound",
            Self::RouteNotFound => "RouteNotFound",
            Self::MethodNotAllowed => "MethodNotAllowed",
            Self::AlreadyConfirmed => "AlreadyConfirmed",
            Self::UsernameExists => "UsernameExists",
            Self::AliasExists => "AliasExists",
            Self::PayloadTooLarge { .. } => "PayloadTooLarge",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::TooManyRequests => "TooManyRequests",
            Self::TriggerFailed { .. } => "TriggerFailed",
            Self::CodeDeliveryFailed { .. } => "CodeDeliveryFailed",
            Self::Unavailable { .. } => "IdentityProviderUnavailable",
            Self::Internal { .. } => "InternalError",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation(_) => "The request is not valid",
            Self::InvalidParameter => "A parameter was rejected",
            Self::InvalidPassword { .. } => "The password does not meet the policy",
            Self::CodeMismatch => "The confirmation code is wrong",
            Self::ExpiredCode => "The confirmation code has expired",
            Self::InvalidCredentials => "Invalid credentials",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::UserNotConfirmed => "The account is not verified",
            Self::PasswordResetRequired => "A password reset is required",
            Self::Forbidden(_) => "Forbidden",
            Self::UserNotFound => "User not found",
            Self::RouteNotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::AlreadyConfirmed => "The account is already verified",
            Self::UsernameExists => "The username is taken",
            Self::AliasExists => "The email is already in use",
            Self::PayloadTooLarge { .. } => "The request body is too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::TooManyRequests => "Too many requests",
            Self::TriggerFailed { .. } => "An identity provider trigger failed",
            Self::CodeDeliveryFailed { .. } => "The confirmation code could not be delivered",
            Self::Unavailable { .. } => "The identity provider is unavailable",
            Self::Internal { .. } => "Internal error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Validation(_) => "One or more fields are invalid; see errors.".into(),
            Self::InvalidParameter => "The identity provider rejected a parameter of the request.".into(),
            Self::InvalidPassword { detail } => detail.clone(),
            Self::CodeMismatch => "The confirmation code does not match; check it and try again.".into(),
            Self::ExpiredCode => "The confirmation code has expired; request a new one.".into(),
            Self::InvalidCredentials => "The username or password is incorrect.".into(),
            Self::Unauthorized { detail } => detail.clone(),
            Self::UserNotConfirmed => "Verify the account with the code that was sent before signing in.".into(),
            Self::PasswordResetRequired => "The password must be reset before signing in.".into(),
            Self::Forbidden(_) => "The caller is not allowed to do this.".into(),
            Self::UserNotFound => "No such user.".into(),
            Self::RouteNotFound => "No route matches this path.".into(),
            Self::MethodNotAllowed => "This route does not accept this method.".into(),
            Self::AlreadyConfirmed => "This account is already verified; sign in instead.".into(),
            Self::UsernameExists => "An account with this username already exists.".into(),
            Self::AliasExists => "An account with this email already exists.".into(),
            Self::PayloadTooLarge { limit } => format!("The request body must be at most {limit} bytes."),
            Self::UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).".into(),
            Self::TooManyRequests => "Too many requests; retry later.".into(),
            Self::TriggerFailed { .. } => "A user pool trigger failed; try again later.".into(),
            Self::CodeDeliveryFailed { .. } => "The confirmation code could not be delivered; try again later.".into(),
            Self::Unavailable { .. } => "The identity provider did not answer in time; retry later.".into(),
            Self::Internal { .. } => "An unexpected error occurred.".into(),
        }
    }

    fn errors(&self) -> Vec<FieldError> {
        match self {
            Self::Validation(errors) | Self::Forbidden(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }

    /// The body the caller sees. Never contains a cause, a stack trace or a secret.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            type_uri: problem_type(code),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.detail(),
            code,
            errors: self.errors(),
        }
    }

    /// Logs the cause of server-side errors, then builds the problem+json response.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), status = status.as_u16(), cause = %self, "request failed");
        } else {
            tracing::info!(code = self.code(), status = status.as_u16(), "request rejected");
        }
        let retry_after = matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE);
        let mut response = problem_response(&self.problem());
        if retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// `/problems/<kebab-case code>`: a reference documented in the README.
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

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

pub fn problem_response(problem: &Problem) -> Response<Body> {
    // Serialising a struct of strings cannot fail; fall back to a fixed body all the same.
    let body = serde_json::to_string(problem).unwrap_or_else(|_| {
        r#"{"type":"/problems/internal-error","title":"Internal error","status":500,"detail":"An unexpected error occurred.","code":"InternalError"}"#.to_owned()
    });
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
    response
}

/// Runs a handler body and turns its error, if any, into the problem response.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
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
            let response = err.into_response();
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
}
