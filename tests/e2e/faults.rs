//! Faults, end to end: what callers get while a dependency is gone, slow or lying, and that the
//! stack comes back without a restart. The bounds are generous wall-clock limits that prove
//! "never hangs", not performance figures.

use std::time::{Duration, Instant};

use http::Method;
use integration_tests::{TestApp, next_second, spawn_app, spawn_app_with, token};
use local_gateway::LocalStackOptions;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longer than any configured time-out (Cognito's 7 s with retries, JWKS 3 s), far shorter
/// than a hang.
const NEVER_HANGS: Duration = Duration::from_secs(20);

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test]
async fn with_the_emulator_gone_calls_answer_503_and_recover_once_it_is_back() {
    let mut app = spawn_app().await;
    let demo = app.stack.pool.demo.clone();
    let access = app.admin_token().await;
    assert_eq!(app.get_with_token("/auth/me", &access).await.status, 200);

    app.stack.kill_emulator().await;
    for (method, path, body) in [
        (
            Method::POST,
            "/auth/sign-in",
            Some(json!({"username": demo.username, "password": demo.password})),
        ),
        (Method::GET, "/auth/me", None),
    ] {
        let started = Instant::now();
        let response = match &body {
            Some(body) => app.post_json(path, body).await,
            None => app.get_with_token(path, &access).await,
        };
        assert!(
            started.elapsed() < NEVER_HANGS,
            "{method} {path} took {:?}",
            started.elapsed()
        );
        assert_eq!(
            (response.status.as_u16(), response.code()),
            (503, "IdentityProviderUnavailable"),
            "{}",
            response.raw
        );
        assert_eq!(
            response.headers.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("1")
        );
    }

    app.stack.restart_emulator().await.expect("the emulator starts again");
    // The same functions, not restarted: the new emulator's pool has the ids they know.
    next_second().await;
    let again = app.sign_in(&demo.username, &demo.password).await;
    let me = app.get_with_token("/auth/me", &token(&again, "accessToken")).await;
    assert_eq!(me.status, 200, "{}", me.raw);
    app.stop().await;
}

/// Serves `answer` (a whole HTTP response, or nothing when `None`: the connection is held
/// open and never answered) to every connection on `port`.
async fn serve_on(port: u16, answer: Option<Vec<u8>>) -> tokio::task::JoinHandle<()> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = [0_u8; 4096];
                let _ = socket.read(&mut buf).await;
                match answer {
                    Some(bytes) => {
                        let _ = socket.write_all(&bytes).await;
                        let _ = socket.shutdown().await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(3600)).await,
                }
            });
        }
    })
}

fn http_answer(body: &[u8]) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    answer
}

async fn app_with_jwks_at(port: u16, backoff_seconds: u64) -> TestApp {
    spawn_app_with(LocalStackOptions {
        authorizer_env: vec![
            ("COGNITO_JWKS_URL".into(), format!("http://127.0.0.1:{port}/jwks.json")),
            ("JWKS_BACKOFF_SECONDS".into(), backoff_seconds.to_string()),
            ("JWKS_FETCH_TIMEOUT_MS".into(), "1000".into()),
        ],
        authorizer_cache: Some(Duration::ZERO),
        ..LocalStackOptions::default()
    })
    .await
}

#[tokio::test]
async fn without_keys_at_cold_start_the_gateway_answers_503_never_an_allow_and_recovers() {
    let port = closed_port();
    let app = app_with_jwks_at(port, 1).await;
    let access = app.admin_token().await;
    let refused = app.get_with_token("/auth/me", &access).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (503, "AuthorizationUnavailable"),
        "{}",
        refused.raw
    );
    assert_eq!(
        refused.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );

    // The keys come back (the emulator's own JWKS, served where the authorizer looks).
    let jwks_url = format!(
        "{}/{}/.well-known/jwks.json",
        app.stack.emulator_url, app.stack.pool.user_pool_id
    );
    let jwks = reqwest_get(&jwks_url).await;
    let _server = serve_on(port, Some(http_answer(&jwks))).await;
    let started = Instant::now();
    loop {
        let response = app.get_with_token("/auth/me", &access).await;
        if response.status == 200 {
            break;
        }
        assert_eq!(response.status, 503, "{}", response.raw);
        assert!(started.elapsed() < NEVER_HANGS, "no recovery after the back-off");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    app.stop().await;
}

/// A GET through a plain HTTP/1.1 exchange (the emulator's JWKS).
async fn reqwest_get(url: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<hyper::body::Bytes>>();
    let response = client.get(url.parse().expect("url")).await.expect("GET");
    response.into_body().collect().await.expect("body").to_bytes().to_vec()
}

#[tokio::test]
async fn a_slow_huge_or_malformed_jwks_is_bounded_and_refused() {
    let huge = http_answer(&vec![b' '; 8 * 1024 * 1024]);
    for (what, answer) in [
        ("slow", None),
        ("huge", Some(huge)),
        (
            "malformed",
            Some(http_answer(b"{\"keys\": [{\"kty\": \"RSA\", \"n\": 5}")),
        ),
    ] {
        let port = closed_port();
        let _server = serve_on(port, answer).await;
        let app = app_with_jwks_at(port, 30).await;
        let access = app.admin_token().await;
        let started = Instant::now();
        let refused = app.get_with_token("/auth/me", &access).await;
        assert!(started.elapsed() < NEVER_HANGS, "{what}: {:?}", started.elapsed());
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (503, "AuthorizationUnavailable"),
            "{what}: {}",
            refused.raw
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn an_unreachable_revocation_store_fails_closed_by_default_and_open_when_chosen() {
    for (fail_open, expected) in [(false, 503), (true, 200)] {
        let mut authorizer_env = vec![("REVOCATION_TIMEOUT_MS".to_owned(), "300".to_owned())];
        if fail_open {
            authorizer_env.push(("REVOCATION_FAIL_OPEN".into(), "true".into()));
        }
        let app = spawn_app_with(LocalStackOptions {
            revocation_endpoint: Some(format!("http://127.0.0.1:{}", closed_port())),
            authorizer_env,
            authorizer_cache: Some(Duration::ZERO),
            ..LocalStackOptions::default()
        })
        .await;
        let access = app.admin_token().await;
        let started = Instant::now();
        let response = app.get_with_token("/auth/me", &access).await;
        assert!(started.elapsed() < NEVER_HANGS);
        assert_eq!(
            response.status.as_u16(),
            expected,
            "fail open {fail_open}: {}",
            response.raw
        );
        if !fail_open {
            assert_eq!(response.code(), "AuthorizationUnavailable");
        }
        app.stop().await;
    }
}

/// Sends raw bytes on a new connection and answers what came back before the server closed
/// or `within` passed.
async fn raw_exchange(app: &TestApp, bytes: &[u8], close_write: bool, within: Duration) -> String {
    let address = app.stack.base_url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    if close_write {
        stream.shutdown().await.expect("shutdown");
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(within, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_body_cut_short_or_lying_about_its_length_is_400_and_the_gateway_keeps_serving() {
    let app = spawn_app().await;
    let cut_short = b"POST /auth/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":";
    let answer = raw_exchange(&app, cut_short, true, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("ValidationFailed"), "{answer}");

    // Fewer bytes announced than sent: the body read is cut at the length (invalid JSON, 400),
    // and the rest is not a request (hyper's own 400, connection closed).
    let lying = b"POST /auth/sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"username\":\"ada\",\"password\":\"x\"}";
    let answer = raw_exchange(&app, lying, false, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains(" 500 "), "{answer}");

    // Still serving.
    let ok = app.send(Method::GET, "/openapi.json", &[], "").await;
    assert_eq!(ok.status, 200);
    let bad = app.post_json("/auth/sign-in", &json!({"username": 1})).await;
    assert_eq!(bad.status, 400);
    app.stop().await;
}
