//! The HTTP side of the account functions, on `lambda_http`: what every handler needs to read
//! a request and write an answer.
//!
//! - [`error`]: [`ApiError`], its table of statuses and codes, and RFC 9457 problem+json
//!   bodies; [`respond`] writes a handler's answer and logs a failure once.
//! - [`body`]: the JSON body (size, media type, syntax) and its fields, every bad field
//!   reported at once; the bearer token.
//! - [`inputs`]: validated newtypes (usernames, emails, passwords, codes, tokens); secrets are
//!   redacted in `Debug` output so they cannot reach a log line.
//! - [`response`]: JSON and empty success answers.
//! - [`guard`]: in-function role and team checks on the authorizer's context.
//!
//! ```
//! use http_kit::body::json_object;
//! use http_kit::inputs::{Email, Password, Username};
//! use lambda_http::{Body, http};
//!
//! let request = http::Request::builder()
//!     .header("content-type", "application/json")
//!     .body(Body::from(r#"{"username": "ada", "password": "Correct-Horse-1", "email": "not-an-email", "extra": 1}"#))
//!     .unwrap();
//! let mut fields = json_object(&request).unwrap();
//! let username = fields.required::<Username>("username");
//! let password = fields.required::<Password>("password");
//! let email = fields.required::<Email>("email");
//! let problem = fields.finish(|| Some((username?, password?, email?))).unwrap_err().problem();
//! assert_eq!(problem.status, 400);
//! let sources: Vec<&str> = problem.errors.iter().map(|e| e.source.as_str()).collect();
//! assert_eq!(sources, ["email", "extra"], "every bad field at once, unknown ones included");
//! ```

pub mod body;
pub mod error;
pub mod guard;
pub mod inputs;
pub mod response;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use error::{ApiError, Description, FieldError, Problem, respond};
