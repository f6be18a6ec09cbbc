//! `POST /auth/sign-in` `{username, password}` → 200
//! `{accessToken, idToken, refreshToken, expiresIn, tokenType: "Bearer"}`, or 200
//! `{challengeName, session, challengeParameters}` when Cognito asks for more first.

use std::collections::BTreeMap;

use crate::cognito::{IdentityProvider, SignInOutcome};
use crate::errors::{Exceptions, answer};
use http_kit::ApiError;
use http_kit::body::json_object;
use http_kit::inputs::{Password, Username};
use http_kit::respond;
use http_kit::response::{TokensBody, json};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::ExposeSecret;
use serde::Serialize;
use tracing::instrument;

use crate::{AccountApi, HandlerResult};

/// The token body of `tokens` (see [`TokensBody`]).
pub(crate) fn tokens_body(tokens: &crate::cognito::Tokens) -> TokensBody<'_> {
    TokensBody {
        access_token: tokens.access_token.expose_secret(),
        id_token: tokens.id_token.expose_secret(),
        refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose_secret()),
        expires_in: i64::from(tokens.expires_in),
        token_type: &tokens.token_type,
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

/// Cognito's answers that mean something else here (see [`crate::errors`]): whether the user
/// exists is nobody's business at sign-in.
const COGNITO_EXCEPTIONS: Exceptions = &[
    ("NotAuthorizedException", || ApiError::InvalidCredentials),
    ("UserNotFoundException", || ApiError::InvalidCredentials),
];

/// The Lambda handler.
#[instrument(name = "sign_in", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(sign_in(api, &request).await))
}

async fn sign_in<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let password = fields.required::<Password>("password");
    let (username, password) = fields.finish(|| Some((username?, password?)))?;
    let outcome = api
        .idp
        .sign_in(&username, &password)
        .await
        .map_err(answer(COGNITO_EXCEPTIONS))?;
    answer_sign_in(&outcome)
}

/// The answer to a sign-in step (a password, a challenge answered): the tokens, or the next
/// challenge with its session.
pub(crate) fn answer_sign_in(outcome: &SignInOutcome) -> Result<Response<Body>, ApiError> {
    match outcome {
        SignInOutcome::Tokens(tokens) => json(StatusCode::OK, &tokens_body(tokens)),
        SignInOutcome::Challenge {
            name,
            session,
            parameters,
        } => json(
            StatusCode::OK,
            &ChallengeBody {
                challenge_name: name,
                session: session.as_ref().map(|s| s.expose_secret()),
                challenge_parameters: parameters,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
    use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
    use aws_smithy_mocks::mock;

    const BODY: &str = r#"{"username":"ada","password":"Correct-Horse-1"}"#;

    fn tokens() -> InitiateAuthOutput {
        InitiateAuthOutput::builder()
            .authentication_result(issued_tokens())
            .build()
    }

    #[tokio::test]
    async fn answers_tokens_for_a_password_sign_in_with_secret_hash() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::UserPasswordAuth)
                    && params.get("USERNAME").map(String::as_str) == Some("ada")
                    && params.get("PASSWORD").map(String::as_str) == Some("Correct-Horse-1")
                    && params.get("SECRET_HASH") == Some(&secret_hash("ada", CLIENT_ID, CLIENT_SECRET))
            })
            .then_output(tokens);
        let api = api(&[&rule], Some(CLIENT_SECRET));
        let response = handler(&api, post_json("/auth/sign-in", BODY)).await.unwrap();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let (status, body) = read(response);
        assert_eq!(status, 200);
        assert_eq!(
            body,
            serde_json::json!({"accessToken": "access.jwt", "idToken": "id.jwt", "refreshToken": "refresh-token", "expiresIn": 3600, "tokenType": "Bearer"})
        );
    }

    #[tokio::test]
    async fn unknown_user_and_wrong_password_are_indistinguishable() {
        let mut answers = Vec::new();
        for code in ["NotAuthorizedException", "UserNotFoundException"] {
            let rule = fails_with(mock!(Client::initiate_auth), code, "Incorrect username or password.");
            let api = api(&[&rule], None);
            answers.push(read(handler(&api, post_json("/auth/sign-in", BODY)).await.unwrap()));
        }
        assert_eq!(answers[0].0, 401);
        assert_eq!(answers[0].1["code"], "InvalidCredentials");
        assert_eq!(answers[0], answers[1]);
    }

    #[tokio::test]
    async fn account_state_errors_are_documented_answers() {
        let cases = [
            ("UserNotConfirmedException", 403, "UserNotConfirmed"),
            ("PasswordResetRequiredException", 403, "PasswordResetRequired"),
            ("TooManyFailedAttemptsException", 429, "TooManyRequests"),
            ("UnexpectedLambdaException", 502, "TriggerFailed"),
        ];
        for (code, status, api_code) in cases {
            let rule = fails_with(mock!(Client::initiate_auth), code, "x");
            let api = api(&[&rule], None);
            let (got, problem) = read(handler(&api, post_json("/auth/sign-in", BODY)).await.unwrap());
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, api_code), "{code}");
        }
    }

    #[tokio::test]
    async fn a_challenge_is_answered_with_its_name_and_session() {
        let rule = mock!(Client::initiate_auth).then_output(|| {
            InitiateAuthOutput::builder()
                .challenge_name(ChallengeNameType::NewPasswordRequired)
                .session("session-1")
                .challenge_parameters("USER_ID_FOR_SRP", "ada")
                .build()
        });
        let api = api(&[&rule], None);
        let (status, body) = read(handler(&api, post_json("/auth/sign-in", BODY)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(body["challengeName"], "NEW_PASSWORD_REQUIRED");
        assert_eq!(body["session"], "session-1");
        assert_eq!(body["challengeParameters"]["USER_ID_FOR_SRP"], "ada");
        assert!(body.get("accessToken").is_none());
    }
}
