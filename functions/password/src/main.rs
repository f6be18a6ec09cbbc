//! Lambda entry point: wiring only. The handler is `account_api::password::handler`.

use account_api::AccountApi;
use auth_contract::config::Env;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let api = AccountApi::from_env(&Env::process()).await?;
    run(service_fn(|request| account_api::password::handler(&api, request))).await
}
