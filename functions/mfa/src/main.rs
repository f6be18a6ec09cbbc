//! Lambda entry point: wiring only. The handler is `account_api::mfa::handler`.

use account_api::AccountApi;
use auth_contract::config::Env;
use lambda_http::{Error, run, service_fn};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let api = AccountApi::from_env(&Env::process()).await?;
    run(service_fn(|request| account_api::mfa::handler(&api, request))).await
}
