//! `POST /auth/logout` with `Authorization: Bearer <access token>` and an optional
//! `{refreshToken?, scope?: "global" | "session"}` → 204.
//!
//! - `global` (the default): every session of the user ends. GlobalSignOut, then RevokeToken
//!   for the refresh token when given; with a revocation table, the user's record around them
//!   ([`crate::Revoker::end_sessions`]: before, after, and the answer once a new sign-in is sure
//!   to pass). A failing GlobalSignOut never skips RevokeToken: when the refresh token was
//!   revoked the answer is 204 and the sign-out failure is logged (an access token without
//!   `aws.cognito.signin.user.admin` cannot sign out globally; its refresh token still ends).
//!   A failing RevokeToken after a successful GlobalSignOut is logged only: GlobalSignOut has
//!   already made the refresh token useless.
//! - `session`: only this sign-in session ends, and `refreshToken` is required. With a
//!   revocation table, the bearer token's session record (its `origin_jti`) is written first,
//!   then RevokeToken ends the refresh token and the access tokens issued from it. A refresh
//!   token is opaque: nothing here can check that it belongs to the bearer's session. When it
//!   does not, the bearer's session is refused by the authorizer and the given refresh token's
//!   session ends at Cognito, but that other session's access tokens pass the authorizer until
//!   they expire.
//!
//! The `sub` and `origin_jti` recorded come from the authorizer's context, that is from the
//! verified token: never from the body.

use crate::cognito::IdentityProvider;
use http_kit::ApiError;
use http_kit::body::{bearer_token, optional_json_object};
use http_kit::guard;
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

/// How much a logout ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Global,
    Session,
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        match value.as_str() {
            "global" => Ok(Scope::Global),
            "session" => Ok(Scope::Session),
            _ => Err("must be `global` or `session`".into()),
        }
    }
}

async fn logout<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let (refresh_token, scope) = match optional_json_object(request)? {
        None => (None, Scope::Global),
        Some(mut fields) => {
            let token = fields.optional::<RefreshToken>("refreshToken");
            let scope = fields.optional::<Scope>("scope").unwrap_or(Scope::Global);
            if scope == Scope::Session && token.is_none() && !fields.has_errors() {
                fields.reject("refreshToken", "is required to end one session (scope `session`)");
            }
            fields.finish(|| Some((token, scope)))?
        }
    };
    match (scope, refresh_token) {
        (Scope::Session, Some(refresh_token)) => {
            if let Some(revoker) = &api.revoker {
                let caller = guard::caller(request)?;
                if caller.origin_jti.is_empty() {
                    return Err(ApiError::validation(
                        "scope",
                        "this token names no session (the app client has token revocation off): use `global`",
                    ));
                }
                revoker.revoke_session(&caller.origin_jti).await?;
            }
            api.idp
                .revoke_refresh_token(&refresh_token)
                .await
                .map_err(answer(COGNITO_EXCEPTIONS))?;
        }
        (_, refresh_token) => {
            let sign_out = Box::pin(async {
                let signed_out = api.idp.global_sign_out(&access_token).await;
                let revoked = match &refresh_token {
                    Some(token) => Some(api.idp.revoke_refresh_token(token).await),
                    None => None,
                };
                match (signed_out, revoked) {
                    (Ok(()), Some(Err(err))) => {
                        tracing::warn!(error = %err, "refresh token revocation failed after global sign-out");
                        Ok(())
                    }
                    (Ok(()), _) => Ok(()),
                    (Err(err), Some(Ok(()))) => {
                        tracing::warn!(error = %err, "global sign-out failed; the refresh token was revoked");
                        Ok(())
                    }
                    (Err(err), _) => Err(answer(COGNITO_EXCEPTIONS)(err)),
                }
            });
            match &api.revoker {
                Some(_) => api.end_sessions(&guard::caller(request)?.sub, sign_out).await?,
                None => sign_out.await?,
            }
        }
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

    /// A code-flow token without `aws.cognito.signin.user.admin`: GlobalSignOut refuses it, and
    /// the refresh token given must end all the same.
    #[tokio::test]
    async fn a_refused_global_sign_out_still_revokes_the_refresh_token() {
        let sign_out = fails_with(
            mock!(Client::global_sign_out),
            "NotAuthorizedException",
            "Access Token does not have required scopes",
        );
        let revoke = mock!(Client::revoke_token)
            .match_requests(|req| req.token() == Some("refresh-1"))
            .then_output(|| RevokeTokenOutput::builder().build());
        let subject = api(&[&sign_out, &revoke], None);
        let request = with_bearer(
            post_json("/auth/logout", r#"{"refreshToken":"refresh-1"}"#),
            "access.jwt",
        );
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 204);
        assert_eq!((sign_out.num_calls(), revoke.num_calls()), (1, 1));

        // Both refused: nothing ended at Cognito, and the caller is told.
        let revoke_refused = fails_with(mock!(Client::revoke_token), "UnauthorizedException", "x");
        let subject = api(&[&sign_out, &revoke_refused], None);
        let request = with_bearer(
            post_json("/auth/logout", r#"{"refreshToken":"refresh-1"}"#),
            "access.jwt",
        );
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 401);
    }

    #[tokio::test]
    async fn a_global_logout_records_the_user_around_cognito_and_answers_once_a_sign_in_passes() {
        use crate::revocations::Clock;
        let (store, revoker, clock) = memory_revoker_with_clock();
        let sign_out = sign_out_ok();
        let api = api(&[&sign_out], None).with_revoker(revoker);
        let (status, _) = read(handler(&api, logout_request("")).await.unwrap());
        assert_eq!(status, 204);
        let record = store.get(&user_key("sub-1")).expect("the user's record");
        // Tokens refreshed while GlobalSignOut ran are refused: the record covers the second
        // of Cognito's answer and the skew after it.
        assert_eq!(
            record.revoked_at,
            START.as_secs() + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS
        );
        assert!(
            clock.now().as_secs() > record.revoked_at + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS,
            "answered only once a sign-in gets a later iat, even with Cognito's clock behind"
        );
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

    fn logout_request(body: &str) -> Request {
        with_caller(
            with_bearer(post_json("/auth/logout", body), "access.jwt"),
            "sub-1",
            "session-1",
        )
    }

    #[tokio::test]
    async fn a_global_logout_records_the_user_before_asking_cognito() {
        let (store, revoker) = memory_revoker();
        // Cognito fails after the record is written: the tokens stay refused all the same.
        let sign_out = fails_with(mock!(Client::global_sign_out), "InternalErrorException", "boom");
        let api = api(&[&sign_out], None).with_revoker(revoker);
        let (status, _) = read(handler(&api, logout_request("")).await.unwrap());
        assert_eq!(status, 503);
        let record = store.get(&user_key("sub-1")).expect("the user record is written first");
        assert!(record.expires_at >= record.revoked_at + 3605);
    }

    #[tokio::test]
    async fn an_unwritable_store_changes_nothing_and_asks_for_a_retry() {
        let (store, revoker) = memory_revoker();
        store.set_failing(true);
        let sign_out = sign_out_ok();
        let api = api(&[&sign_out], None).with_revoker(revoker);
        let response = handler(&api, logout_request("")).await.unwrap();
        assert_eq!(response.headers()["retry-after"], "1");
        let (status, problem) = read(response);
        assert_eq!((status, problem["code"].as_str()), (503, Some("RevocationUnavailable")));
        assert_eq!(
            sign_out.num_calls(),
            0,
            "Cognito is not asked when the record could not be written"
        );
    }

    #[tokio::test]
    async fn a_session_logout_records_the_session_and_revokes_only_its_refresh_token() {
        let (store, revoker) = memory_revoker();
        let sign_out = sign_out_ok();
        let revoke = mock!(Client::revoke_token)
            .match_requests(|req| req.token() == Some("refresh-1"))
            .then_output(|| RevokeTokenOutput::builder().build());
        let api = api(&[&sign_out, &revoke], None).with_revoker(revoker);
        let (status, _) = read(
            handler(
                &api,
                logout_request(r#"{"refreshToken":"refresh-1","scope":"session"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!(status, 204);
        assert_eq!((sign_out.num_calls(), revoke.num_calls()), (0, 1));
        let session_key = auth_contract::revocation::RevocationKey::session(ISSUER, "session-1").partition_key();
        assert!(store.get(&session_key).is_some());
        assert!(
            store.get(&user_key("sub-1")).is_none(),
            "the user's other sessions go on"
        );
    }

    #[tokio::test]
    async fn a_session_logout_needs_the_refresh_token_and_a_session_id() {
        let (_, revoker) = memory_revoker();
        let api = api(&[], None).with_revoker(revoker);
        let (status, problem) = read(handler(&api, logout_request(r#"{"scope":"session"}"#)).await.unwrap());
        assert_eq!(
            (status, problem["errors"][0]["source"].as_str()),
            (400, Some("refreshToken"))
        );
        let (status, problem) = read(
            handler(&api, logout_request(r#"{"scope":"everywhere"}"#))
                .await
                .unwrap(),
        );
        assert_eq!((status, problem["errors"][0]["source"].as_str()), (400, Some("scope")));
        let no_session = with_caller(
            with_bearer(
                post_json("/auth/logout", r#"{"refreshToken":"r","scope":"session"}"#),
                "access.jwt",
            ),
            "sub-1",
            "",
        );
        let (status, problem) = read(handler(&api, no_session).await.unwrap());
        assert_eq!((status, problem["errors"][0]["source"].as_str()), (400, Some("scope")));
    }
}
