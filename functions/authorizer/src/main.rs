//! Lambda entry point: wiring only. The handler is `lambda_authorizer::handle_event`, on the
//! typed event (only the fields it reads are deserialized) and the typed response (serialized
//! straight to the response body).
//!
//! Cold start reads the configuration once (failing fast on a bad variable), attaches the
//! revocation store when `REVOCATION_TABLE` is set, and loads the JWKS, so the first request
//! does not pay for the fetch.

use std::sync::Arc;

use auth_contract::config::Env;
use lambda_authorizer::{AuthorizerDeps, AuthorizerEvent, handle_event};
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use revocation_store::DynamoStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let env = Env::process();
    let mut deps = AuthorizerDeps::from_env(&env)?;
    if let Some(store) = DynamoStore::configured(&env)? {
        deps = deps.with_revocation(Arc::new(store));
    }
    if let Err(e) = deps.hydrate().await {
        // Not fatal: verification retries after the back-off window and fails meanwhile.
        tracing::error!(error = %e, "JWKS not loaded at init");
    }
    let deps = &deps;
    run(service_fn(move |event: LambdaEvent<AuthorizerEvent>| async move {
        handle_event(deps, &event.payload).await
    }))
    .await
}
