//! `POST /auth/sign-in` `{username, password}` → 200
//! `{accessToken, idToken, refreshToken, expiresIn, tokenType: "Bearer"}`, or 200
//! `{challengeName, session, challengeParameters}` when Cognito asks for more first.

use std::collections::BTreeMap;

use auth_cognito::{IdentityProvider, IdpError, SignInOutcome};
use auth_core::ApiError;
use auth_core::error::respond;
use auth_core::request::json_object;
use auth_core::response::json;
use auth_core::validation::{Password, Username};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokensBody<'a> {
    pub access_token: &'a str,
    pub id_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    pub expires_in: i32,
    pub token_type: &'a str,
}

impl<'a> TokensBody<'a> {
    pub(crate) fn from_tokens(tokens: &'a auth_cognito::Tokens) -> Self {
        Self {
            access_token: tokens.access_token.expose_secret(),
            id_token: tokens.id_token.expose_secret(),
            refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
            expires_in: tokens.expires_in,
            token_type: &tokens.token_type,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChallengeBody<'a> {
    challenge_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    challenge_parameters: &'a BTreeMap<String, String>,
}

#[instrument(name = "sign_in", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(sign_in(api, &request).await))
}

async fn sign_in<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let password = fields.required::<Password>("password");
    let (username, password) = fields.finish(|| Some((username?, password?)))?;
    let outcome = api.idp.sign_in(&username, &password).await.map_err(|err| match err {
        // Whether the user exists is nobody's business at sign-in.
        IdpError::NotAuthorized | IdpError::UserNotFound => ApiError::InvalidCredentials,
        other => other.into(),
    })?;
    match &outcome {
        SignInOutcome::Tokens(tokens) => json(StatusCode::OK, &TokensBody::from_tokens(tokens)),
        SignInOutcome::Challenge { name, session, parameters } => json(
            StatusCode::OK,
            &ChallengeBody {
                challenge_name: name,
                session: session.as_ref().map(|s| s.expose_secret()),
                challenge_parameters: parameters,
            },
        ),
    }
}
