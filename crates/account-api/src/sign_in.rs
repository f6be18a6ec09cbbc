//! `POST /auth/sign-in` `{username, password?, method?, session?, acr?}` → 200
//! `{accessToken, idToken, refreshToken, expiresIn, tokenType: "Bearer"}`, or 200
//! `{challengeName, session, challengeParameters}` when Cognito asks for more first.
//!
//! | body | Cognito |
//! |---|---|
//! | `{username, password}` | `USER_PASSWORD_AUTH`, on every plan |
//! | `{username, method}` | `USER_AUTH` with `PREFERRED_CHALLENGE`: the method's challenge (`EMAIL_OTP` sends a code) |
//! | `{username, method: "password", password}` | `USER_AUTH`, `PREFERRED_CHALLENGE=PASSWORD`: signed in at once |
//! | `{username}` | `USER_AUTH` without a preference: `SELECT_CHALLENGE` with `availableChallenges` |
//! | `{username, session}` | `USER_AUTH` with the session a confirmed sign-up gave: no second code |
//!
//! `acr` (the assurance levels asked for, highest first) goes with `USER_AUTH` as
//! `TARGET_ACR_VALUES`. A method the deployment does not offer (`SIGN_IN_METHODS`) is 400
//! `SignInMethodUnavailable`, before any call.

use std::collections::BTreeMap;

use crate::cognito::{IdentityProvider, IdpError, SignInOutcome, UserAuth};
use crate::errors::{Exceptions, answer};
use crate::sign_in_methods::SignInMethod;
use http_kit::ApiError;
use http_kit::body::json_object;
use http_kit::inputs::{Password, Session, Username};
use http_kit::respond;
use http_kit::response::{TokensBody, json};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
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
    #[serde(skip_serializing_if = "Option::is_none")]
    available_challenges: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_request_options: Option<serde_json::Value>,
}

/// Cognito's answers that mean something else here (see [`crate::errors`]): whether the user
/// exists is nobody's business at sign-in.
const COGNITO_EXCEPTIONS: Exceptions = &[
    ("NotAuthorizedException", || ApiError::InvalidCredentials),
    ("UserNotFoundException", || ApiError::InvalidCredentials),
];

/// `TARGET_ACR_VALUES`: assurance level names separated by single spaces, highest first.
struct AcrValues(String);

impl TryFrom<String> for AcrValues {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        let names_ok = value
            .split(' ')
            .all(|name| http_kit::inputs::is_visible_ascii(name, 1..=128));
        if value.len() > 512 || !names_ok {
            return Err("must be assurance level names separated by single spaces (at most 512 characters)".into());
        }
        Ok(Self(value))
    }
}

/// What the body asks for.
enum SignIn {
    /// `{username, password}`: `USER_PASSWORD_AUTH`.
    Password(Username, Password),
    /// Choice-based sign-in.
    Choice {
        username: Username,
        method: Option<SignInMethod>,
        password: Option<Password>,
        acr: Option<AcrValues>,
    },
    /// `{username, session}`: the sign-in a confirmed sign-up's session allows.
    AfterConfirmation(Username, Session),
}

/// The Lambda handler.
#[instrument(name = "sign_in", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(sign_in(api, &request).await))
}

async fn sign_in<P: IdentityProvider>(api: &AccountApi<P>, request: &Request) -> Result<Response<Body>, ApiError> {
    let outcome = match parse(api, request)? {
        SignIn::Password(username, password) => api
            .idp
            .sign_in(&username, &password)
            .await
            .map_err(answer(COGNITO_EXCEPTIONS))?,
        SignIn::Choice {
            username,
            method,
            password,
            acr,
        } => {
            // Without choice-based sign-in even the password is not a `method`.
            let offered = |m: &SignInMethod| api.sign_in_methods.user_auth() && api.sign_in_methods.offers(*m);
            if let Some(method) = method.filter(|m| !offered(m)) {
                return Err(ApiError::SignInMethodUnavailable { method: method.word() });
            }
            let request = UserAuth {
                username: &username,
                preferred: method.map(SignInMethod::challenge),
                password: password.as_ref(),
                acr: acr.as_ref().map(|a| a.0.as_str()),
                session: None,
            };
            let asked = method.map_or("a choice of methods", SignInMethod::word);
            api.idp.user_auth(request).await.map_err(user_auth_refused(asked))?
        }
        SignIn::AfterConfirmation(username, session) => {
            let session = SecretString::from(session);
            let request = UserAuth {
                username: &username,
                preferred: None,
                password: None,
                acr: None,
                session: Some(&session),
            };
            api.idp
                .user_auth(request)
                .await
                .map_err(|err| match err.code() {
                    // A session Cognito no longer knows, or for another user: start over.
                    Some("NotAuthorizedException" | "UserNotFoundException") => ApiError::SessionExpired,
                    _ => user_auth_refused("a sign-up session")(err),
                })?
        }
    };
    answer_sign_in(&outcome)
}

/// A refused `USER_AUTH`: a plan without it (`FeatureUnavailableInTierException`) means the
/// method `asked` is not on offer; the rest as a password sign-in.
fn user_auth_refused(asked: &'static str) -> impl FnOnce(IdpError) -> ApiError {
    move |err| {
        if err.code() == Some("FeatureUnavailableInTierException") {
            tracing::warn!(cognito_code = err.code(), "the pool's plan has no choice-based sign-in");
            ApiError::SignInMethodUnavailable { method: asked }
        } else {
            answer(COGNITO_EXCEPTIONS)(err)
        }
    }
}

fn parse<P>(api: &AccountApi<P>, request: &Request) -> Result<SignIn, ApiError> {
    let mut fields = json_object(request)?;
    let username = fields.required::<Username>("username");
    let password = fields.optional::<Password>("password");
    let method = fields.optional::<SignInMethod>("method");
    let session = fields.optional::<Session>("session");
    let acr = fields.optional::<AcrValues>("acr");
    let choice = api.sign_in_methods.user_auth();
    if session.is_some() {
        if !choice {
            fields.reject("session", "is not taken: this pool signs in with a password only");
        } else if method.is_some() || password.is_some() || acr.is_some() {
            fields.reject("session", "is taken with username alone (no method, password or acr)");
        }
    } else if let Some(method) = method {
        if method != SignInMethod::Password && password.is_some() {
            fields.reject("password", "is taken only with method password");
        }
    } else if password.is_some() && acr.is_some() {
        fields.reject("acr", "is taken only with method (choice-based sign-in)");
    } else if password.is_none() && !choice && !fields.rejected("password") {
        // Without choice-based sign-in the password is what signs in, as it always was.
        fields.reject("password", "is required");
    }
    fields.finish(|| {
        let username = username?;
        Some(match (session, method, password) {
            (Some(session), _, _) => SignIn::AfterConfirmation(username, session),
            (None, None, Some(password)) => SignIn::Password(username, password),
            (None, method, password) => SignIn::Choice {
                username,
                method,
                password,
                acr,
            },
        })
    })
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
            available,
        } => {
            // This API answers these first factors; PASSWORD_SRP needs a client-side SRP.
            let available_challenges = (name == "SELECT_CHALLENGE").then(|| {
                available
                    .iter()
                    .filter_map(|c| SignInMethod::from_challenge(c))
                    .map(SignInMethod::challenge)
                    .collect()
            });
            // Cognito sends the WebAuthn request options as a JSON string; callers get the object.
            let credential_request_options = match parameters.get("CREDENTIAL_REQUEST_OPTIONS") {
                Some(text) => Some(
                    serde_json::from_str::<serde_json::Value>(text)
                        .ok()
                        .filter(serde_json::Value::is_object)
                        .ok_or_else(|| ApiError::internal("CREDENTIAL_REQUEST_OPTIONS is not a JSON object"))?,
                ),
                None => None,
            };
            json(
                StatusCode::OK,
                &ChallengeBody {
                    challenge_name: name,
                    session: session.as_ref().map(|s| s.expose_secret()),
                    challenge_parameters: parameters,
                    available_challenges,
                    credential_request_options,
                },
            )
        }
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
