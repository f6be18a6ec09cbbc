//! Passwords, one Lambda function (`password`) for the family, because the three routes share
//! their inputs (a new password checked the same way) and what Cognito's password errors
//! become:
//!
//! - `POST /auth/forgot-password` `{username}` → 202 `{}` (public; ForgotPassword);
//! - `POST /auth/confirm-forgot-password` `{username, code, newPassword}` → 204 (public;
//!   ConfirmForgotPassword): a wrong or expired code is 400 `CodeMismatch` / `ExpiredCode`, a
//!   weak password 400 `InvalidPassword`;
//! - `POST /auth/change-password` `{previousPassword, proposedPassword}` → 204 (behind the
//!   authorizer; ChangePassword with the caller's access token): a wrong previous password is
//!   401 `InvalidCredentials`, a weak one 400 `InvalidPassword`.
//!
//! Forgot-password answers the same 202 for every username (known, unknown, unverified, already
//! reset), whatever Cognito said: it never tells whether an account exists or where the code
//! went.
//!
//! A new password ends every session, the caller's included (Cognito documents no such effect
//! of ConfirmForgotPassword or ChangePassword, and refresh tokens survive both): once Cognito
//! has accepted it, AdminUserGlobalSignOut ends the refresh tokens and the user's revocation
//! record refuses the tokens issued until then; the answer comes once a new sign-in is sure to
//! pass (`auth_contract::revocation::SessionEnd`). Both write only after Cognito accepted the
//! change, so a wrong code or a mistyped previous password ends nothing. Once the password is
//! changed, a failure to end the sessions is logged at error level, not answered: the client
//! cannot undo the change.

use http_kit::body::{bearer_token, json_object, route};
use http_kit::guard;
use http_kit::inputs::{ConfirmationCode, Password, Username};
use http_kit::response::{json, no_content};
use http_kit::{ApiError, respond};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::cognito::IdentityProvider;
use crate::errors::{Exceptions, answer, without_telling};
use crate::{AccountApi, HandlerResult};

/// Cognito's answers that mean something else for confirm-forgot-password (see
/// [`crate::errors`]): an unknown user must look like a wrong code.
const CONFIRM_EXCEPTIONS: Exceptions = &[("UserNotFoundException", || ApiError::CodeMismatch)];

/// Cognito's answers that mean something else for change-password: its "not authorized" is the
/// wrong previous password (the authorizer has already checked the token).
const CHANGE_EXCEPTIONS: Exceptions = &[("NotAuthorizedException", || ApiError::InvalidCredentials)];

/// Cognito's codes that forgot-password answers as a plain 202, so that no answer tells an
/// unknown or unverified account from a known one.
const NOT_TOLD: &[&str] = &[
    "UserNotFoundException",
    "InvalidParameterException",
    "NotAuthorizedException",
    "UserNotConfirmedException",
];

/// The Lambda handler: one function for the family, dispatching on the route.
#[instrument(name = "password", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(password(api, &request).await))
}

async fn password<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let (method, resource) = route(request).ok_or_else(|| ApiError::internal("no route in the request"))?;
    match (method.as_str(), resource.as_str()) {
        ("POST", "/auth/forgot-password") => forgot(api, request).await,
        ("POST", "/auth/confirm-forgot-password") => confirm(api, request).await,
        ("POST", "/auth/change-password") => change(api, request).await,
        _ => Err(ApiError::internal(format!(
            "password is wired to a route it does not serve: {method} {resource}"
        ))),
    }
}

/// 202 `{}`: the same answer for every username.
pub(crate) fn accepted() -> Result<Response<Body>, ApiError> {
    json(StatusCode::ACCEPTED, &serde_json::json!({}))
}

async fn forgot<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let username = fields.finish(|| username)?;
    without_telling(api.idp.forgot_password(&username).await, NOT_TOLD)?;
    accepted()
}

async fn confirm<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let code = fields.required::<ConfirmationCode>("code");
    let new_password = fields.required::<Password>("newPassword");
    let (username, code, new_password) = fields.finish(|| Some((username?, code?, new_password?)))?;
    api.idp
        .confirm_forgot_password(&username, &code, &new_password)
        .await
        .map_err(answer(CONFIRM_EXCEPTIONS))?;
    // After the code was accepted (before, anyone could sign anyone out with a wrong code).
    end_every_session(api, &username, None, "reset").await;
    Ok(no_content())
}

/// After Cognito accepted a new password: the refresh tokens end (AdminUserGlobalSignOut), then
/// the user's record (`sub` when known, else resolved) refuses the tokens issued until now.
/// A failure is logged, not answered.
async fn end_every_session<P: IdentityProvider>(
    api: &AccountApi<P>,
    username: &Username,
    sub: Option<&str>,
    action: &str,
) {
    let ended = async {
        api.idp.admin_sign_out(username).await?;
        if let Some(revoker) = &api.revoker {
            let sub = match sub {
                Some(sub) => sub.to_owned(),
                None => api.idp.admin_get_user(username).await?.sub,
            };
            revoker.sessions_ended(&sub).await?;
        }
        Ok::<(), ApiError>(())
    };
    if let Err(err) = ended.await {
        tracing::error!(error = %err, action, "new password: earlier sessions could not be ended");
    }
}

async fn change<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let mut fields = json_object(request)?;
    let previous = fields.required::<Password>("previousPassword");
    let proposed = fields.required::<Password>("proposedPassword");
    let (previous, proposed) = fields.finish(|| Some((previous?, proposed?)))?;
    let caller = guard::caller(request)?;
    let username = Username::try_from(caller.username.clone())
        .map_err(|reason| ApiError::internal(format!("the authorizer's username is not one: {reason}")))?;
    api.idp
        .change_password(&access_token, &previous, &proposed)
        .await
        .map_err(answer(CHANGE_EXCEPTIONS))?;
    // Only after Cognito accepted the change: a mistyped previous password ends nothing.
    end_every_session(api, &username, Some(&caller.sub), "change").await;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::revocations::Clock;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutOutput;
    use aws_sdk_cognitoidentityprovider::operation::change_password::ChangePasswordOutput;
    use aws_sdk_cognitoidentityprovider::operation::confirm_forgot_password::ConfirmForgotPasswordOutput;
    use aws_sdk_cognitoidentityprovider::operation::forgot_password::ForgotPasswordOutput;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, CodeDeliveryDetailsType, DeliveryMediumType};
    use aws_smithy_mocks::mock;

    const FORGOT: &str = r#"{"username":"ada"}"#;
    const CHANGE: &str = r#"{"previousPassword":"Old-Passw0rd!","proposedPassword":"New-Passw0rd!"}"#;

    /// AdminUserGlobalSignOut of `username`.
    fn signs_out(username: &'static str) -> aws_smithy_mocks::Rule {
        mock!(Client::admin_user_global_sign_out)
            .match_requests(move |req| req.username() == Some(username) && req.user_pool_id() == Some(POOL_ID))
            .then_output(|| AdminUserGlobalSignOutOutput::builder().build())
    }

    /// change-password as the authorizer hands it on: the caller `root` (sub `sub-root`).
    fn change_request(body: &str) -> Request {
        with_bearer(
            routed("POST", "/auth/change-password", &[], Some(body), "sub-root", ""),
            "access.jwt",
        )
    }
    const CONFIRM: &str = r#"{"username":"ada","code":"123456","newPassword":"New-Passw0rd!"}"#;

    #[tokio::test]
    async fn forgot_password_answers_the_same_for_every_username() {
        let known = mock!(Client::forgot_password)
            .match_requests(|req| req.secret_hash() == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str()))
            .then_output(|| {
                ForgotPasswordOutput::builder()
                    .code_delivery_details(
                        CodeDeliveryDetailsType::builder()
                            .destination("a***@e***")
                            .delivery_medium(DeliveryMediumType::Email)
                            .build(),
                    )
                    .build()
            });
        let subject = api(&[&known], Some(CLIENT_SECRET));
        let expected = read(
            handler(&subject, post_json("/auth/forgot-password", FORGOT))
                .await
                .unwrap(),
        );
        assert_eq!(expected, (202, serde_json::json!({})));
        for code in NOT_TOLD {
            let rule = fails_with(mock!(Client::forgot_password), code, "x");
            let subject = api(&[&rule], None);
            let got = read(
                handler(&subject, post_json("/auth/forgot-password", FORGOT))
                    .await
                    .unwrap(),
            );
            assert_eq!(got, expected, "{code}");
        }
        // Throttling is still said: retrying later is the caller's business.
        let rule = fails_with(mock!(Client::forgot_password), "LimitExceededException", "x");
        let subject = api(&[&rule], None);
        assert_eq!(
            read(
                handler(&subject, post_json("/auth/forgot-password", FORGOT))
                    .await
                    .unwrap()
            )
            .0,
            429
        );
    }

    #[tokio::test]
    async fn confirming_a_reset_checks_the_code_and_the_password() {
        let ok = mock!(Client::confirm_forgot_password)
            .match_requests(|req| {
                req.confirmation_code() == Some("123456")
                    && req.password() == Some("New-Passw0rd!")
                    && req.secret_hash() == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str())
            })
            .then_output(|| ConfirmForgotPasswordOutput::builder().build());
        let sign_out = signs_out("ada");
        let subject = api(&[&ok, &sign_out], Some(CLIENT_SECRET));
        assert_eq!(
            read(
                handler(&subject, post_json("/auth/confirm-forgot-password", CONFIRM))
                    .await
                    .unwrap()
            )
            .0,
            204
        );
        for (code, status, problem) in [
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("UserNotFoundException", 400, "CodeMismatch"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
            ("TooManyFailedAttemptsException", 429, "TooManyRequests"),
        ] {
            let rule = fails_with(mock!(Client::confirm_forgot_password), code, "x");
            let subject = api(&[&rule], None);
            let (got, body) = read(
                handler(&subject, post_json("/auth/confirm-forgot-password", CONFIRM))
                    .await
                    .unwrap(),
            );
            assert_eq!((got, body["code"].as_str().unwrap()), (status, problem), "{code}");
        }
    }

    #[tokio::test]
    async fn a_completed_reset_ends_every_session_and_a_wrong_code_ends_nothing() {
        let (store, revoker, clock) = memory_revoker_with_clock();
        let get = mock!(Client::admin_get_user).then_output(|| {
            AdminGetUserOutput::builder()
                .username("ada")
                .user_attributes(AttributeType::builder().name("sub").value("sub-ada").build().unwrap())
                .build()
                .unwrap()
        });
        let sign_out = signs_out("ada");
        let wrong = fails_with(mock!(Client::confirm_forgot_password), "CodeMismatchException", "x");
        let subject_wrong = api(&[&get, &sign_out, &wrong], None).with_revoker(revoker.clone());
        assert_eq!(
            read(
                handler(&subject_wrong, post_json("/auth/confirm-forgot-password", CONFIRM))
                    .await
                    .unwrap()
            )
            .0,
            400
        );
        assert!(store.get(&user_key("sub-ada")).is_none());
        assert_eq!(sign_out.num_calls(), 0, "a wrong code signs nobody out");
        let ok = mock!(Client::confirm_forgot_password).then_output(|| ConfirmForgotPasswordOutput::builder().build());
        let subject = api(&[&get, &sign_out, &ok], None).with_revoker(revoker);
        assert_eq!(
            read(
                handler(&subject, post_json("/auth/confirm-forgot-password", CONFIRM))
                    .await
                    .unwrap()
            )
            .0,
            204
        );
        assert_eq!(sign_out.num_calls(), 1, "the refresh tokens end at Cognito");
        let record = store.get(&user_key("sub-ada")).expect("the user's record");
        let answered = START.as_secs();
        assert_eq!(
            record.revoked_at,
            answered + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS,
            "every token up to Cognito's answer, with the skew"
        );
        assert!(record.expires_at >= record.revoked_at + 86_400 + 300);
        assert_eq!(
            clock.now().as_secs(),
            record.revoked_at + 1 + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS,
            "the answer waits until a new sign-in gets a later iat"
        );
    }

    #[tokio::test]
    async fn a_reset_without_a_revocation_table_still_signs_out_everywhere() {
        let ok = mock!(Client::confirm_forgot_password).then_output(|| ConfirmForgotPasswordOutput::builder().build());
        let sign_out = signs_out("ada");
        let subject = api(&[&ok, &sign_out], None);
        let (status, _) = read(
            handler(&subject, post_json("/auth/confirm-forgot-password", CONFIRM))
                .await
                .unwrap(),
        );
        assert_eq!((status, sign_out.num_calls()), (204, 1));
    }

    #[tokio::test]
    async fn a_password_change_ends_every_session_the_callers_included() {
        let (store, revoker, clock) = memory_revoker_with_clock();
        let change = mock!(Client::change_password).then_output(|| ChangePasswordOutput::builder().build());
        let sign_out = signs_out("root");
        let subject = api(&[&change, &sign_out], None).with_revoker(revoker);
        let (status, _) = read(handler(&subject, change_request(CHANGE)).await.unwrap());
        assert_eq!(status, 204);
        assert_eq!((change.num_calls(), sign_out.num_calls()), (1, 1));
        let record = store.get(&user_key("sub-root")).expect("the caller's record");
        assert_eq!(
            record.revoked_at,
            START.as_secs() + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS
        );
        assert_eq!(
            clock.now().as_secs(),
            record.revoked_at + 1 + auth_contract::revocation::ASSUMED_CLOCK_SKEW_SECONDS
        );
    }

    #[tokio::test]
    async fn a_mistyped_previous_password_ends_no_session() {
        let (store, revoker) = memory_revoker();
        let wrong = fails_with(
            mock!(Client::change_password),
            "NotAuthorizedException",
            "Incorrect username or password.",
        );
        let sign_out = signs_out("root");
        let subject = api(&[&wrong, &sign_out], None).with_revoker(revoker);
        let (status, problem) = read(handler(&subject, change_request(CHANGE)).await.unwrap());
        assert_eq!((status, problem["code"].as_str()), (401, Some("InvalidCredentials")));
        assert_eq!(sign_out.num_calls(), 0);
        assert!(store.get(&user_key("sub-root")).is_none());
    }

    #[tokio::test]
    async fn a_failure_to_end_the_sessions_after_a_new_password_is_logged_not_answered() {
        let (store, revoker) = memory_revoker();
        store.set_failing(true);
        let change = mock!(Client::change_password).then_output(|| ChangePasswordOutput::builder().build());
        let sign_out = fails_with(mock!(Client::admin_user_global_sign_out), "InternalErrorException", "x");
        let subject = api(&[&change, &sign_out], None).with_revoker(revoker);
        let (status, _) = read(handler(&subject, change_request(CHANGE)).await.unwrap());
        assert_eq!(status, 204, "the password is changed: the client cannot undo it");
    }

    #[tokio::test]
    async fn changing_the_password_needs_the_previous_one() {
        let ok = mock!(Client::change_password)
            .match_requests(|req| {
                req.access_token() == Some("access.jwt")
                    && req.previous_password() == Some("Old-Passw0rd!")
                    && req.proposed_password() == Some("New-Passw0rd!")
            })
            .then_output(|| ChangePasswordOutput::builder().build());
        let sign_out = signs_out("root");
        let subject = api(&[&ok, &sign_out], None);
        assert_eq!(read(handler(&subject, change_request(CHANGE)).await.unwrap()).0, 204);
        for (code, status, problem) in [
            ("NotAuthorizedException", 401, "InvalidCredentials"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
            ("LimitExceededException", 429, "TooManyRequests"),
        ] {
            let rule = fails_with(mock!(Client::change_password), code, "x");
            let subject = api(&[&rule], None);
            let (got, problem_body) = read(handler(&subject, change_request(CHANGE)).await.unwrap());
            assert_eq!(
                (got, problem_body["code"].as_str().unwrap()),
                (status, problem),
                "{code}"
            );
        }
        let subject = api(&[], None);
        let (status, problem) = read(
            handler(&subject, change_request(r#"{"previousPassword":"short"}"#))
                .await
                .unwrap(),
        );
        let sources = error_sources(&problem);
        assert_eq!(status, 400);
        assert_eq!(sources, ["previousPassword", "proposedPassword"]);
    }
}
