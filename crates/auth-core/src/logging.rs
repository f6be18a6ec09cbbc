//! Logging in the Lambda convention: JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, level from
//! `AWS_LAMBDA_LOG_LEVEL` then `RUST_LOG`. The runtime opens a span carrying the request id
//! around every invocation, so every line of a request names it.

/// Installs the subscriber once, at cold start.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
