//! `POST /auth/logout` with `Authorization: Bearer <access token>` and an optional
//! `{refreshToken}` → 204.
//!
//! GlobalSignOut invalidates every token of the user. The refresh token, when given, is then
//! also revoked on its own (RevokeToken); that second step is best effort, because the first
//! has already made the token useless, and a caller must not be told a logout failed when it
//! has in fact happened.

use crate::cognito::IdentityProvider;
use http_kit::ApiError;
use http_kit::body::{bearer_token, optional_json_object};
use http_kit::inputs::RefreshToken;
use http_kit::respond;
use http_kit::response::no_content;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::errors::{Exceptions, answer};
use crate::{AccountApi, HandlerResult, token_rejected};

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions = token_rejected!("The access token is not valid or has already been signed out.");

/// The Lambda handler.
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
    api.idp
        .global_sign_out(&access_token)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    if let Some(refresh_token) = refresh_token
        && let Err(err) = api.idp.revoke_refresh_token(&refresh_token).await
    {
        tracing::warn!(error = %err, "refresh token revocation failed after global sign-out");
    }
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::global_sign_out::GlobalSignOutOutput;
    use aws_sdk_cognitoidentityprovider::operation::revoke_token::RevokeTokenOutput;
    use aws_smithy_mocks::mock;

    fn sign_out_ok() -> aws_smithy_mocks::Rule {
        mock!(Client::global_sign_out)
            .match_requests(|req| req.access_token() == Some("access.jwt"))
            .then_output(|| GlobalSignOutOutput::builder().build())
    }

    #[tokio::test]
    async fn signs_out_everywhere_and_revokes_the_refresh_token_with_the_client_secret() {
        let sign_out = sign_out_ok();
        let revoke = mock!(Client::revoke_token)
            .match_requests(|req| {
                req.token() == Some("refresh-1")
                    && req.client_id() == Some(CLIENT_ID)
                    && req.client_secret() == Some(CLIENT_SECRET)
            })
            .then_output(|| RevokeTokenOutput::builder().build());
        let api = api(&[&sign_out, &revoke], Some(CLIENT_SECRET));
        let request = with_bearer(
            post_json("/auth/logout", r#"{"refreshToken":"refresh-1"}"#),
            "access.jwt",
        );
        let (status, body) = read(handler(&api, request).await.unwrap());
        assert_eq!((status, body), (204, serde_json::Value::Null));
        assert_eq!((sign_out.num_calls(), revoke.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn without_a_body_only_global_sign_out_runs() {
        let sign_out = sign_out_ok();
        let api = api(&[&sign_out], None);
        let request = with_bearer(post_json("/auth/logout", ""), "access.jwt");
        assert_eq!(read(handler(&api, request).await.unwrap()).0, 204);
        assert_eq!(sign_out.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_failed_revocation_after_sign_out_still_logs_out() {
        let sign_out = sign_out_ok();
        let revoke = fails_with(
            mock!(Client::revoke_token),
            "UnauthorizedException",
            "token revocation is not enabled",
        );
        let api = api(&[&sign_out, &revoke], None);
        let request = with_bearer(
            post_json("/auth/logout", r#"{"refreshToken":"refresh-1"}"#),
            "access.jwt",
        );
        assert_eq!(read(handler(&api, request).await.unwrap()).0, 204);
        assert_eq!(revoke.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_missing_or_rejected_access_token_is_401() {
        let api_without_rules = api(&[], None);
        let (status, problem) = read(
            handler(&api_without_rules, post_json("/auth/logout", ""))
                .await
                .unwrap(),
        );
        assert_eq!((status, problem["code"].as_str().unwrap()), (401, "Unauthorized"));

        let rule = fails_with(
            mock!(Client::global_sign_out),
            "NotAuthorizedException",
            "Access Token has been revoked",
        );
        let api = api(&[&rule], None);
        let response = handler(&api, with_bearer(post_json("/auth/logout", ""), "old.jwt"))
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(read(response).0, 401);
    }

    #[tokio::test]
    async fn a_bad_body_is_rejected_before_signing_out() {
        let sign_out = sign_out_ok();
        let api = api(&[&sign_out], None);
        let (status, problem) = read(
            handler(
                &api,
                with_bearer(post_json("/auth/logout", r#"{"refreshToken":7}"#), "access.jwt"),
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            (status, problem["errors"][0]["source"].as_str().unwrap()),
            (400, "refreshToken")
        );
        assert_eq!(sign_out.num_calls(), 0);
    }
}
