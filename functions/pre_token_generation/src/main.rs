//! Lambda entry point: wiring only. The trigger's logic is `token_claims::TokenClaims::apply`.

use auth_contract::config::Env;
use aws_lambda_events::event::cognito::CognitoEventUserPoolsPreTokenGenV2;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use token_claims::TokenClaims;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_logging::init();
    let claims = TokenClaims::from_env(&Env::process())?;
    let claims = &claims;
    run(service_fn(
        move |event: LambdaEvent<CognitoEventUserPoolsPreTokenGenV2>| async move {
            let mut answer = event.payload;
            claims.apply(&mut answer);
            Ok::<_, Error>(answer)
        },
    ))
    .await
}
