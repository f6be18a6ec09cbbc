//! Lambda entry point: wiring only. The handler is `oauth_flow::handler`.

use auth_contract::config::Env;
use lambda_http::{Error, run, service_fn};
use oauth_flow::OAuthApi;

// One thread: a Lambda handles one event at a time, and the I/O it awaits (Cognito,
// DynamoDB, the Runtime API) interleaves on it; worker threads only add hand-offs.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let api = OAuthApi::from_env(&Env::process()).await?;
    run(service_fn(|request| oauth_flow::handler(&api, request))).await
}
