//! Lambda entry point: wiring only. The handler is `account_api::refresh_tokens::handler`.

use account_api::AccountApi;
use auth_contract::config::Env;
use lambda_http::{Error, run, service_fn};

// mimalloc: 7-12 % less CPU per invocation than glibc's malloc for the functions that call
// Cognito through the SDK, measured (BENCHMARKS.md, "Process cost"); not for the authorizer,
// where it changed nothing but doubled the peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: a Lambda handles one event at a time, and the I/O it awaits (Cognito,
// DynamoDB, the Runtime API) interleaves on it; worker threads only add hand-offs.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let api = AccountApi::from_env(&Env::process()).await?;
    run(service_fn(|request| {
        account_api::refresh_tokens::handler(&api, request)
    }))
    .await
}
