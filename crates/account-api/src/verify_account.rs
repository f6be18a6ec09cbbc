//! `POST /auth/verify-account` `{username, code}` → 200 `{username, confirmed: true}`.

use auth_cognito::{IdentityProvider, IdpError};
use auth_core::ApiError;
use auth_core::error::respond;
use auth_core::request::json_object;
use auth_core::response::json;
use auth_core::validation::{ConfirmationCode, Username};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

#[derive(Serialize)]
struct VerifiedBody<'a> {
    username: &'a str,
    confirmed: bool,
}

#[instrument(name = "verify_account", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(verify_account(api, &request).await))
}

async fn verify_account<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let code = fields.required::<ConfirmationCode>("code");
    let (username, code) = fields.finish(|| Some((username?, code?)))?;
    api.idp.confirm_sign_up(&username, &code).await.map_err(|err| match err {
        // Cognito's answer for confirming a confirmed account.
        IdpError::NotAuthorized => ApiError::AlreadyConfirmed,
        other => other.into(),
    })?;
    json(
        StatusCode::OK,
        &VerifiedBody {
            username: username.as_str(),
            confirmed: true,
        },
    )
}
