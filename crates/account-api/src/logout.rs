//! `POST /auth/logout` with `Authorization: Bearer <access token>` and an optional
//! `{refreshToken}` → 204.
//!
//! GlobalSignOut invalidates every token of the user. The refresh token, when given, is then
//! also revoked on its own (RevokeToken); that second step is best effort, because the first
//! has already made the token useless, and a caller must not be told a logout failed when it
//! has in fact happened.

use auth_cognito::{IdentityProvider, IdpError};
use auth_core::ApiError;
use auth_core::error::respond;
use auth_core::request::{bearer_token, optional_json_object};
use auth_core::response::no_content;
use auth_core::validation::RefreshToken;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

#[instrument(name = "logout", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(logout(api, &request).await))
}

async fn logout<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let refresh_token = match optional_json_object(request)? {
        None => None,
        Some(mut fields) => {
            let token = fields.optional::<RefreshToken>("refreshToken");
            fields.finish(|| Some(token))?
        }
    };
    api.idp.global_sign_out(&access_token).await.map_err(|err| match err {
        IdpError::NotAuthorized | IdpError::UserNotFound => {
            ApiError::unauthorized("The access token is not valid or has already been signed out.")
        }
        other => other.into(),
    })?;
    if let Some(refresh_token) = refresh_token
        && let Err(err) = api.idp.revoke_refresh_token(&refresh_token).await
    {
        tracing::warn!(error = %err, "refresh token revocation failed after global sign-out");
    }
    Ok(no_content())
}
