//! Test support: [`spawn_app`] starts a whole local stack (emulator, seeded pool, gateway) on
//! free ports, and [`TestApp`] calls it over real HTTP.

// Test support: a failed set-up should stop the test loudly.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use local_gateway::{LocalStack, LocalStackOptions};
use serde_json::Value;

/// Everything every stack in this process logged, so tests can check what never reaches a log.
static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = self.0.lock() {
            logs.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Arc<Mutex<Vec<u8>>> {
    LOGS.get_or_init(|| {
        let sink = Arc::new(Mutex::new(Vec::new()));
        let writer = LogSink(Arc::clone(&sink));
        // Debug level and every target: the SDK's own logs are checked too.
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        sink
    })
    .clone()
}

/// Everything logged so far by any stack in this test process.
pub fn captured_logs() -> String {
    let sink = capture_logs();
    let logs = sink.lock().map(|l| l.clone()).unwrap_or_default();
    String::from_utf8_lossy(&logs).into_owned()
}

/// Waits until the next Unix second has begun: a revocation refuses tokens issued in its own
/// second, so a sign-in that must pass waits for the next one (as the README tells clients to).
pub async fn next_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let left = std::time::Duration::from_secs(1) - std::time::Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(left + std::time::Duration::from_millis(20)).await;
}

/// The RFC 6238 code (HMAC-SHA1, 6 digits, 30-second steps) an authenticator app shows at
/// `unix_seconds` for a base32 `secret` (padding and case as Cognito's vary).
pub fn totp_code(secret: &str, unix_seconds: u64) -> String {
    use aws_lc_rs::hmac;
    let mut normalized: String = secret
        .chars()
        .filter(|c| *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    while !normalized.len().is_multiple_of(8) {
        normalized.push('=');
    }
    // Lenient about the unused bits of the last character, as authenticator apps are (the
    // emulator's 12-character secret has some set).
    let mut spec = data_encoding::BASE32.specification();
    spec.check_trailing_bits = false;
    let base32 = spec.encoding().expect("base32 specification");
    let key = base32.decode(normalized.as_bytes()).expect("a base32 secret");
    let step = unix_seconds / 30;
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &key),
        &step.to_be_bytes(),
    );
    let digest = tag.as_ref();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// The code for `secret` now, first waiting out the end of a 30-second step if fewer than 3
/// seconds are left (the emulator accepts only the current step).
pub async fn current_totp(secret: &str) -> String {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    };
    let left = 30 - now().as_secs() % 30;
    if left < 3 {
        tokio::time::sleep(std::time::Duration::from_secs(left)).await;
    }
    totp_code(secret, now().as_secs())
}

/// A running stack and an HTTP client for it.
pub struct TestApp {
    /// The stack.
    pub stack: LocalStack,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A response, its body read.
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body as JSON (`Null` when empty or not JSON).
    pub body: Value,
    /// The body as text.
    pub raw: String,
}

impl TestResponse {
    /// The problem's `code`, or "" for a body without one.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Starts a fresh stack with its own emulator, pool and gateway.
pub async fn spawn_app() -> TestApp {
    capture_logs();
    let stack = LocalStack::start(LocalStackOptions::default())
        .await
        .unwrap_or_else(|e| panic!("local stack did not start: {e}"));
    TestApp {
        stack,
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

impl TestApp {
    /// The gateway URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.base_url)
    }

    /// Sends a request with the given headers and raw body bytes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body.into())).expect("request");
        let response = self.client.request(request).await.expect("gateway answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&raw).unwrap_or(Value::Null)
        };
        TestResponse {
            status,
            headers,
            body,
            raw,
        }
    }

    /// POSTs a JSON body.
    pub async fn post_json(&self, path: &str, body: &Value) -> TestResponse {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
    }

    /// POSTs a JSON body with a bearer token.
    pub async fn post_json_with_token(&self, path: &str, token: &str, body: &Value) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/json"), ("authorization", &auth)],
            body.to_string(),
        )
        .await
    }

    /// Any method, with a bearer token and an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, token: &str, body: Option<&Value>) -> TestResponse {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let bytes = body.map(Value::to_string).unwrap_or_default();
        self.send(method, path, &headers, bytes).await
    }

    /// The emulator's Cognito, for what a test sets up outside the API.
    pub fn cognito(&self) -> aws_sdk_cognitoidentityprovider::Client {
        local_gateway::seed::emulator_client(&self.stack.emulator_url)
    }

    /// Sets a user's password as permanent, so they can sign in without a challenge.
    pub async fn set_permanent_password(&self, username: &str, password: &str) {
        self.cognito()
            .admin_set_user_password()
            .user_pool_id(&self.stack.pool.user_pool_id)
            .username(username)
            .password(password)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
    }

    /// GETs with a bearer token.
    pub async fn get_with_token(&self, path: &str, token: &str) -> TestResponse {
        let auth = format!("Bearer {token}");
        self.send(Method::GET, path, &[("authorization", &auth)], Bytes::new())
            .await
    }

    /// Signs in and answers the token response body.
    pub async fn sign_in(&self, username: &str, password: &str) -> Value {
        let response = self
            .post_json(
                "/auth/sign-in",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(response.status, 200, "sign-in failed: {}", response.raw);
        response.body
    }

    /// Stops the stack.
    pub async fn stop(self) {
        self.stack.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::totp_code;

    #[test]
    fn totp_codes_match_rfc_6238s_test_vectors() {
        // RFC 6238 appendix B, SHA1, the last six of the eight digits.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp_code(secret, 59), "287082");
        assert_eq!(totp_code(secret, 1_111_111_109), "081804");
        assert_eq!(totp_code(secret, 2_000_000_000), "279037");
        // Lower case and missing padding, as the emulator's secret comes.
        assert_eq!(totp_code("asdfasdfasdf", 59), totp_code("ASDFASDFASDF====", 59));
    }
}
