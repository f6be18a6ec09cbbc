//! `make check-pool POOL=<user pool id> CLIENT=<app client id>`: the check the `admin_users`
//! function makes of its pool and client on its first call (`account_api::pool_check`), run
//! before a deploy with the caller's AWS credentials (the SDK's standard chain; it needs
//! `cognito-idp:DescribeUserPool` and `cognito-idp:DescribeUserPoolClient`).
//! `TRUSTED_CLAIM_ATTRIBUTES` names the attributes the rules trust (default `custom:team`).
//! Exits 0 when the pool can be trusted, 1 with every problem when not, 2 when it cannot tell.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use account_api::cognito::{CognitoIdentityProvider, CognitoSettings, IdentityProvider};
use account_api::pool_check::{problems, trusted_attributes};
use auth_contract::config::{Env, region_of};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pool, client] = args.as_slice() else {
        eprintln!("usage: check-pool <user pool id> <app client id>");
        return ExitCode::from(2);
    };
    let Some(region) = region_of(pool) else {
        eprintln!("check-pool: `{pool}` is not a user pool id (region_suffix)");
        return ExitCode::from(2);
    };
    let trusted = match trusted_attributes(&Env::process()) {
        Ok(trusted) => trusted,
        Err(e) => {
            eprintln!("check-pool: {e}");
            return ExitCode::from(2);
        }
    };
    let settings = CognitoSettings {
        region: region.to_owned(),
        user_pool_id: pool.clone(),
        client_id: client.clone(),
        client_secret: None,
        team_attribute: "custom:team".into(),
    };
    let idp = CognitoIdentityProvider::connect(settings).await;
    let facts = match idp.describe_pool().await {
        Ok(facts) => facts,
        Err(e) => {
            eprintln!("check-pool: the pool could not be described: {e}");
            return ExitCode::from(2);
        }
    };
    let found = problems(&facts, &trusted);
    if found.is_empty() {
        println!(
            "{pool} / {client}: no user can set what the rules trust ({})",
            trusted.join(", ")
        );
        ExitCode::SUCCESS
    } else {
        for problem in &found {
            println!("{pool} / {client}: {problem}");
        }
        ExitCode::from(1)
    }
}
