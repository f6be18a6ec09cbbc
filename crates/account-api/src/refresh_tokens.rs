//! `POST /auth/refresh` `{refreshToken, username?}` → 200
//! `{accessToken, idToken, expiresIn, tokenType}`.
//!
//! When the app client has a secret, Cognito checks a SECRET_HASH computed with the user's
//! internal username, so `username` (the `sub` claim of the ID token) is then required.

use auth_cognito::{IdentityProvider, IdpError};
use auth_core::ApiError;
use auth_core::error::respond;
use auth_core::request::json_object;
use auth_core::response::json;
use auth_core::validation::{RefreshToken, Username};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::sign_in::TokensBody;
use crate::{AccountApi, HandlerResult};

#[instrument(name = "refresh_tokens", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(refresh(api, &request).await))
}

async fn refresh<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let refresh_token = fields.required::<RefreshToken>("refreshToken");
    let username = fields.optional::<Username>("username");
    if username.is_none() && api.idp.requires_username_for_refresh() {
        fields.reject(
            "username",
            "is required with this app client: send the sub claim of your ID token",
        );
    }
    let refresh_token = fields.finish(|| refresh_token)?;
    let tokens = api
        .idp
        .refresh(&refresh_token, username.as_ref())
        .await
        .map_err(|err| match err {
            IdpError::NotAuthorized | IdpError::UserNotFound => {
                ApiError::unauthorized("The refresh token is not valid, has expired or has been revoked.")
            }
            other => other.into(),
        })?;
    let mut body = TokensBody::from_tokens(&tokens);
    // Cognito does not rotate refresh tokens here; the caller keeps the one it sent.
    body.refresh_token = None;
    json(StatusCode::OK, &body)
}
