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
            api.idp.user_auth(request).await.map_err(|err| match err.code() {
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
    use crate::sign_in_methods::SignInMethods;
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

    fn choice(api: &mut AccountApi<crate::cognito::CognitoIdentityProvider>) {
        api.sign_in_methods = SignInMethods::of(&[
            SignInMethod::Password,
            SignInMethod::EmailOtp,
            SignInMethod::SmsOtp,
            SignInMethod::Passkey,
        ]);
    }

    fn email_code_challenge() -> InitiateAuthOutput {
        InitiateAuthOutput::builder()
            .challenge_name(ChallengeNameType::EmailOtp)
            .session("session-otp")
            .challenge_parameters("CODE_DELIVERY_DESTINATION", "a***@e***")
            .challenge_parameters("CODE_DELIVERY_DELIVERY_MEDIUM", "EMAIL")
            .build()
    }

    #[tokio::test]
    async fn an_email_code_sign_in_asks_cognito_for_that_challenge_with_the_secret_hash() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::UserAuth)
                    && params.get("USERNAME").map(String::as_str) == Some("ada")
                    && params.get("PREFERRED_CHALLENGE").map(String::as_str) == Some("EMAIL_OTP")
                    && params.get("SECRET_HASH") == Some(&secret_hash("ada", CLIENT_ID, CLIENT_SECRET))
                    && !params.contains_key("PASSWORD")
                    && req.session().is_none()
            })
            .then_output(email_code_challenge);
        let mut api = api(&[&rule], Some(CLIENT_SECRET));
        choice(&mut api);
        let body = r#"{"username":"ada","method":"email-otp"}"#;
        let (status, body) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(body["challengeName"], "EMAIL_OTP");
        assert_eq!(body["session"], "session-otp");
        assert_eq!(body["challengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
        assert!(body.get("availableChallenges").is_none());
    }

    #[tokio::test]
    async fn method_password_with_the_password_signs_in_at_once_through_user_auth() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::UserAuth)
                    && params.get("PREFERRED_CHALLENGE").map(String::as_str) == Some("PASSWORD")
                    && params.get("PASSWORD").map(String::as_str) == Some("Correct-Horse-1")
            })
            .then_output(tokens);
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let body = r#"{"username":"ada","method":"password","password":"Correct-Horse-1"}"#;
        let (status, body) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(body["accessToken"], "access.jwt");
    }

    #[tokio::test]
    async fn a_password_without_method_stays_the_password_flow_when_choice_is_on() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| req.auth_flow() == Some(&AuthFlowType::UserPasswordAuth))
            .then_output(tokens);
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let (status, _) = read(handler(&api, post_json("/auth/sign-in", BODY)).await.unwrap());
        assert_eq!(status, 200);
    }

    #[tokio::test]
    async fn the_username_alone_answers_the_choice_without_password_srp() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::UserAuth) && !params.contains_key("PREFERRED_CHALLENGE")
            })
            .then_output(|| {
                InitiateAuthOutput::builder()
                    .challenge_name(ChallengeNameType::SelectChallenge)
                    .session("session-choice")
                    .available_challenges(ChallengeNameType::PasswordSrp)
                    .available_challenges(ChallengeNameType::Password)
                    .available_challenges(ChallengeNameType::EmailOtp)
                    .available_challenges(ChallengeNameType::WebAuthn)
                    .build()
            });
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let (status, body) = read(
            handler(&api, post_json("/auth/sign-in", r#"{"username":"ada"}"#))
                .await
                .unwrap(),
        );
        assert_eq!(status, 200);
        assert_eq!(body["challengeName"], "SELECT_CHALLENGE");
        assert_eq!(body["session"], "session-choice");
        assert_eq!(
            body["availableChallenges"],
            serde_json::json!(["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"])
        );
    }

    #[tokio::test]
    async fn a_sign_up_session_signs_in_without_a_second_code() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                req.auth_flow() == Some(&AuthFlowType::UserAuth)
                    && req.session() == Some("session-from-confirmation")
                    && !params.contains_key("PREFERRED_CHALLENGE")
            })
            .then_output(tokens);
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let body = r#"{"username":"ada","session":"session-from-confirmation"}"#;
        let (status, body) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(body["refreshToken"], "refresh-token");
    }

    #[tokio::test]
    async fn a_sign_up_session_cognito_no_longer_knows_is_an_expired_session() {
        let rule = fails_with(
            mock!(Client::initiate_auth),
            "NotAuthorizedException",
            "Invalid session.",
        );
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let body = r#"{"username":"ada","session":"session-from-confirmation"}"#;
        let (status, problem) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!((status, problem["code"].as_str()), (401, Some("SessionExpired")));
    }

    #[tokio::test]
    async fn the_assurance_level_asked_for_goes_to_cognito_as_target_acr_values() {
        let rule = mock!(Client::initiate_auth)
            .match_requests(|req| {
                let params = req.auth_parameters().cloned().unwrap_or_default();
                params.get("TARGET_ACR_VALUES").map(String::as_str) == Some("mfa pwd")
                    && params.get("PREFERRED_CHALLENGE").map(String::as_str) == Some("EMAIL_OTP")
            })
            .then_output(email_code_challenge);
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let body = r#"{"username":"ada","method":"email-otp","acr":"mfa pwd"}"#;
        let (status, body) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!((status, body["challengeName"].as_str()), (200, Some("EMAIL_OTP")));
    }

    #[tokio::test]
    async fn contradictory_fields_are_refused_each_by_name_before_any_call() {
        let cases = [
            (
                r#"{"username":"ada","method":"email-otp","password":"Correct-Horse-1"}"#,
                vec!["password"],
            ),
            (
                r#"{"username":"ada","method":"passkey","session":"session-from-confirmation"}"#,
                vec!["session"],
            ),
            (
                r#"{"username":"ada","password":"Correct-Horse-1","session":"session-from-confirmation"}"#,
                vec!["session"],
            ),
            (r#"{"username":"ada","method":"otp"}"#, vec!["method"]),
            (
                r#"{"username":"ada","password":"Correct-Horse-1","acr":"mfa"}"#,
                vec!["acr"],
            ),
            (r#"{"method":"email-otp","acr":"two  spaces"}"#, vec!["acr", "username"]),
        ];
        for (body, fields) in cases {
            let mut api = api(&[], None);
            choice(&mut api);
            let (status, problem) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
            assert_eq!(
                (status, problem["code"].as_str()),
                (400, Some("ValidationFailed")),
                "{body}"
            );
            assert_eq!(error_sources(&problem), fields, "{body}");
        }
    }

    #[tokio::test]
    async fn a_password_only_pool_still_requires_the_password_and_takes_no_session() {
        for (body, field) in [
            (r#"{"username":"ada"}"#, "password"),
            (r#"{"username":"ada","session":"session-from-confirmation"}"#, "session"),
        ] {
            let api = api(&[], None);
            let (status, problem) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
            assert_eq!(
                (status, error_sources(&problem)),
                (400, vec![field.to_owned()]),
                "{body}"
            );
        }
    }

    #[tokio::test]
    async fn a_method_the_deployment_does_not_offer_is_named_in_the_refusal() {
        let mut api = api(&[], None);
        api.sign_in_methods = SignInMethods::of(&[SignInMethod::Password, SignInMethod::EmailOtp]);
        let (status, problem) = read(
            handler(
                &api,
                post_json("/auth/sign-in", r#"{"username":"ada","method":"sms-otp"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("SignInMethodUnavailable"))
        );
        assert!(problem["detail"].as_str().unwrap().contains("sms-otp"), "{problem}");

        // Without choice-based sign-in, even `method: "password"` is not on offer.
        let api = crate::test_support::api(&[], None);
        let body = r#"{"username":"ada","method":"password","password":"Correct-Horse-1"}"#;
        let (_, problem) = read(handler(&api, post_json("/auth/sign-in", body)).await.unwrap());
        assert_eq!(problem["code"], "SignInMethodUnavailable");
    }

    #[tokio::test]
    async fn a_plan_without_choice_based_sign_in_is_an_unavailable_method_not_a_500() {
        let rule = fails_with(
            mock!(Client::initiate_auth),
            "FeatureUnavailableInTierException",
            "USER_AUTH is not available in this tier",
        );
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let (status, problem) = read(
            handler(
                &api,
                post_json("/auth/sign-in", r#"{"username":"ada","method":"email-otp"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!(
            (status, problem["code"].as_str()),
            (400, Some("SignInMethodUnavailable"))
        );
        assert!(problem["detail"].as_str().unwrap().contains("email-otp"), "{problem}");
    }

    #[tokio::test]
    async fn passkey_request_options_are_answered_as_a_json_object() {
        let options = r#"{"challenge":"Y2hhbGxlbmdl","rpId":"example.com","allowCredentials":[]}"#;
        let rule = mock!(Client::initiate_auth).then_output(move || {
            InitiateAuthOutput::builder()
                .challenge_name(ChallengeNameType::WebAuthn)
                .session("session-passkey")
                .challenge_parameters("CREDENTIAL_REQUEST_OPTIONS", options)
                .build()
        });
        let mut api = api(&[&rule], None);
        choice(&mut api);
        let (status, body) = read(
            handler(
                &api,
                post_json("/auth/sign-in", r#"{"username":"ada","method":"passkey"}"#),
            )
            .await
            .unwrap(),
        );
        assert_eq!(status, 200);
        assert_eq!(body["challengeName"], "WEB_AUTHN");
        assert_eq!(body["credentialRequestOptions"]["rpId"], "example.com");
        assert_eq!(
            body["credentialRequestOptions"]["allowCredentials"],
            serde_json::json!([])
        );
    }
}
