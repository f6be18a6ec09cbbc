//! `make dev`: the local stack on http://127.0.0.1:3000 until Ctrl-C.
//!
//! Options (flags or environment): `--port` / `LOCAL_GATEWAY_PORT` (default 3000),
//! `--emulator-port` / `LOCAL_COGNITO_PORT` (default 5000), `--oauth-port` / `LOCAL_OAUTH_PORT`
//! (the managed login page's stand-in, default 3001), `--host` / `LOCAL_GATEWAY_HOST` (default
//! 127.0.0.1); `RECENT_AUTH_SECONDS` as the functions read it (default 300).

use std::io::IsTerminal;
use std::net::IpAddr;
use std::process::ExitCode;

use auth_contract::config::Env;
use auth_contract::freshness::RecentAuth;
use local_gateway::{LocalStack, LocalStackOptions};
use tracing_subscriber::EnvFilter;

fn option(args: &[String], flag: &str, env: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var(env).ok())
}

fn parse_options() -> Result<LocalStackOptions, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = LocalStackOptions {
        port: 3000,
        emulator_port: 5000,
        oauth_port: 3001,
        ..LocalStackOptions::default()
    };
    if let Some(port) = option(&args, "--port", "LOCAL_GATEWAY_PORT") {
        options.port = port.parse().map_err(|_| format!("invalid gateway port {port}"))?;
    }
    if let Some(port) = option(&args, "--emulator-port", "LOCAL_COGNITO_PORT") {
        options.emulator_port = port.parse().map_err(|_| format!("invalid emulator port {port}"))?;
    }
    if let Some(port) = option(&args, "--oauth-port", "LOCAL_OAUTH_PORT") {
        options.oauth_port = port
            .parse()
            .map_err(|_| format!("invalid OAuth stand-in port {port}"))?;
    }
    if let Some(host) = option(&args, "--host", "LOCAL_GATEWAY_HOST") {
        options.host = host.parse::<IpAddr>().map_err(|_| format!("invalid host {host}"))?;
    }
    options.recent_auth = RecentAuth::from_env(&Env::process()).map_err(|e| e.to_string())?;
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("local-gateway: {message}");
            return ExitCode::from(2);
        }
    };
    let stack = match LocalStack::start(options).await {
        Ok(stack) => stack,
        Err(e) => {
            eprintln!("local-gateway: {e}");
            return ExitCode::FAILURE;
        }
    };
    let env_file = match write_functions_env(&stack) {
        Ok(path) => path.display().to_string(),
        Err(e) => format!("(not written: {e})"),
    };
    let url = &stack.base_url;
    let demo = &stack.pool.demo;
    eprintln!(
        r#"
Local stack ready.
  API:            {url}
  Local Cognito:  {cognito} (the stand-in: rotation and what the emulator lacks), in front of
                  the emulator at {emulator} (user pool {pool}, app client {client})
  Login page:     {oauth} (a stand-in for the pool domain; open {url}/auth/oauth/authorize in a browser)
  JWKS:           {emulator}/{pool}/.well-known/jwks.json
  Demo admin:     {user} / {password}

Try:
  curl -s -X POST {url}/auth/sign-in -H 'content-type: application/json' \
    -d '{{"username":"{user}","password":"{password}"}}'
  TOKEN=...   # accessToken from the answer above
  curl -s {url}/auth/me -H "authorization: Bearer $TOKEN"
  curl -s {url}/admin/users -H "authorization: Bearer $TOKEN"
  curl -s -X POST {url}/auth/sign-up -H 'content-type: application/json' \
    -d '{{"username":"ada","password":"Correct-Horse-1","email":"ada@example.com"}}'

Run the Lambda binaries themselves against this local Cognito (second terminal):
  export PATH=$PWD/.venv/bin:$PATH   # cargo-lambda
  cargo lambda watch --invoke-address 127.0.0.1 --env-file {env_file}
  cargo lambda invoke --invoke-address 127.0.0.1 sign_in --data-file events/sign_in.json

Ctrl-C stops the gateway and the local Cognito.
"#,
        emulator = stack.emulator_url,
        cognito = stack.cognito_url,
        oauth = stack.oauth_url,
        pool = stack.pool.user_pool_id,
        client = stack.pool.client_id,
        user = demo.username,
        password = demo.password,
        env_file = env_file,
    );
    wait_for_stop_signal().await;
    eprintln!("stopping");
    stack.stop().await;
    ExitCode::SUCCESS
}

/// The environment a deployed function would have, pointed at this local Cognito, for
/// `cargo lambda watch --env-file`.
fn write_functions_env(stack: &LocalStack) -> std::io::Result<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.local");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("functions.env");
    let pool = &stack.pool.user_pool_id;
    let emulator = &stack.emulator_url;
    let cognito = &stack.cognito_url;
    let region = local_gateway::seed::REGION;
    let contents = format!(
        "AWS_REGION={region}\n\
         AWS_ACCESS_KEY_ID=local\n\
         AWS_SECRET_ACCESS_KEY=local\n\
         AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER={cognito}\n\
         COGNITO_USER_POOL_ID={pool}\n\
         COGNITO_CLIENT_ID={client}\n\
         COGNITO_ISSUER=https://cognito-idp.{region}.amazonaws.com/{pool}\n\
         COGNITO_JWKS_URL={emulator}/{pool}/.well-known/jwks.json\n\
         AWS_ENDPOINT_URL_DYNAMODB={emulator}\n\
         REVOCATION_TABLE={table}\n\
         TOTP_ISSUER={issuer}\n\
         SIGN_IN_METHODS={methods}\n",
        client = stack.pool.client_id,
        table = local_gateway::seed::REVOCATION_TABLE,
        issuer = local_gateway::stack::TOTP_ISSUER,
        methods = local_gateway::stack::SIGN_IN_METHODS,
    );
    std::fs::write(&path, contents)?;
    Ok(path.canonicalize().unwrap_or(path))
}

/// Ctrl-C, or SIGTERM from a supervisor: either way the emulator is stopped on the way out.
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(e) => {
            eprintln!("local-gateway: cannot listen for SIGTERM ({e}); Ctrl-C still stops it");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
