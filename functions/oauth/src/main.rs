//! Lambda entry point: wiring only. The handler is `oauth_flow::handler`.

use auth_contract::config::Env;
use lambda_http::{Error, run, service_fn};
use oauth_flow::OAuthApi;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let api = OAuthApi::from_env(&Env::process()).await?;
    run(service_fn(|request| oauth_flow::handler(&api, request))).await
}
