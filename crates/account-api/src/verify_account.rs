//! Account verification, one Lambda function (`verify_account`) for the two routes about the
//! sign-up code:
//!
//! - `POST /auth/verify-account` `{username, code, session?}` → 200
//!   `{username, confirmed: true, session?}` (ConfirmSignUp); with the session a password-less
//!   sign-up answered, the answer's session signs in (`POST /auth/sign-in {username, session}`);
//! - `POST /auth/resend-code` `{username}` → 202 `{}` (ResendConfirmationCode).
//!
//! Resend answers the same 202 for an unknown, an already confirmed and a waiting account
//! (Cognito answers the first two with a simulated delivery or an error, depending on the
//! pool's settings): whether an account exists is nobody's business. For the same reason the
//! answer never says where the code went.

use crate::cognito::IdentityProvider;
use crate::errors::{Exceptions, answer, without_telling};
use crate::password::accepted;
use http_kit::ApiError;
use http_kit::body::{json_object, route};
use http_kit::inputs::{ConfirmationCode, Session, Username};
use http_kit::respond;
use http_kit::response::json;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

#[derive(Serialize)]
struct VerifiedBody<'a> {
    username: &'a str,
    confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
}

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions = &[
    // Cognito's answer for confirming a confirmed account.
    ("NotAuthorizedException", || ApiError::AlreadyConfirmed),
];

/// Cognito's codes that resend answers as a plain 202: unknown user, already confirmed
/// (`InvalidParameterException`), and a pool that refuses the request for the account's state.
const NOT_TOLD: &[&str] = &[
    "UserNotFoundException",
    "InvalidParameterException",
    "NotAuthorizedException",
];

/// The Lambda handler: one function for both routes, dispatching on the route.
#[instrument(name = "verify_account", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    let answer = match route(&request) {
        Some((method, resource)) if method == "POST" && resource == "/auth/resend-code" => {
            resend_code(api, &request).await
        }
        _ => verify_account(api, &request).await,
    };
    Ok(respond(answer))
}

async fn resend_code<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let username = fields.finish(|| username)?;
    without_telling(api.idp.resend_confirmation_code(&username).await, NOT_TOLD)?;
    accepted()
}

async fn verify_account<P: IdentityProvider>(
    api: &AccountApi<P>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let code = fields.required::<ConfirmationCode>("code");
    let session = fields.optional::<Session>("session");
    let (username, code) = fields.finish(|| Some((username?, code?)))?;
    let session = session.map(SecretString::from);
    let next = api
        .idp
        .confirm_sign_up(&username, &code, session.as_ref())
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    json(
        StatusCode::OK,
        &VerifiedBody {
            username: username.as_str(),
            confirmed: true,
            session: next.as_ref().map(|s| s.expose_secret()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::confirm_sign_up::ConfirmSignUpOutput;
    use aws_sdk_cognitoidentityprovider::operation::resend_confirmation_code::ResendConfirmationCodeOutput;
    use aws_sdk_cognitoidentityprovider::types::{CodeDeliveryDetailsType, DeliveryMediumType};
    use aws_smithy_mocks::mock;

    const BODY: &str = r#"{"username":"ada","code":"123456"}"#;

    #[tokio::test]
    async fn confirms_with_code_and_secret_hash() {
        let rule = mock!(Client::confirm_sign_up)
            .match_requests(|req| {
                req.username() == Some("ada")
                    && req.confirmation_code() == Some("123456")
                    && req.secret_hash() == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str())
            })
            .then_output(|| ConfirmSignUpOutput::builder().build());
        let api = api(&[&rule], Some(CLIENT_SECRET));
        let (status, body) = read(handler(&api, post_json("/auth/verify-account", BODY)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(body, serde_json::json!({"username": "ada", "confirmed": true}));
    }

    #[tokio::test]
    async fn wrong_expired_or_reused_codes_get_their_own_answers() {
        let cases = [
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("UserNotFoundException", 404, "UserNotFound"),
            ("NotAuthorizedException", 409, "AlreadyConfirmed"),
            ("TooManyFailedAttemptsException", 429, "TooManyRequests"),
            ("LimitExceededException", 429, "TooManyRequests"),
        ];
        for (code, status, api_code) in cases {
            let rule = fails_with(
                mock!(Client::confirm_sign_up),
                code,
                "Invalid verification code provided, please try again.",
            );
            let api = api(&[&rule], None);
            let (got, problem) = read(handler(&api, post_json("/auth/verify-account", BODY)).await.unwrap());
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, api_code), "{code}");
        }
    }

    #[tokio::test]
    async fn resending_a_code_answers_the_same_for_every_account() {
        let waiting = mock!(Client::resend_confirmation_code)
            .match_requests(|req| {
                req.username() == Some("ada")
                    && req.client_id() == Some(CLIENT_ID)
                    && req.secret_hash() == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str())
            })
            .then_output(|| {
                ResendConfirmationCodeOutput::builder()
                    .code_delivery_details(
                        CodeDeliveryDetailsType::builder()
                            .destination("a***@e***")
                            .delivery_medium(DeliveryMediumType::Email)
                            .attribute_name("email")
                            .build(),
                    )
                    .build()
            });
        let subject = api(&[&waiting], Some(CLIENT_SECRET));
        let expected = read(
            handler(&subject, post_json("/auth/resend-code", r#"{"username":"ada"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(expected, (202, serde_json::json!({})));
        for (code, message) in [
            ("UserNotFoundException", "Username/client id combination not found."),
            ("InvalidParameterException", "User is already confirmed."),
            (
                "NotAuthorizedException",
                "Cannot resend codes. Auto verification not turned on.",
            ),
        ] {
            let rule = fails_with(mock!(Client::resend_confirmation_code), code, message);
            let subject = api(&[&rule], None);
            let got = read(
                handler(&subject, post_json("/auth/resend-code", r#"{"username":"ada"}"#))
                    .await
                    .unwrap(),
            );
            assert_eq!(got, expected, "{code}");
        }
        for (code, status) in [("LimitExceededException", 429), ("CodeDeliveryFailureException", 502)] {
            let rule = fails_with(mock!(Client::resend_confirmation_code), code, "x");
            let subject = api(&[&rule], None);
            let got = read(
                handler(&subject, post_json("/auth/resend-code", r#"{"username":"ada"}"#))
                    .await
                    .unwrap(),
            );
            assert_eq!(got.0, status, "{code}");
        }
        let (status, problem) = read(
            handler(&api(&[], None), post_json("/auth/resend-code", r#"{"username":""}"#))
                .await
                .unwrap(),
        );
        assert_eq!(
            (status, problem["errors"][0]["source"].as_str()),
            (400, Some("username"))
        );
    }

    #[tokio::test]
    async fn malformed_codes_never_reach_cognito() {
        let api = api(&[], None);
        for body in [
            r#"{"username":"ada","code":"12 34"}"#,
            r#"{"username":"ada","code":123456}"#,
            r#"{"username":"ada"}"#,
        ] {
            let (status, problem) = read(handler(&api, post_json("/auth/verify-account", body)).await.unwrap());
            assert_eq!(status, 400, "{body}");
            assert_eq!(problem["errors"][0]["source"], "code", "{body}");
        }
    }

    #[tokio::test]
    async fn the_sign_up_session_goes_with_the_code_and_the_next_session_is_answered() {
        let rule = mock!(Client::confirm_sign_up)
            .match_requests(|req| req.session() == Some("session-from-sign-up-0123456789"))
            .then_output(|| {
                ConfirmSignUpOutput::builder()
                    .session("session-for-sign-in-0123456789")
                    .build()
            });
        let api = api(&[&rule], None);
        let body = r#"{"username":"ada","code":"123456","session":"session-from-sign-up-0123456789"}"#;
        let (status, body) = read(handler(&api, post_json("/auth/verify-account", body)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"username": "ada", "confirmed": true, "session": "session-for-sign-in-0123456789"})
        );
    }
}
