//! Test support: [`spawn_app`] starts a whole local stack (emulator, seeded pool, gateway) on
//! free ports, and [`TestApp`] calls it over real HTTP, holding every answer to the API
//! contract ([`contract`]).

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

pub mod contract;
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

/// Waits until the next Unix second has begun (token times are whole seconds).
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

/// The token `name` (`accessToken`, `refreshToken`...) of a token response body.
pub fn token(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        .to_owned()
}

/// Starts a fresh stack with its own emulator, pool and gateway.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(LocalStackOptions::default()).await
}

/// [`spawn_app`] with options (a fault test's authorizer settings, say).
pub async fn spawn_app_with(options: LocalStackOptions) -> TestApp {
    capture_logs();
    let stack = Box::pin(LocalStack::start(options))
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
        let method_name = method.clone();
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
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let route = path.split('?').next().unwrap_or_default();
        if let Err(problem) = contract::check(method_name.as_str(), route, status.as_u16(), content_type, &raw) {
            panic!("the answer breaks the API contract (infra/openapi.yaml): {problem}");
        }
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

    /// `POST /auth/respond-to-challenge`: answers `challenge` of `session` for `username`.
    pub async fn respond_to_challenge(
        &self,
        challenge: &str,
        session: &str,
        username: &str,
        responses: Value,
    ) -> TestResponse {
        self.post_json(
            "/auth/respond-to-challenge",
            &serde_json::json!({"challengeName": challenge, "session": session, "username": username, "responses": responses}),
        )
        .await
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

    /// The demo administrator's access token.
    pub async fn admin_token(&self) -> String {
        let demo = &self.stack.pool.demo;
        token(&self.sign_in(&demo.username, &demo.password).await, "accessToken")
    }

    /// An administrator creates `username` with a temporary password, through the API.
    pub async fn create_user(&self, admin: &str, username: &str, temporary_password: &str) {
        let body = serde_json::json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "temporaryPassword": temporary_password,
        });
        let created = self.call(Method::POST, "/admin/users", admin, Some(&body)).await;
        assert_eq!(created.status, 201, "{}", created.raw);
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

/// (host, name) → (value, path, secure).
type CookieJar = std::collections::HashMap<(String, String), (String, String, bool)>;

/// A minimal browser for the OAuth redirect dance: follows redirects and keeps cookies the way
/// a browser does for top-level navigation over plain HTTP (host and `Path` matching, `Max-Age=0`
/// deletes; `Secure` cookies are never sent over `http://`).
pub struct Browser {
    client: Client<HttpConnector, Full<Bytes>>,
    jar: Mutex<CookieJar>,
}

/// One step of a navigation.
#[derive(Debug, Clone)]
pub struct Hop {
    /// The URL requested.
    pub url: String,
    /// Its status.
    pub status: StatusCode,
    /// Its `Location`, if any.
    pub location: Option<String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            jar: Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn host_and_path(url: &str) -> (String, String) {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = path.split('?').next().unwrap_or_default();
        (
            host.to_owned(),
            if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
        )
    }

    /// The `Cookie` header this browser sends to `url`.
    pub fn cookie_header(&self, url: &str) -> String {
        let (host, path) = Self::host_and_path(url);
        let jar = self.jar.lock().unwrap();
        let mut pairs: Vec<String> = jar
            .iter()
            .filter(|((h, _), (_, cookie_path, secure))| {
                *h == host
                    && !*secure
                    && (path == *cookie_path || path.starts_with(&format!("{}/", cookie_path.trim_end_matches('/'))))
            })
            .map(|((_, name), (value, _, _))| format!("{name}={value}"))
            .collect();
        pairs.sort();
        pairs.join("; ")
    }

    /// Sets a cookie by hand (an attacker planting one, a test).
    pub fn set_cookie(&self, url: &str, name: &str, value: &str, path: &str) {
        let (host, _) = Self::host_and_path(url);
        self.jar
            .lock()
            .unwrap()
            .insert((host, name.to_owned()), (value.to_owned(), path.to_owned(), false));
    }

    /// The value of cookie `name` kept for `url`'s host.
    pub fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let (host, _) = Self::host_and_path(url);
        self.jar
            .lock()
            .unwrap()
            .get(&(host, name.to_owned()))
            .map(|(v, _, _)| v.clone())
    }

    fn store(&self, url: &str, headers: &http::HeaderMap) {
        let (host, request_path) = Self::host_and_path(url);
        for set in headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let mut parts = set.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let mut path = request_path
                .rsplit_once('/')
                .map_or("/".to_owned(), |(p, _)| format!("{p}/"));
            let mut delete = false;
            let mut secure = false;
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                match key.to_ascii_lowercase().as_str() {
                    "path" => path = val.to_owned(),
                    "max-age" => delete = val.parse::<i64>().map(|n| n <= 0).unwrap_or(false),
                    "secure" => secure = true,
                    _ => {}
                }
            }
            let mut jar = self.jar.lock().unwrap();
            if delete {
                jar.remove(&(host.clone(), name.to_owned()));
            } else {
                jar.insert((host.clone(), name.to_owned()), (value.to_owned(), path, secure));
            }
        }
    }

    async fn request(
        &self,
        method: Method,
        url: &str,
        form: Option<&[(&str, &str)]>,
    ) -> (TestResponse, Option<String>) {
        let mut builder = Request::builder().method(method).uri(url);
        let cookies = self.cookie_header(url);
        if !cookies.is_empty() {
            builder = builder.header(header::COOKIE, cookies);
        }
        let body = match form {
            Some(fields) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                form_urlencoded_body(fields)
            }
            None => String::new(),
        };
        let response = self
            .client
            .request(builder.body(Full::new(Bytes::from(body))).expect("request"))
            .await
            .expect("the server answers");
        self.store(url, response.headers());
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| resolve(url, l));
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        (
            TestResponse {
                status,
                headers,
                body,
                raw,
            },
            location,
        )
    }

    /// Navigates to `url` (GET, or POST of `form`) and follows redirects while `follow` says
    /// so for the next URL: every hop, and the last answer.
    pub async fn navigate(
        &self,
        url: &str,
        form: Option<&[(&str, &str)]>,
        follow: impl Fn(&str) -> bool,
    ) -> (Vec<Hop>, TestResponse) {
        let mut hops = Vec::new();
        let method = if form.is_some() { Method::POST } else { Method::GET };
        let (mut response, mut location) = self.request(method, url, form).await;
        hops.push(Hop {
            url: url.to_owned(),
            status: response.status,
            location: location.clone(),
        });
        while response.status.is_redirection() {
            let Some(next) = location.clone() else { break };
            if !follow(&next) || hops.len() > 10 {
                break;
            }
            (response, location) = self.request(Method::GET, &next, None).await;
            hops.push(Hop {
                url: next,
                status: response.status,
                location: location.clone(),
            });
        }
        (hops, response)
    }
}

fn form_urlencoded_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A `Location` resolved against the URL that answered it.
fn resolve(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host = rest.split('/').next().unwrap_or_default();
    format!("{scheme}://{host}{location}")
}

/// The `name="..." value="..."` pairs of a page's hidden inputs.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    };
    html.split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            if !tag.contains("type=\"hidden\"") {
                return None;
            }
            Some((attribute(tag, "name")?, attribute(tag, "value")?))
        })
        .collect()
}
