//! The OAuth routes, one Lambda function (`oauth`) for the family, because they share the
//! pool domain's client, the cookie key and the ID-token verifier:
//!
//! - `GET /auth/oauth/authorize?redirectTo=<path>` → 302 to the login page, with the flow
//!   cookie;
//! - `GET /auth/oauth/callback?code&state` → 200 tokens and `redirectTo`;
//! - `POST /auth/oauth/token` `{code, redirectUri, codeVerifier}` → 200 tokens (apps that run
//!   PKCE themselves), and its CORS preflight;
//! - `GET /auth/userinfo` (behind the authorizer) → 200 `{sub, username, email, emailVerified,
//!   attributes}`;
//! - `GET /auth/oauth/logout?redirectTo=<path>` → 302 to the pool domain's `/logout`;
//! - `GET /auth/oauth/signed-out` → 302 to the `redirectTo` the logout remembered.

use std::collections::BTreeMap;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use cognito_jwt::unix_now;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
    ORIGIN, SET_COOKIE, VARY,
};
use http::{HeaderValue, StatusCode};
use http_kit::body::{bearer_token, json_object, route};
use http_kit::inputs::is_visible_ascii;
use http_kit::response::{TokensBody, json, redirect};
use http_kit::{ApiError, respond};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::OAuthApi;
use crate::endpoints::{EndpointError, IssuedTokens};
use crate::pkce::{CodeVerifier, random_token};
use crate::redirect::RelativePath;

/// How long a sign-in may take between the redirect and the callback.
pub const FLOW_SECONDS: u64 = 600;

/// What the flow cookie holds.
#[derive(Serialize, Deserialize)]
struct Flow {
    state: String,
    verifier: String,
    redirect_to: RelativePath,
    expires_at: u64,
}

/// What the sign-out cookie holds.
#[derive(Serialize, Deserialize)]
struct SignOut {
    redirect_to: RelativePath,
    expires_at: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackBody<'a> {
    #[serde(flatten)]
    tokens: TokensBody<'a>,
    redirect_to: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserInfoBody {
    sub: String,
    username: Option<String>,
    email: Option<String>,
    email_verified: bool,
    attributes: BTreeMap<String, String>,
}

/// The Lambda handler: one function for the family, dispatching on the route.
#[instrument(name = "oauth", skip_all)]
pub async fn handler(api: &OAuthApi, request: Request) -> Result<Response<Body>, std::convert::Infallible> {
    let Some((method, resource)) = route(&request) else {
        return Ok(respond(Err(ApiError::internal("no route in the request"))));
    };
    let response = match (method.as_str(), resource.as_str()) {
        ("GET", "/auth/oauth/authorize") => respond(authorize(api, &request)),
        ("GET", "/auth/oauth/callback") => callback(api, &request).await,
        ("POST", "/auth/oauth/token") => with_cors(api, &request, respond(token(api, &request).await)),
        ("OPTIONS", "/auth/oauth/token") => with_cors(api, &request, preflight()),
        ("GET", "/auth/userinfo") => respond(user_info(api, &request).await),
        ("GET", "/auth/oauth/logout") => respond(logout(api, &request)),
        ("GET", "/auth/oauth/signed-out") => respond(signed_out(api, &request)),
        _ => respond(Err(ApiError::internal(format!(
            "oauth is wired to a route it does not serve: {method} {resource}"
        )))),
    };
    Ok(response)
}

/// A query parameter, once (API Gateway has decoded it once already).
fn query<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.query_string_parameters_ref().and_then(|q| q.first(name))
}

/// `redirectTo`, checked; `/` when absent.
fn redirect_to(request: &Request) -> Result<RelativePath, ApiError> {
    match query(request, "redirectTo") {
        None => Ok(RelativePath::root()),
        Some(raw) => {
            RelativePath::try_from(raw.to_owned()).map_err(|message| ApiError::validation("redirectTo", message))
        }
    }
}

fn authorize(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let redirect_to = redirect_to(request)?;
    let verifier = CodeVerifier::generate().map_err(ApiError::internal)?;
    let state = random_token(24).map_err(ApiError::internal)?;
    let location = api.domain.authorize_url(
        &api.settings.callback_url,
        &api.settings.scopes,
        &state,
        &verifier.challenge(),
    );
    let flow = Flow {
        state,
        verifier: verifier.expose_secret().to_owned(),
        redirect_to,
        expires_at: unix_now() + FLOW_SECONDS,
    };
    let sealed = api.key.seal(&api.flow_cookie.name, &flow).map_err(ApiError::internal)?;
    redirect(&location, &[api.flow_cookie.set(&sealed, FLOW_SECONDS)])
}

/// The flow whose `state` the callback carries, from the request's flow cookies; every way it
/// can fail (no cookie, another key, altered, expired, another flow's state) is the same answer.
fn flow_of(api: &OAuthApi, request: &Request) -> Result<Flow, ApiError> {
    let state = query(request, "state").ok_or(ApiError::InvalidOAuthState)?;
    let now = unix_now();
    crate::cookie::cookie_values(request.headers(), &api.flow_cookie.name)
        .into_iter()
        .filter_map(|sealed| api.key.open::<Flow>(&api.flow_cookie.name, sealed))
        .find(|flow| flow.expires_at > now && verify_slices_are_equal(flow.state.as_bytes(), state.as_bytes()).is_ok())
        .ok_or(ApiError::InvalidOAuthState)
}

async fn callback(api: &OAuthApi, request: &Request) -> Response<Body> {
    let had_cookie = !crate::cookie::cookie_values(request.headers(), &api.flow_cookie.name).is_empty();
    let mut response = respond(complete_callback(api, request).await);
    if had_cookie && let Ok(clear) = HeaderValue::from_str(&api.flow_cookie.clear()) {
        // Used or refused, the flow is over.
        response.headers_mut().append(SET_COOKIE, clear);
    }
    response
}

async fn complete_callback(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let flow = flow_of(api, request)?;
    if let Some(error) = query(request, "error") {
        return Err(ApiError::OAuthDenied {
            provider_error: plain_code(error),
        });
    }
    let code = query(request, "code")
        .filter(|c| !c.is_empty() && c.len() <= 2048)
        .ok_or_else(|| ApiError::validation("code", "is required"))?;
    let verifier = CodeVerifier::try_from(flow.verifier).map_err(|_| ApiError::InvalidOAuthState)?;
    let tokens = exchange(api, code, &api.settings.callback_url, &verifier).await?;
    let body = CallbackBody {
        tokens: tokens_body(&tokens),
        redirect_to: flow.redirect_to.as_str(),
    };
    json(StatusCode::OK, &body)
}

#[derive(Debug)]
struct TokenRequest {
    code: SecretString,
    redirect_uri: String,
    verifier: CodeVerifier,
}

async fn token(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let code = fields.required::<AuthorizationCode>("code");
    let redirect_uri = fields.required::<RedirectUri>("redirectUri").map(|u| u.0);
    let verifier = fields.required::<CodeVerifier>("codeVerifier");
    if let Some(uri) = &redirect_uri
        && !api.settings.app_redirect_uris.iter().any(|allowed| allowed == uri)
    {
        fields.reject("redirectUri", "is not one of this API's configured redirect URIs");
    }
    let input = fields.finish(|| {
        Some(TokenRequest {
            code: code?.0,
            redirect_uri: redirect_uri?,
            verifier: verifier?,
        })
    })?;
    let tokens = exchange(api, input.code.expose_secret(), &input.redirect_uri, &input.verifier).await?;
    json(StatusCode::OK, &tokens_body(&tokens))
}

/// A redirect URI as an app sends it: 1 to 2048 visible characters (whether it is one of the
/// configured ones is checked next).
struct RedirectUri(String);

impl TryFrom<String> for RedirectUri {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        if !is_visible_ascii(&value, 1..=2048) {
            return Err("must be an absolute URI".into());
        }
        Ok(Self(value))
    }
}

/// An authorization code as the token endpoint issues it: 1 to 2048 visible characters.
struct AuthorizationCode(SecretString);

impl TryFrom<String> for AuthorizationCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        if !is_visible_ascii(&value, 1..=2048) {
            return Err("must be an authorization code".into());
        }
        Ok(Self(SecretString::from(value)))
    }
}

/// Redeems `code`, then verifies the ID token with the authorizer's verifier (issuer,
/// audience, `token_use`, `exp`) before anything is answered.
async fn exchange(
    api: &OAuthApi,
    code: &str,
    redirect_uri: &str,
    verifier: &CodeVerifier,
) -> Result<IssuedTokens, ApiError> {
    let code = SecretString::from(code.to_owned());
    let tokens = api
        .domain
        .exchange_code(&code, redirect_uri, verifier)
        .await
        .map_err(token_endpoint_error)?;
    let id_token = tokens
        .id_token
        .as_ref()
        .ok_or_else(|| ApiError::IdentityProviderMisconfigured {
            cause: "the token endpoint issued no ID token (is openid an allowed scope?)".into(),
        })?;
    api.id_tokens.verify(id_token.expose_secret()).await.map_err(|err| {
        if err.is_server_error() {
            ApiError::Unavailable {
                cause: format!("ID token verification: {}", err.reason()),
            }
        } else {
            ApiError::IdentityProviderMisconfigured {
                cause: format!("the issued ID token failed verification: {}", err.reason()),
            }
        }
    })?;
    Ok(tokens)
}

/// What the token endpoint's refusals mean for the caller.
fn token_endpoint_error(err: EndpointError) -> ApiError {
    match err {
        EndpointError::Refused { error, .. } if error == "invalid_grant" => ApiError::InvalidGrant,
        EndpointError::Refused { error, status } => ApiError::IdentityProviderMisconfigured {
            cause: format!(
                "token endpoint refused the client: {} (HTTP {status})",
                plain_code(&error)
            ),
        },
        EndpointError::Unavailable(cause) => ApiError::Unavailable {
            cause: format!("token endpoint: {cause}"),
        },
        EndpointError::Unexpected(cause) => ApiError::Internal {
            cause: format!("token endpoint: {cause}"),
        },
    }
}

fn tokens_body(tokens: &IssuedTokens) -> TokensBody<'_> {
    TokensBody {
        access_token: tokens.access_token.expose_secret(),
        id_token: tokens.id_token.as_ref().map(|t| t.expose_secret()).unwrap_or_default(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
        expires_in: tokens.expires_in,
        token_type: &tokens.token_type,
    }
}

/// An OAuth error code as a caller may read it: lower-case letters and `_`, else `an error`.
fn plain_code(error: &str) -> String {
    if !error.is_empty() && error.len() <= 64 && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        error.to_owned()
    } else {
        "an error".to_owned()
    }
}

async fn user_info(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let claims = match api.domain.user_info(access_token.expose_secret()).await {
        Ok(claims) => claims,
        Err(EndpointError::Refused { .. }) if !has_scope(access_token.expose_secret(), "openid") => {
            return Err(ApiError::InsufficientScope {
                scope: "openid",
                hint: "tokens from POST /auth/sign-in have none (sign in through /auth/oauth/authorize), or read the profile at GET /auth/me.",
            });
        }
        Err(EndpointError::Refused { .. }) => {
            return Err(ApiError::unauthorized(
                "The access token is not valid, has expired or has been revoked.",
            ));
        }
        Err(EndpointError::Unavailable(cause)) => return Err(ApiError::Unavailable { cause }),
        Err(EndpointError::Unexpected(cause)) => return Err(ApiError::Internal { cause }),
    };
    let text = |value: &serde_json::Value| match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    let sub = claims
        .get("sub")
        .and_then(text)
        .ok_or_else(|| ApiError::internal("userInfo answered without a sub"))?;
    // Cognito sends "true"/"false" as strings; a boolean is read too.
    let email_verified = matches!(claims.get("email_verified"), Some(serde_json::Value::Bool(true)))
        || claims.get("email_verified").and_then(serde_json::Value::as_str) == Some("true");
    let body = UserInfoBody {
        sub,
        username: claims.get("username").and_then(text),
        email: claims.get("email").and_then(text),
        email_verified,
        attributes: claims
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "sub" | "username" | "email" | "email_verified"))
            .filter_map(|(name, value)| Some((name.clone(), text(value)?)))
            .collect(),
    };
    json(StatusCode::OK, &body)
}

/// Whether the (authorizer-verified) access token's `scope` claim holds `scope`.
fn has_scope(token: &str, scope: &str) -> bool {
    auth_contract::token::read_unverified(token, auth_contract::token::ClaimNames::default(), |claims| {
        claims
            .scope
            .as_ref()
            .is_some_and(|s| s.as_str().split(' ').any(|s| s == scope))
    })
    .unwrap_or(false)
}

fn logout(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let redirect_to = redirect_to(request)?;
    let sign_out = SignOut {
        redirect_to,
        expires_at: unix_now() + FLOW_SECONDS,
    };
    let sealed = api
        .key
        .seal(&api.sign_out_cookie.name, &sign_out)
        .map_err(ApiError::internal)?;
    redirect(
        &api.domain.logout_url(&api.settings.sign_out_url),
        &[api.sign_out_cookie.set(&sealed, FLOW_SECONDS)],
    )
}

fn signed_out(api: &OAuthApi, request: &Request) -> Result<Response<Body>, ApiError> {
    let now = unix_now();
    let target = crate::cookie::cookie_values(request.headers(), &api.sign_out_cookie.name)
        .into_iter()
        .filter_map(|sealed| api.key.open::<SignOut>(&api.sign_out_cookie.name, sealed))
        .find(|s| s.expires_at > now)
        .map_or_else(RelativePath::root, |s| s.redirect_to);
    redirect(target.as_str(), &[api.sign_out_cookie.clear()])
}

fn preflight() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Lets the configured origins read the answer; any other origin gets none of the headers.
fn with_cors(api: &OAuthApi, request: &Request, mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().append(VARY, HeaderValue::from_static("Origin"));
    let origin = request.headers().get(ORIGIN).and_then(|o| o.to_str().ok());
    if let Some(origin) = origin
        && api.settings.allowed_origins.iter().any(|allowed| allowed == origin)
        && let Ok(value) = HeaderValue::from_str(origin)
    {
        response.headers_mut().insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
    } else {
        let headers = response.headers_mut();
        headers.remove(ACCESS_CONTROL_ALLOW_METHODS);
        headers.remove(ACCESS_CONTROL_ALLOW_HEADERS);
        headers.remove(ACCESS_CONTROL_MAX_AGE);
    }
    response
}

#[cfg(test)]
mod tests;
