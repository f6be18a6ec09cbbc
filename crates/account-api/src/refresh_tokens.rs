//! `POST /auth/refresh` `{refreshToken, username?}` → 200
//! `{accessToken, idToken, refreshToken?, expiresIn, tokenType}`.
//!
//! One Cognito call, GetTokensFromRefreshToken, whether the app client rotates refresh tokens
//! or not, so this function cannot disagree with the client's setting. With rotation on, the
//! answer carries the next refresh token, which the caller must keep: the one it sent stays
//! usable only for the client's grace period (0 to 60 s), then Cognito refuses it
//! (`RefreshTokenReuseException`), answered 401 `RefreshTokenReused` and logged as a security
//! event. `username` is accepted and ignored: the call takes the client secret itself, not a
//! SECRET_HASH of the username.

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
use crate::{AccountApi, HandlerResult};

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions = &[
    ("NotAuthorizedException", || ApiError::unauthorized(REFUSED)),
    ("UserNotFoundException", || ApiError::unauthorized(REFUSED)),
    ("RefreshTokenReuseException", || ApiError::RefreshTokenReused),
];

const REFUSED: &str = "The refresh token is not valid, has expired or has been revoked.";

/// The Lambda handler.
#[instrument(name = "refresh_tokens", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(refresh(api, &request).await))
}

async fn refresh<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let refresh_token = fields.required::<RefreshToken>("refreshToken");
    // Still checked when sent, as before; no longer needed.
    let _ = fields.optional::<Username>("username");
    let refresh_token = fields.finish(|| refresh_token)?;
    let tokens = api
        .idp
        .refresh(&refresh_token)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS));
    let tokens = match tokens {
        Ok(tokens) => tokens,
        Err(ApiError::RefreshTokenReused) => {
            // A token rotated out and presented again after its grace period: a copy may be
            // in someone else's hands. Never the token itself.
            tracing::warn!(
                security_event = "refresh_token_reused",
                "a rotated-out refresh token was presented after its grace period"
            );
            return Err(ApiError::RefreshTokenReused);
        }
        Err(e) => return Err(e),
    };
    json(StatusCode::OK, &tokens_body(&tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::get_tokens_from_refresh_token::GetTokensFromRefreshTokenOutput;
    use aws_sdk_cognitoidentityprovider::types::AuthenticationResultType;
    use aws_smithy_mocks::mock;

    const SUB: &str = "7b7c1a3e-1111-2222-3333-444455556666";

    fn refreshed(rotated: Option<&str>) -> GetTokensFromRefreshTokenOutput {
        GetTokensFromRefreshTokenOutput::builder()
            .authentication_result(
                AuthenticationResultType::builder()
                    .access_token("new.access")
                    .id_token("new.id")
                    .set_refresh_token(rotated.map(str::to_owned))
                    .expires_in(3600)
                    .token_type("Bearer")
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn a_rotating_client_answers_the_next_refresh_token() {
        let rule = mock!(Client::get_tokens_from_refresh_token)
            .match_requests(|req| {
                req.refresh_token() == Some("refresh-1")
                    && req.client_id() == Some(CLIENT_ID)
                    && req.client_secret().is_none()
            })
            .then_output(|| refreshed(Some("refresh-2")));
        let api = api(&[&rule], None);
        let (status, body) = read(
            handler(&api, post_json("/auth/refresh", r#"{"refreshToken":"refresh-1"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"accessToken": "new.access", "idToken": "new.id", "refreshToken": "refresh-2",
                               "expiresIn": 3600, "tokenType": "Bearer"})
        );
    }

    #[tokio::test]
    async fn a_client_that_does_not_rotate_answers_no_refresh_token() {
        let rule = mock!(Client::get_tokens_from_refresh_token).then_output(|| refreshed(None));
        let api = api(&[&rule], None);
        let (status, body) = read(
            handler(&api, post_json("/auth/refresh", r#"{"refreshToken":"refresh-1"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200);
        assert!(body.get("refreshToken").is_none(), "{body}");
    }

    #[tokio::test]
    async fn a_client_secret_is_sent_as_it_is_and_username_is_ignored() {
        let rule = mock!(Client::get_tokens_from_refresh_token)
            .match_requests(|req| req.client_secret() == Some(CLIENT_SECRET))
            .then_output(|| refreshed(Some("refresh-2")));
        let api = api(&[&rule], Some(CLIENT_SECRET));
        for body in [
            r#"{"refreshToken":"refresh-1"}"#.to_owned(),
            format!(r#"{{"refreshToken":"refresh-1","username":"{SUB}"}}"#),
        ] {
            let (status, _) = read(handler(&api, post_json("/auth/refresh", &body)).await.unwrap());
            assert_eq!(status, 200, "{body}");
        }
        assert_eq!(rule.num_calls(), 2);
        let (status, problem) = read(
            handler(
                &api,
                post_json("/auth/refresh", r#"{"refreshToken":"r","username":"a b"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            (status, problem["errors"][0]["source"].as_str()),
            (400, Some("username"))
        );
    }

    #[tokio::test]
    async fn revoked_or_unknown_refresh_tokens_are_401() {
        for code in ["NotAuthorizedException", "UserNotFoundException"] {
            let rule = fails_with(
                mock!(Client::get_tokens_from_refresh_token),
                code,
                "Refresh Token has been revoked",
            );
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

    #[tokio::test]
    async fn a_reused_refresh_token_is_401_refresh_token_reused_and_logged_without_the_token() {
        let rule = fails_with(
            mock!(Client::get_tokens_from_refresh_token),
            "RefreshTokenReuseException",
            "The refresh token has been invalidated by refresh token rotation",
        );
        let api = api(&[&rule], None);
        let logs = capture_logs();
        let (status, problem) = read(
            handler(
                &api,
                post_json("/auth/refresh", r#"{"refreshToken":"stolen-refresh-token"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!((status, problem["code"].as_str()), (401, Some("RefreshTokenReused")));
        let text = logs.text();
        assert!(text.contains("refresh_token_reused"), "{text}");
        assert!(!text.contains("stolen-refresh-token"), "{text}");
    }
}
