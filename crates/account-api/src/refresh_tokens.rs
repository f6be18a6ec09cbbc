//! `POST /auth/refresh` `{refreshToken, username?}` → 200
//! `{accessToken, idToken, expiresIn, tokenType}`.
//!
//! When the app client has a secret, Cognito checks a SECRET_HASH computed with the user's
//! internal username, so `username` (the `sub` claim of the ID token) is then required.

use crate::cognito::IdentityProvider;
use http_kit::ApiError;
use http_kit::body::json_object;
use http_kit::inputs::{RefreshToken, Username};
use http_kit::respond;
use http_kit::response::json;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::errors::{Exceptions, answer};
use crate::sign_in::tokens_body;
use crate::{AccountApi, HandlerResult, token_rejected};

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions =
    token_rejected!("The refresh token is not valid, has expired or has been revoked.");

/// The Lambda handler.
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
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    let mut body = tokens_body(&tokens);
    // Cognito does not rotate refresh tokens here; the caller keeps the one it sent.
    body.refresh_token = None;
    json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
    use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, AuthenticationResultType};
    use aws_smithy_mocks::mock;

    const SUB: &str = "7b7c1a3e-1111-2222-3333-444455556666";

    fn refreshed() -> InitiateAuthOutput {
        InitiateAuthOutput::builder()
            .authentication_result(
                AuthenticationResultType::builder()
                    .access_token("new.access")
                    .id_token("new.id")
                    .expires_in(3600)
                    .token_type("Bearer")
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn secret_hash_uses_the_internal_username() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::RefreshTokenAuth)
                    && params.get("REFRESH_TOKEN").map(String::as_str) == Some("refresh-1")
                    && params.get("SECRET_HASH") == Some(&secret_hash(SUB, CLIENT_ID, CLIENT_SECRET))
            })
            .then_output(refreshed);
        let api = api(&[&rule], Some(CLIENT_SECRET));
        let body = format!(r#"{{"refreshToken":"refresh-1","username":"{SUB}"}}"#);
        let (status, body) = read(handler(&api, post_json("/auth/refresh", &body)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"accessToken": "new.access", "idToken": "new.id", "expiresIn": 3600, "tokenType": "Bearer"})
        );
    }

    #[tokio::test]
    async fn username_is_required_only_with_a_client_secret() {
        let with_secret = api(&[], Some(CLIENT_SECRET));
        let (status, problem) = read(
            handler(&with_secret, post_json("/auth/refresh", r#"{"refreshToken":"r"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 400);
        assert_eq!(problem["errors"][0]["source"], "username");

        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| req.auth_parameters().is_some_and(|p| !p.contains_key("SECRET_HASH")))
            .then_output(refreshed);
        let without_secret = api(&[&rule], None);
        let (status, _) = read(
            handler(&without_secret, post_json("/auth/refresh", r#"{"refreshToken":"r"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn revoked_or_unknown_refresh_tokens_are_401() {
        for code in ["NotAuthorizedException", "UserNotFoundException"] {
            let rule = fails_with(mock!(Client::initiate_auth), code, "Refresh Token has been revoked");
            let api = api(&[&rule], None);
            let (status, problem) = read(
                handler(&api, post_json("/auth/refresh", r#"{"refreshToken":"r"}"#))
                    .await
                    .unwrap(),
            );
            assert_eq!(
                (status, problem["code"].as_str().unwrap()),
                (401, "Unauthorized"),
                "{code}"
            );
        }
    }
}
