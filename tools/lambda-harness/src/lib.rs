//! Runs the workspace's Lambda binaries as Lambda runs them, on this machine: a local Lambda
//! Runtime API ([`runtime_api`]), the environment Lambda gives each function pointed at the
//! emulator ([`deployment`]), events that do real work against the seeded emulator
//! ([`events`]), one function process driven event by event and read from `/proc`
//! ([`process`]), and the tables ([`report`]).
//!
//! Behind `make coldstart` (`src/bin/coldstart.rs`), `make bench-process`
//! (`src/bin/bench_process.rs`) and the end-to-end
//! check that no secret reaches a log line at TRACE.
//!
//! ```no_run
//! use lambda_harness::runtime_api::RuntimeApi;
//! # async fn example() -> std::io::Result<()> {
//! let api = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:sign_in".into()).await?;
//! // Spawn the function with AWS_LAMBDA_RUNTIME_API=<api.address()>, then queue events.
//! println!("{}", api.address());
//! # Ok(()) }
//! ```

pub mod deployment;
pub mod events;
pub mod process;
pub mod report;
pub mod runtime_api;

/// Errors of the harness, for its reports.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
