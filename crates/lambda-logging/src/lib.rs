//! Logging for every Lambda binary of the workspace, in the Lambda convention: JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`. The
//! runtime opens a span carrying the request id around every invocation, so every line of a
//! request names it.
//!
//! ```no_run
//! lambda_logging::init();
//! tracing::info!("ready");
//! ```

/// Installs the subscriber; call once, first thing in `main`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}
