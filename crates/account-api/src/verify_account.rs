//! `POST /auth/verify-account` `{username, code}` → 200 `{username, confirmed: true}`.

use crate::cognito::IdentityProvider;
use crate::errors::{Exceptions, answer};
use http_kit::ApiError;
use http_kit::body::json_object;
use http_kit::inputs::{ConfirmationCode, Username};
use http_kit::respond;
use http_kit::response::json;
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

/// Cognito's answers that mean something else here (see [`crate::errors`]).
const COGNITO_EXCEPTIONS: Exceptions = &[
    // Cognito's answer for confirming a confirmed account.
    ("NotAuthorizedException", || ApiError::AlreadyConfirmed),
];

/// The Lambda handler.
#[instrument(name = "verify_account", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(verify_account(api, &request).await))
}

async fn verify_account<P: IdentityProvider>(
    api: &AccountApi<P>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let code = fields.required::<ConfirmationCode>("code");
    let (username, code) = fields.finish(|| Some((username?, code?)))?;
    api.idp
        .confirm_sign_up(&username, &code)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    json(
        StatusCode::OK,
        &VerifiedBody {
            username: username.as_str(),
            confirmed: true,
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
}
