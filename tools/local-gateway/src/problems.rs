//! Answers no function gives, only the gateway: a route or method that does not exist, an
//! authorizer that failed (API Gateway answers these itself, with the template's gateway
//! responses, which a test keeps equal to these problems), and a Cognito call the local
//! emulator lacks (only the local stack answers it).

use http::StatusCode;
use http_kit::Problem;

/// No route matches the path.
pub fn route_not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "RouteNotFound",
        "Not found",
        "No route matches this path.",
    )
}

/// The path exists with another method.
pub fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "Method not allowed",
        "This route does not accept this method.",
    )
}

/// The authorizer failed (no JWKS, the revocation store unreadable and failing closed): the
/// template's `AUTHORIZER_FAILURE`.
pub fn authorization_unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "AuthorizationUnavailable",
        "Authorization is unavailable",
        "The caller could not be authorized now; retry later.",
    )
}

/// The route's Cognito call does not exist in the local emulator (see
/// [`crate::emulated_cognito::noting_gaps`]).
pub fn not_emulated(operation: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotEmulated",
        "The local emulator does not implement this call",
        format!(
            "The local stack's Cognito emulator does not implement {operation}; this route works against Amazon Cognito."
        ),
    )
}
