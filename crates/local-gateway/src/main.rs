//! `make dev`: the local stack on http://127.0.0.1:3000 until Ctrl-C.
//!
//! Options (flags or environment): `--port` / `LOCAL_GATEWAY_PORT` (default 3000),
//! `--emulator-port` / `LOCAL_COGNITO_PORT` (default 5000), `--host` / `LOCAL_GATEWAY_HOST`
//! (default 127.0.0.1).

use std::net::IpAddr;
use std::process::ExitCode;

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
        ..LocalStackOptions::default()
    };
    if let Some(port) = option(&args, "--port", "LOCAL_GATEWAY_PORT") {
        options.port = port.parse().map_err(|_| format!("invalid gateway port {port}"))?;
    }
    if let Some(port) = option(&args, "--emulator-port", "LOCAL_COGNITO_PORT") {
        options.emulator_port = port.parse().map_err(|_| format!("invalid emulator port {port}"))?;
    }
    if let Some(host) = option(&args, "--host", "LOCAL_GATEWAY_HOST") {
        options.host = host.parse::<IpAddr>().map_err(|_| format!("invalid host {host}"))?;
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_target(false)
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
    let url = &stack.base_url;
    let demo = &stack.pool.demo;
    eprintln!(
        r#"
Local stack ready.
  API:            {url}
  Local Cognito:  {emulator} (user pool {pool}, app client {client})
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

Ctrl-C stops the gateway and the local Cognito.
"#,
        emulator = stack.emulator_url,
        pool = stack.pool.user_pool_id,
        client = stack.pool.client_id,
        user = demo.username,
        password = demo.password,
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("local-gateway: cannot wait for Ctrl-C: {e}");
    }
    eprintln!("stopping");
    stack.stop().await;
    ExitCode::SUCCESS
}
