//! A stand-in for the user pool domain's OAuth endpoints, which the emulator does not have, so
//! the whole redirect dance of the managed login page runs on a laptop.
//!
//! - `GET /oauth2/authorize`: checks the client, the registered redirect URI and PKCE S256 as
//!   Cognito does, and shows a minimal sign-in form (no styling, no sign-up, no federation).
//! - `POST /oauth2/login`: signs the user in against the emulator (USER_PASSWORD_AUTH) and
//!   redirects with a code; "Cancel" redirects with `error=access_denied`.
//! - `POST /oauth2/token`: `grant_type=authorization_code` only; codes are single-use, expire
//!   after 5 minutes, are bound to their client, redirect URI and PKCE challenge; refusals are
//!   Cognito's `400 {"error": ...}` bodies.
//! - `GET /oauth2/userInfo`: answers only for access tokens it issued through the code flow and
//!   that the emulator still accepts; refuses others as Cognito refuses tokens without the
//!   `openid` scope (401, `WWW-Authenticate: Bearer error="invalid_token"`).
//! - `GET /logout`: redirects to `logout_uri` when it is the registered one.
//!
//! What it does not prove about Cognito: the tokens are the emulator's (their `scope` claim is
//! not the one Cognito puts in OAuth tokens), the login page is not Cognito's, sessions on the
//! login page are not kept (every authorize shows the form), and error pages are plain text.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use tokio::net::TcpListener;

/// How long a code can be redeemed, as Cognito's.
pub const CODE_LIFETIME: Duration = Duration::from_secs(300);
/// Largest form accepted.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// The one app client the stand-in serves, as the template registers it.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// The client id.
    pub client_id: String,
    /// `CallbackURLs`.
    pub callback_urls: Vec<String>,
    /// `LogoutURLs`.
    pub logout_urls: Vec<String>,
}

struct Grant {
    username: String,
    redirect_uri: String,
    challenge: String,
    tokens: serde_json::Value,
    issued: Instant,
}

/// The stand-in's state.
pub struct OAuthStandIn {
    cognito: Client,
    client: RegisteredClient,
    codes: Mutex<HashMap<String, Grant>>,
    access_tokens: Mutex<HashSet<String>>,
}

type Answer = Response<Full<Bytes>>;

fn text(status: StatusCode, body: &str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn html(body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static("text/html; charset=utf-8"));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

fn oauth_error(error: &str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(format!(r#"{{"error":"{error}"}}"#))));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

fn found(location: &str) -> Answer {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::FOUND;
    if let Ok(value) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `url` with `pairs` added to its query.
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

fn random_code() -> String {
    let mut bytes = [0_u8; 24];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The parameters of an authorization request, checked as Cognito checks them.
struct AuthorizeRequest {
    redirect_uri: String,
    state: String,
    challenge: String,
}

impl OAuthStandIn {
    /// A stand-in for `client`, signing users in against `cognito` (the emulator).
    pub fn new(cognito: Client, client: RegisteredClient) -> Self {
        Self {
            cognito,
            client,
            codes: Mutex::new(HashMap::new()),
            access_tokens: Mutex::new(HashSet::new()),
        }
    }

    async fn handle(&self, request: Request<Incoming>, pool_id: &str) -> Answer {
        let (parts, body) = request.into_parts();
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        match (&parts.method, parts.uri.path()) {
            (&Method::GET, "/oauth2/authorize") => self.authorize(&query),
            (&Method::POST, "/oauth2/login") => match read_form(&parts.headers, body).await {
                Some(form) => self.login(&form, pool_id).await,
                None => text(StatusCode::BAD_REQUEST, "a form is expected"),
            },
            (&Method::POST, "/oauth2/token") => {
                let authorization = parts
                    .headers
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match read_form(&parts.headers, body).await {
                    Some(form) => self.token(&form, authorization.as_deref()),
                    None => oauth_error("invalid_request"),
                }
            }
            (&Method::GET, "/oauth2/userInfo") => {
                let bearer = parts
                    .headers
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_owned);
                self.user_info(bearer.as_deref()).await
            }
            (&Method::GET, "/logout") => self.logout(&query),
            _ => text(StatusCode::NOT_FOUND, "not found"),
        }
    }

    /// The checks Cognito makes before showing its page: an unknown client or redirect URI is
    /// an error page (never a redirect); a bad PKCE or response type goes back as `error=`.
    fn check_authorize(&self, query: &HashMap<String, String>) -> Result<AuthorizeRequest, Box<Answer>> {
        let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
        if get("client_id") != self.client.client_id {
            return Err(Box::new(text(
                StatusCode::BAD_REQUEST,
                "An error was encountered with the requested page: invalid client_id",
            )));
        }
        let redirect_uri = get("redirect_uri");
        if !self.client.callback_urls.iter().any(|u| u == redirect_uri) {
            return Err(Box::new(text(
                StatusCode::BAD_REQUEST,
                "An error was encountered with the requested page: redirect_mismatch",
            )));
        }
        let state = get("state").to_owned();
        let invalid = |error: &str| {
            let mut pairs = vec![("error", error)];
            if !state.is_empty() {
                pairs.push(("state", state.as_str()));
            }
            Box::new(found(&with_query(redirect_uri, &pairs)))
        };
        if get("response_type") != "code" {
            return Err(invalid("unsupported_response_type"));
        }
        if get("code_challenge_method") != "S256" || get("code_challenge").len() < 43 {
            return Err(invalid("invalid_request"));
        }
        Ok(AuthorizeRequest {
            redirect_uri: redirect_uri.to_owned(),
            state,
            challenge: get("code_challenge").to_owned(),
        })
    }

    fn authorize(&self, query: &HashMap<String, String>) -> Answer {
        match self.check_authorize(query) {
            Ok(request) => html(login_page(&self.client.client_id, &request, None)),
            Err(answer) => *answer,
        }
    }

    async fn login(&self, form: &HashMap<String, String>, pool_id: &str) -> Answer {
        let mut query = form.clone();
        query.insert("response_type".into(), "code".into());
        query.insert("code_challenge_method".into(), "S256".into());
        let request = match self.check_authorize(&query) {
            Ok(request) => request,
            Err(answer) => return *answer,
        };
        let state_pair = |pairs: &mut Vec<(&str, String)>| {
            if !request.state.is_empty() {
                pairs.push(("state", request.state.clone()));
            }
        };
        if form.contains_key("cancel") {
            let mut pairs = vec![("error", "access_denied".to_owned())];
            state_pair(&mut pairs);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            return found(&with_query(&request.redirect_uri, &pairs));
        }
        let username = form.get("username").cloned().unwrap_or_default();
        let password = form.get("password").cloned().unwrap_or_default();
        let signed_in = self
            .cognito
            .initiate_auth()
            .client_id(&self.client.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &username)
            .auth_parameters("PASSWORD", &password)
            .send()
            .await;
        let result = match signed_in {
            Ok(output) => output.authentication_result().cloned(),
            Err(_) => None,
        };
        let Some(result) = result else {
            let page = login_page(
                &self.client.client_id,
                &request,
                Some("Incorrect username or password (challenges are not supported here)."),
            );
            return html(page);
        };
        let tokens = serde_json::json!({
            "id_token": result.id_token().unwrap_or_default(),
            "access_token": result.access_token().unwrap_or_default(),
            "refresh_token": result.refresh_token().unwrap_or_default(),
            "expires_in": result.expires_in(),
            "token_type": "Bearer",
        });
        let code = random_code();
        if let Ok(mut codes) = self.codes.lock() {
            codes.insert(
                code.clone(),
                Grant {
                    username,
                    redirect_uri: request.redirect_uri.clone(),
                    challenge: request.challenge.clone(),
                    tokens,
                    issued: Instant::now(),
                },
            );
        }
        tracing::debug!(pool = pool_id, "stand-in login page issued a code");
        let mut pairs = vec![("code", code)];
        state_pair(&mut pairs);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        found(&with_query(&request.redirect_uri, &pairs))
    }

    fn token(&self, form: &HashMap<String, String>, authorization: Option<&str>) -> Answer {
        let get = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        let client_id = match authorization.and_then(|a| a.strip_prefix("Basic ")) {
            Some(basic) => STANDARD
                .decode(basic)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|pair| pair.split_once(':').map(|(id, _)| id.to_owned()))
                .unwrap_or_default(),
            None => get("client_id").to_owned(),
        };
        if client_id != self.client.client_id {
            return oauth_error("invalid_client");
        }
        if get("grant_type") != "authorization_code" {
            return oauth_error("unsupported_grant_type");
        }
        // Single use: the code is gone whatever happens next.
        let grant = self.codes.lock().ok().and_then(|mut codes| codes.remove(get("code")));
        let Some(grant) = grant else {
            return oauth_error("invalid_grant");
        };
        let verifier_matches =
            URL_SAFE_NO_PAD.encode(digest(&SHA256, get("code_verifier").as_bytes())) == grant.challenge;
        if grant.issued.elapsed() > CODE_LIFETIME || grant.redirect_uri != get("redirect_uri") || !verifier_matches {
            return oauth_error("invalid_grant");
        }
        if let (Some(access), Ok(mut issued)) = (grant.tokens["access_token"].as_str(), self.access_tokens.lock()) {
            issued.insert(access.to_owned());
        }
        tracing::debug!(username = %grant.username, "stand-in token endpoint redeemed a code");
        let mut response = Response::new(Full::new(Bytes::from(grant.tokens.to_string())));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        response
    }

    async fn user_info(&self, bearer: Option<&str>) -> Answer {
        let refused = || {
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                http::HeaderValue::from_static(
                    r#"Bearer error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out.""#,
                ),
            );
            response
        };
        let Some(token) = bearer else { return refused() };
        let known = self.access_tokens.lock().map(|t| t.contains(token)).unwrap_or(false);
        if !known {
            return refused();
        }
        // The emulator knows whether the token was signed out since.
        let Ok(user) = self.cognito.get_user().access_token(token).send().await else {
            return refused();
        };
        let mut claims = serde_json::Map::new();
        for attribute in user.user_attributes() {
            claims.insert(
                attribute.name().to_owned(),
                serde_json::Value::String(attribute.value().unwrap_or_default().to_owned()),
            );
        }
        claims.insert("username".into(), serde_json::Value::String(user.username().to_owned()));
        let mut response = Response::new(Full::new(Bytes::from(serde_json::Value::Object(claims).to_string())));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
        response
    }

    fn logout(&self, query: &HashMap<String, String>) -> Answer {
        let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
        if get("client_id") != self.client.client_id || !self.client.logout_urls.iter().any(|u| u == get("logout_uri"))
        {
            return text(
                StatusCode::BAD_REQUEST,
                "An error was encountered with the requested page: invalid logout_uri",
            );
        }
        found(get("logout_uri"))
    }
}

async fn read_form(headers: &http::HeaderMap, body: Incoming) -> Option<HashMap<String, String>> {
    let form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return None;
    }
    let bytes = Limited::new(body, MAX_FORM_BYTES).collect().await.ok()?.to_bytes();
    Some(form_urlencoded::parse(&bytes).into_owned().collect())
}

fn login_page(client_id: &str, request: &AuthorizeRequest, error: Option<&str>) -> String {
    let hidden = |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value));
    let error = error
        .map(|e| format!(r#"<p id="error">{}</p>"#, escape(e)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in (local stand-in)</title></head>
<body>
<h1>Sign in</h1>
<p>Local stand-in for the managed login page.</p>
{error}
<form method="post" action="/oauth2/login">
{client}{redirect}{state}{challenge}
<label>Username <input id="username" name="username" autocomplete="username"></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="sign-in" type="submit">Sign in</button>
<button id="cancel" type="submit" name="cancel" value="1">Cancel</button>
</form>
</body></html>"#,
        client = hidden("client_id", client_id),
        redirect = hidden("redirect_uri", &request.redirect_uri),
        state = hidden("state", &request.state),
        challenge = hidden("code_challenge", &request.challenge),
    )
}

/// Serves the stand-in until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    standin: Arc<OAuthStandIn>,
    pool_id: String,
    shutdown: impl Future<Output = ()>,
) {
    crate::serve::serve(
        listener,
        move |request| {
            let standin = Arc::clone(&standin);
            let pool_id = pool_id.clone();
            async move { standin.handle(request, &pool_id).await }
        },
        shutdown,
    )
    .await;
}
