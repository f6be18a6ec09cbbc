//! Answers only the local gateway gives: a route or method that does not exist. (API Gateway
//! answers an unknown route itself, with the template's `MISSING_AUTHENTICATION_TOKEN`
//! response, which is this same problem.)

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
