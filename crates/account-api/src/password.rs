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
//! went. A completed reset revokes the user's earlier tokens (the revocation store's user
//! record), after Cognito has accepted the code, so a wrong code can never sign anyone out.

use http_kit::body::{bearer_token, json_object, route};
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
    if let Some(revoker) = &api.revoker {
        // After the code was accepted (before, anyone could sign anyone out with a wrong code):
        // the password is changed either way, so a failure here is logged, not answered.
        let revoked = match api.idp.admin_get_user(&username).await {
            Ok(user) => revoker.revoke_user(&user.sub).await,
            Err(err) => Err(err.into()),
        };
        if let Err(err) = revoked {
            tracing::error!(error = %err, "password reset: earlier tokens could not be revoked");
        }
    }
    Ok(no_content())
}

async fn change<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let access_token = bearer_token(request.headers())?;
    let mut fields = json_object(request)?;
    let previous = fields.required::<Password>("previousPassword");
    let proposed = fields.required::<Password>("proposedPassword");
    let (previous, proposed) = fields.finish(|| Some((previous?, proposed?)))?;
    api.idp
        .change_password(&access_token, &previous, &proposed)
        .await
        .map_err(answer(CHANGE_EXCEPTIONS))?;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::change_password::ChangePasswordOutput;
    use aws_sdk_cognitoidentityprovider::operation::confirm_forgot_password::ConfirmForgotPasswordOutput;
    use aws_sdk_cognitoidentityprovider::operation::forgot_password::ForgotPasswordOutput;
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, CodeDeliveryDetailsType, DeliveryMediumType};
    use aws_smithy_mocks::mock;

    const FORGOT: &str = r#"{"username":"ada"}"#;
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
        let subject = api(&[&ok], Some(CLIENT_SECRET));
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
    async fn a_completed_reset_revokes_earlier_tokens_and_a_wrong_code_revokes_nothing() {
        let (store, revoker) = memory_revoker();
        let get = mock!(Client::admin_get_user).then_output(|| {
            AdminGetUserOutput::builder()
                .username("ada")
                .user_attributes(AttributeType::builder().name("sub").value("sub-ada").build().unwrap())
                .build()
                .unwrap()
        });
        let wrong = fails_with(mock!(Client::confirm_forgot_password), "CodeMismatchException", "x");
        let subject_wrong = api(&[&get, &wrong], None).with_revoker(revoker.clone());
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
        let ok = mock!(Client::confirm_forgot_password).then_output(|| ConfirmForgotPasswordOutput::builder().build());
        let subject = api(&[&get, &ok], None).with_revoker(revoker);
        assert_eq!(
            read(
                handler(&subject, post_json("/auth/confirm-forgot-password", CONFIRM))
                    .await
                    .unwrap()
            )
            .0,
            204
        );
        assert!(store.get(&user_key("sub-ada")).is_some());
    }

    #[tokio::test]
    async fn changing_the_password_needs_the_previous_one() {
        let body = r#"{"previousPassword":"Old-Passw0rd!","proposedPassword":"New-Passw0rd!"}"#;
        let ok = mock!(Client::change_password)
            .match_requests(|req| {
                req.access_token() == Some("access.jwt")
                    && req.previous_password() == Some("Old-Passw0rd!")
                    && req.proposed_password() == Some("New-Passw0rd!")
            })
            .then_output(|| ChangePasswordOutput::builder().build());
        let subject = api(&[&ok], None);
        let request = with_bearer(post_json("/auth/change-password", body), "access.jwt");
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 204);
        for (code, status, problem) in [
            ("NotAuthorizedException", 401, "InvalidCredentials"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
            ("LimitExceededException", 429, "TooManyRequests"),
        ] {
            let rule = fails_with(mock!(Client::change_password), code, "x");
            let subject = api(&[&rule], None);
            let request = with_bearer(post_json("/auth/change-password", body), "access.jwt");
            let (got, problem_body) = read(handler(&subject, request).await.unwrap());
            assert_eq!(
                (got, problem_body["code"].as_str().unwrap()),
                (status, problem),
                "{code}"
            );
        }
        let subject = api(&[], None);
        let (status, problem) = read(
            handler(
                &subject,
                with_bearer(
                    post_json("/auth/change-password", r#"{"previousPassword":"short"}"#),
                    "a.b.c",
                ),
            )
            .await
            .unwrap(),
        );
        let sources = error_sources(&problem);
        assert_eq!(status, 400);
        assert_eq!(sources, ["previousPassword", "proposedPassword"]);
    }
}
