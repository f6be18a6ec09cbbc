//! The user pool domain's OAuth endpoints: the URLs the browser is sent to (`/oauth2/authorize`,
//! `/logout`) and the calls this API makes itself (`POST /oauth2/token`, `GET /oauth2/userInfo`),
//! over HTTPS (plain HTTP only for a stand-in on loopback), bounded in time and size, never
//! following redirects.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use https_client::HttpsClient;
use hyper::body::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::pkce::CodeVerifier;

/// Largest answer read from an endpoint.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The longest a call may take, connection included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A failed call to an endpoint. What the caller is told is the handler's business.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// The endpoint answered with an OAuth error (`invalid_grant`...).
    #[error("the endpoint refused: {error} (HTTP {status})")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The OAuth `error` code, or `invalid_token` from `WWW-Authenticate`; empty if none.
        error: String,
    },
    /// No answer in time, no connection, or a 5xx.
    #[error("the endpoint is unavailable: {0}")]
    Unavailable(String),
    /// An answer that is not what the endpoint documents.
    #[error("unexpected answer from the endpoint: {0}")]
    Unexpected(String),
}

/// Tokens from the token endpoint.
#[derive(Deserialize)]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: SecretString,
    /// The ID token (present when `openid` was asked for).
    pub id_token: Option<SecretString>,
    /// The refresh token.
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token is valid.
    pub expires_in: i64,
    /// `Bearer`.
    pub token_type: String,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
}

/// The pool domain's endpoints for one app client.
pub struct CognitoDomain {
    base: String,
    client_id: String,
    client_secret: Option<SecretString>,
    http: HttpsClient<Full<Bytes>>,
}

impl CognitoDomain {
    /// `base` is the domain's URL (`https://<prefix>.auth.<region>.amazoncognito.com`).
    pub fn new(base: &str, client_id: &str, client_secret: Option<SecretString>) -> Result<Self, String> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            http: https_client::client().map_err(|e| e.to_string())?,
        })
    }

    /// The app client's id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Where the browser signs in: `/oauth2/authorize` with the code flow and PKCE S256.
    pub fn authorize_url(&self, redirect_uri: &str, scopes: &str, state: &str, challenge: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scopes)
            .append_pair("state", state)
            .append_pair("code_challenge_method", "S256")
            .append_pair("code_challenge", challenge)
            .finish();
        format!("{}/oauth2/authorize?{query}", self.base)
    }

    /// Where the browser signs out of the managed login page, then returns to `sign_out_uri`.
    pub fn logout_url(&self, sign_out_uri: &str) -> String {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id)
            .append_pair("logout_uri", sign_out_uri)
            .finish();
        format!("{}/logout?{query}", self.base)
    }

    /// Redeems an authorization code (`grant_type=authorization_code`), authenticating the
    /// client with HTTP Basic when it has a secret.
    pub async fn exchange_code(
        &self,
        code: &SecretString,
        redirect_uri: &str,
        verifier: &CodeVerifier,
    ) -> Result<IssuedTokens, EndpointError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("client_id", &self.client_id)
            .append_pair("code", code.expose_secret())
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier.expose_secret())
            .finish();
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/oauth2/token", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "oauth-flow");
        if let Some(secret) = &self.client_secret {
            let credentials = STANDARD.encode(format!("{}:{}", self.client_id, secret.expose_secret()));
            let mut value = HeaderValue::from_str(&format!("Basic {credentials}"))
                .map_err(|_| EndpointError::Unexpected("client credentials are not a header value".into()))?;
            value.set_sensitive(true);
            request = request.header(AUTHORIZATION, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| EndpointError::Unexpected(format!("bad request: {e}")))?;
        let (status, _, bytes) = self.call(request).await?;
        if status == StatusCode::OK {
            return serde_json::from_slice(&bytes)
                .map_err(|_| EndpointError::Unexpected("a token answer that is not the documented JSON".into()));
        }
        let error = serde_json::from_slice::<OAuthErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_default();
        Err(EndpointError::Refused {
            status: status.as_u16(),
            error,
        })
    }

    /// The user's claims from `/oauth2/userInfo` for an access token.
    pub async fn user_info(
        &self,
        access_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, EndpointError> {
        let mut bearer = HeaderValue::from_str(&format!("Bearer {access_token}"))
            .map_err(|_| EndpointError::Unexpected("a token that is not a header value".into()))?;
        bearer.set_sensitive(true);
        let request = Request::builder()
            .method(Method::GET)
            .uri(format!("{}/oauth2/userInfo", self.base))
            .header(AUTHORIZATION, bearer)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "oauth-flow")
            .body(Full::new(Bytes::new()))
            .map_err(|e| EndpointError::Unexpected(format!("bad request: {e}")))?;
        let (status, www_authenticate, bytes) = self.call(request).await?;
        if status == StatusCode::OK {
            return serde_json::from_slice(&bytes)
                .map_err(|_| EndpointError::Unexpected("a userInfo answer that is not a JSON object".into()));
        }
        let error = serde_json::from_slice::<OAuthErrorBody>(&bytes)
            .map(|b| b.error)
            .ok()
            .or_else(|| www_authenticate.as_deref().and_then(error_of_challenge))
            .unwrap_or_default();
        Err(EndpointError::Refused {
            status: status.as_u16(),
            error,
        })
    }

    /// Sends `request` within [`CALL_TIMEOUT`]: the status, `WWW-Authenticate` and the body;
    /// a 5xx, a time-out or a transport failure is `Unavailable`.
    async fn call(&self, request: Request<Full<Bytes>>) -> Result<(StatusCode, Option<String>, Bytes), EndpointError> {
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| EndpointError::Unavailable(format!("transport: {e}")))?;
            let status = response.status();
            if status.is_server_error() {
                return Err(EndpointError::Unavailable(format!("HTTP {status}")));
            }
            let www_authenticate = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| EndpointError::Unavailable(format!("body: {e}")))?
                .to_bytes();
            Ok((status, www_authenticate, body))
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| EndpointError::Unavailable(format!("no answer within {} s", CALL_TIMEOUT.as_secs())))?
    }
}

/// `invalid_token` from `Bearer error="invalid_token", error_description="..."`.
fn error_of_challenge(challenge: &str) -> Option<String> {
    let start = challenge.find("error=\"")? + "error=\"".len();
    let rest = &challenge[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

#[cfg(test)]
mod tests;
