//! `POST /auth/respond-to-challenge` `{challengeName, session, username, responses}` → 200 with
//! the same body as sign-in: the tokens, or the next challenge (RespondToAuthChallenge).
//!
//! `responses` uses Cognito's ChallengeResponses names; the function adds `USERNAME` and
//! `SECRET_HASH` itself and refuses any name the challenge does not take:
//!
//! | challenge | responses |
//! |---|---|
//! | `NEW_PASSWORD_REQUIRED` | `NEW_PASSWORD`, and `userAttributes.<name>` for the attributes a user may set at sign-up |
//! | `SMS_MFA` | `SMS_MFA_CODE` |
//! | `SOFTWARE_TOKEN_MFA` | `SOFTWARE_TOKEN_MFA_CODE` |
//! | `SELECT_MFA_TYPE` | `ANSWER`: `SMS_MFA`, `SOFTWARE_TOKEN_MFA` or `EMAIL_MFA` |
//! | `MFA_SETUP` | `{}` to get a secret, then `SOFTWARE_TOKEN_MFA_CODE` |
//! | `SELECT_CHALLENGE` | `ANSWER`: `PASSWORD` (with `PASSWORD`), `EMAIL_OTP`, `SMS_OTP` or `WEB_AUTHN` |
//! | `PASSWORD` | `PASSWORD` |
//! | `EMAIL_OTP` | `EMAIL_OTP_CODE` (a sign-in code, or email as a second factor) |
//! | `SMS_OTP` | `SMS_OTP_CODE` |
//! | `WEB_AUTHN` | `CREDENTIAL`: the passkey's answer, a JSON object or that object as a JSON string |
//!
//! `MFA_SETUP` (a pool that requires MFA, a user without a factor) takes two calls: with
//! `responses: {}` it associates a software token with the session and answers
//! `{challengeName: "MFA_SETUP", session, secretCode, otpauthUri}`; with the app's first code
//! it verifies the token (VerifySoftwareToken) and completes the challenge with the session
//! that verification gave.
//!
//! A session Cognito no longer knows (they last 3 minutes, and most are single use) is 401
//! `SessionExpired`: the user signs in again. A wrong code is 400 `CodeMismatch` and the session
//! stays usable; a refused passkey answer is 401 `InvalidCredentials`.

use std::collections::BTreeMap;

use http_kit::ApiError;
use http_kit::body::{JsonFields, json_object};
use http_kit::inputs::{ConfirmationCode, Password, Session, Username};
use http_kit::respond;
use http_kit::response::json;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tracing::instrument;

use crate::cognito::{IdentityProvider, TokenAuth};
use crate::errors::{Exceptions, answer};
use crate::sign_in::answer_sign_in;
use crate::sign_in_methods::SignInMethod;
use crate::{AccountApi, HandlerResult};

/// Cognito's answers that mean something else here (see [`crate::errors`]): an expired,
/// used or unknown session (Cognito says "not authorized"; the emulator "resource not found";
/// a session for another user "user not found") means signing in again.
const COGNITO_EXCEPTIONS: Exceptions = &[
    ("NotAuthorizedException", || ApiError::SessionExpired),
    ("ResourceNotFoundException", || ApiError::SessionExpired),
    ("UserNotFoundException", || ApiError::SessionExpired),
];

/// For an answer that is a credential (a password, a passkey), Cognito's "not authorized"
/// refuses the credential, not the session.
const CREDENTIAL_EXCEPTIONS: Exceptions = &[
    ("NotAuthorizedException", || ApiError::InvalidCredentials),
    ("ResourceNotFoundException", || ApiError::SessionExpired),
    ("UserNotFoundException", || ApiError::SessionExpired),
];

/// The challenges this route answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChallengeName {
    NewPasswordRequired,
    SmsMfa,
    SoftwareTokenMfa,
    SelectMfaType,
    MfaSetup,
    SelectChallenge,
    Password,
    EmailOtp,
    SmsOtp,
    WebAuthn,
}

impl ChallengeName {
    const ALL: [ChallengeName; 10] = [
        ChallengeName::NewPasswordRequired,
        ChallengeName::SmsMfa,
        ChallengeName::SoftwareTokenMfa,
        ChallengeName::SelectMfaType,
        ChallengeName::MfaSetup,
        ChallengeName::SelectChallenge,
        ChallengeName::Password,
        ChallengeName::EmailOtp,
        ChallengeName::SmsOtp,
        ChallengeName::WebAuthn,
    ];

    fn name(self) -> &'static str {
        match self {
            ChallengeName::NewPasswordRequired => "NEW_PASSWORD_REQUIRED",
            ChallengeName::SmsMfa => "SMS_MFA",
            ChallengeName::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            ChallengeName::SelectMfaType => "SELECT_MFA_TYPE",
            ChallengeName::MfaSetup => "MFA_SETUP",
            ChallengeName::SelectChallenge => "SELECT_CHALLENGE",
            ChallengeName::Password => "PASSWORD",
            ChallengeName::EmailOtp => "EMAIL_OTP",
            ChallengeName::SmsOtp => "SMS_OTP",
            ChallengeName::WebAuthn => "WEB_AUTHN",
        }
    }
}

impl TryFrom<String> for ChallengeName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        ChallengeName::ALL
            .into_iter()
            .find(|c| c.name() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = ChallengeName::ALL.iter().map(|c| c.name()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }
}

/// A checked answer.
enum Answer {
    /// Sent to RespondToAuthChallenge as they are.
    Responses(BTreeMap<String, SecretString>),
    /// `MFA_SETUP` without a code: associate a software token first.
    StartTotpSetup,
    /// `MFA_SETUP` with the app's first code.
    FinishTotpSetup(ConfirmationCode),
}

struct ChallengeRequest {
    challenge: ChallengeName,
    session: Session,
    username: Username,
    answer: Answer,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TotpSetupBody<'a> {
    challenge_name: &'static str,
    session: &'a str,
    secret_code: &'a str,
    otpauth_uri: String,
}

/// The Lambda handler.
#[instrument(name = "respond_to_challenge", skip_all)]
pub async fn handler<P: IdentityProvider>(api: &AccountApi<P>, request: Request) -> HandlerResult {
    Ok(respond(respond_to_challenge(api, &request).await))
}

async fn respond_to_challenge<P: IdentityProvider>(
    api: &AccountApi<P>,
    request: &Request,
) -> Result<Response<Body>, ApiError> {
    let ChallengeRequest {
        challenge,
        session,
        username,
        answer: checked,
    } = parse(api, request)?;
    let session = SecretString::from(session);
    match checked {
        Answer::Responses(responses) => {
            let credential = responses.contains_key("PASSWORD") || responses.contains_key("CREDENTIAL");
            let exceptions = if credential {
                CREDENTIAL_EXCEPTIONS
            } else {
                COGNITO_EXCEPTIONS
            };
            let outcome = api
                .idp
                .respond_to_challenge(challenge.name(), &session, &username, &responses)
                .await
                .map_err(answer(exceptions))?;
            answer_sign_in(&outcome)
        }
        Answer::StartTotpSetup => {
            let token = api
                .idp
                .associate_software_token(TokenAuth::Session(&session))
                .await
                .map_err(answer(COGNITO_EXCEPTIONS))?;
            let next_session = token.session.as_ref().unwrap_or(&session);
            let secret = token.secret_code.expose_secret();
            json(
                StatusCode::OK,
                &TotpSetupBody {
                    challenge_name: ChallengeName::MfaSetup.name(),
                    session: next_session.expose_secret(),
                    secret_code: secret,
                    otpauth_uri: api.totp_issuer.otpauth_uri(username.as_str(), secret),
                },
            )
        }
        Answer::FinishTotpSetup(code) => {
            let verified = api
                .idp
                .verify_software_token(TokenAuth::Session(&session), &code, None)
                .await
                .map_err(answer(COGNITO_EXCEPTIONS))?;
            if verified.status != "SUCCESS" {
                return Err(ApiError::CodeMismatch);
            }
            // The challenge is completed with the session verification gave, not the first.
            let session = verified.session.unwrap_or(session);
            let outcome = api
                .idp
                .respond_to_challenge(ChallengeName::MfaSetup.name(), &session, &username, &BTreeMap::new())
                .await
                .map_err(answer(COGNITO_EXCEPTIONS))?;
            answer_sign_in(&outcome)
        }
    }
}

fn parse<P>(api: &AccountApi<P>, request: &Request) -> Result<ChallengeRequest, ApiError> {
    let mut fields = json_object(request)?;
    let challenge = fields.required::<ChallengeName>("challengeName");
    let session = fields.required::<Session>("session");
    let username = fields.required::<Username>("username");
    let answer = fields.required_object("responses", |responses| match challenge {
        Some(challenge) => read_answer(api, challenge, responses),
        // Which answers are valid depends on the challenge, already reported.
        None => {
            responses.skip_remaining();
            None
        }
    });
    fields.finish(|| {
        Some(ChallengeRequest {
            challenge: challenge?,
            session: session?,
            username: username?,
            answer: answer?,
        })
    })
}

/// The answers `challenge` takes, each checked; any other name is refused as no answer to it.
fn read_answer<P>(api: &AccountApi<P>, challenge: ChallengeName, responses: &mut JsonFields) -> Option<Answer> {
    let answer = match challenge {
        ChallengeName::NewPasswordRequired => {
            let password = responses.required::<Password>("NEW_PASSWORD");
            let mut answers = BTreeMap::new();
            for key in responses.names_starting_with("userAttributes.") {
                let Some(value) = responses.required_string(&key) else {
                    continue;
                };
                let name = key.trim_start_matches("userAttributes.");
                match api.sign_up_attributes.check(name, &value, &[]) {
                    Ok(()) => {
                        answers.insert(key, SecretString::from(value));
                    }
                    Err(message) => responses.reject(&key, message),
                }
            }
            password.map(|password| {
                answers.insert("NEW_PASSWORD".to_owned(), SecretString::from(password));
                Answer::Responses(answers)
            })
        }
        ChallengeName::SmsMfa | ChallengeName::SoftwareTokenMfa | ChallengeName::EmailOtp | ChallengeName::SmsOtp => {
            let name = match challenge {
                ChallengeName::SmsMfa => "SMS_MFA_CODE",
                ChallengeName::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA_CODE",
                ChallengeName::EmailOtp => "EMAIL_OTP_CODE",
                _ => "SMS_OTP_CODE",
            };
            responses
                .required::<ConfirmationCode>(name)
                .map(|code| Answer::Responses(BTreeMap::from([(name.to_owned(), SecretString::from(code))])))
        }
        ChallengeName::SelectMfaType => responses.required_string("ANSWER").and_then(|choice| {
            if ["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_MFA"].contains(&choice.as_str()) {
                Some(Answer::Responses(BTreeMap::from([(
                    "ANSWER".to_owned(),
                    SecretString::from(choice),
                )])))
            } else {
                responses.reject("ANSWER", "must be SMS_MFA, SOFTWARE_TOKEN_MFA or EMAIL_MFA");
                None
            }
        }),
        ChallengeName::SelectChallenge => {
            let choice = responses.required_string("ANSWER");
            match choice.as_deref().map(|c| (c, SignInMethod::from_challenge(c))) {
                Some((_, Some(method))) => {
                    let mut answers = BTreeMap::from([("ANSWER".to_owned(), SecretString::from(method.challenge()))]);
                    // The password answers in the same call; the other methods' answers come next.
                    if method == SignInMethod::Password {
                        let password = responses.required::<Password>("PASSWORD");
                        password.map(|p| {
                            answers.insert("PASSWORD".to_owned(), SecretString::from(p));
                            Answer::Responses(answers)
                        })
                    } else {
                        Some(Answer::Responses(answers))
                    }
                }
                Some((_, None)) => {
                    responses.reject("ANSWER", "must be PASSWORD, EMAIL_OTP, SMS_OTP or WEB_AUTHN");
                    responses.skip_remaining();
                    None
                }
                None => {
                    responses.skip_remaining();
                    None
                }
            }
        }
        ChallengeName::Password => responses
            .required::<Password>("PASSWORD")
            .map(|p| Answer::Responses(BTreeMap::from([("PASSWORD".to_owned(), SecretString::from(p))]))),
        ChallengeName::WebAuthn => responses.required_json_text("CREDENTIAL").map(|credential| {
            Answer::Responses(BTreeMap::from([(
                "CREDENTIAL".to_owned(),
                SecretString::from(credential),
            )]))
        }),
        // Without a code, the first of the two calls; an invalid code is already rejected.
        ChallengeName::MfaSetup => Some(
            match responses.optional::<ConfirmationCode>("SOFTWARE_TOKEN_MFA_CODE") {
                Some(code) => Answer::FinishTotpSetup(code),
                None => Answer::StartTotpSetup,
            },
        ),
    };
    responses.reject_remaining(&format!("is not an answer to {}", challenge.name()));
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cognito::secret_hash;
    use crate::test_support::*;
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::operation::associate_software_token::AssociateSoftwareTokenOutput;
    use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
    use aws_sdk_cognitoidentityprovider::operation::verify_software_token::VerifySoftwareTokenOutput;
    use aws_sdk_cognitoidentityprovider::types::{ChallengeNameType, VerifySoftwareTokenResponseType};
    use aws_smithy_mocks::mock;
    use serde_json::json;

    const SESSION: &str = "session-from-sign-in-0123456789";

    fn body(challenge: &str, responses: serde_json::Value) -> Request {
        let body = json!({"challengeName": challenge, "session": SESSION, "username": "ada", "responses": responses});
        post_json("/auth/respond-to-challenge", &body.to_string())
    }

    fn tokens() -> RespondToAuthChallengeOutput {
        RespondToAuthChallengeOutput::builder()
            .authentication_result(issued_tokens())
            .build()
    }

    #[tokio::test]
    async fn a_new_password_answers_with_tokens_and_the_function_adds_username_and_secret_hash() {
        let rule = mock!(Client::respond_to_auth_challenge)
            .match_requests(|req| {
                let responses = req.challenge_responses().cloned().unwrap_or_default();
                let get = |k: &str| responses.get(k).map(String::as_str);
                req.challenge_name() == Some(&ChallengeNameType::NewPasswordRequired)
                    && req.session() == Some(SESSION)
                    && req.client_id() == Some(CLIENT_ID)
                    && get("USERNAME") == Some("ada")
                    && get("NEW_PASSWORD") == Some("New-Passw0rd!")
                    && get("userAttributes.name") == Some("Ada Lovelace")
                    && get("SECRET_HASH") == Some(secret_hash("ada", CLIENT_ID, CLIENT_SECRET).as_str())
                    && responses.len() == 4
            })
            .then_output(tokens);
        let subject = api(&[&rule], Some(CLIENT_SECRET));
        let request = body(
            "NEW_PASSWORD_REQUIRED",
            json!({"NEW_PASSWORD": "New-Passw0rd!", "userAttributes.name": "Ada Lovelace"}),
        );
        let (status, answer) = read(handler(&subject, request).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(answer["accessToken"], "access.jwt");
        assert_eq!(answer["refreshToken"], "refresh-token");
    }

    #[tokio::test]
    async fn the_next_challenge_is_answered_like_sign_in() {
        let rule = mock!(Client::respond_to_auth_challenge).then_output(|| {
            RespondToAuthChallengeOutput::builder()
                .challenge_name(ChallengeNameType::SoftwareTokenMfa)
                .session("session-two-0123456789")
                .build()
        });
        let subject = api(&[&rule], None);
        let (status, answer) = read(
            handler(
                &subject,
                body("NEW_PASSWORD_REQUIRED", json!({"NEW_PASSWORD": "New-Passw0rd!"})),
            )
            .await
            .unwrap(),
        );
        assert_eq!(status, 200);
        assert_eq!(answer["challengeName"], "SOFTWARE_TOKEN_MFA");
        assert_eq!(answer["session"], "session-two-0123456789");
        assert!(answer.get("accessToken").is_none());
    }

    #[tokio::test]
    async fn mfa_codes_and_the_mfa_type_go_under_cognitos_names() {
        for (challenge, responses, key, value, expected_challenge) in [
            (
                "SMS_MFA",
                json!({"SMS_MFA_CODE": "123456"}),
                "SMS_MFA_CODE",
                "123456",
                ChallengeNameType::SmsMfa,
            ),
            (
                "SOFTWARE_TOKEN_MFA",
                json!({"SOFTWARE_TOKEN_MFA_CODE": "654321"}),
                "SOFTWARE_TOKEN_MFA_CODE",
                "654321",
                ChallengeNameType::SoftwareTokenMfa,
            ),
            (
                "SELECT_MFA_TYPE",
                json!({"ANSWER": "SOFTWARE_TOKEN_MFA"}),
                "ANSWER",
                "SOFTWARE_TOKEN_MFA",
                ChallengeNameType::SelectMfaType,
            ),
        ] {
            let rule = mock!(Client::respond_to_auth_challenge)
                .match_requests(move |req| {
                    let responses = req.challenge_responses().cloned().unwrap_or_default();
                    req.challenge_name() == Some(&expected_challenge)
                        && responses.get(key).map(String::as_str) == Some(value)
                        && responses.get("USERNAME").map(String::as_str) == Some("ada")
                        && responses.len() == 2
                })
                .then_output(tokens);
            let subject = api(&[&rule], None);
            let (status, answer) = read(handler(&subject, body(challenge, responses)).await.unwrap());
            assert_eq!(
                (status, answer["accessToken"].as_str()),
                (200, Some("access.jwt")),
                "{challenge}"
            );
        }
    }

    #[tokio::test]
    async fn names_the_challenge_does_not_take_are_refused_before_cognito() {
        let subject = api(&[], Some(CLIENT_SECRET));
        for (challenge, responses, bad) in [
            (
                "SMS_MFA",
                json!({"SMS_MFA_CODE": "1", "USERNAME": "eve"}),
                "responses.USERNAME",
            ),
            (
                "SMS_MFA",
                json!({"SMS_MFA_CODE": "1", "SECRET_HASH": "x"}),
                "responses.SECRET_HASH",
            ),
            (
                "SOFTWARE_TOKEN_MFA",
                json!({"SMS_MFA_CODE": "1", "SOFTWARE_TOKEN_MFA_CODE": "1"}),
                "responses.SMS_MFA_CODE",
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                json!({"NEW_PASSWORD": "New-Passw0rd!", "userAttributes.custom:team": "red"}),
                "responses.userAttributes.custom:team",
            ),
            (
                "NEW_PASSWORD_REQUIRED",
                json!({"NEW_PASSWORD": "New-Passw0rd!", "userAttributes.email_verified": "true"}),
                "responses.userAttributes.email_verified",
            ),
            ("NEW_PASSWORD_REQUIRED", json!({}), "responses.NEW_PASSWORD"),
            (
                "NEW_PASSWORD_REQUIRED",
                json!({"NEW_PASSWORD": "short"}),
                "responses.NEW_PASSWORD",
            ),
            ("SELECT_MFA_TYPE", json!({"ANSWER": "EMAIL_OTP"}), "responses.ANSWER"),
            ("MFA_SETUP", json!({"ANSWER": "SOFTWARE_TOKEN_MFA"}), "responses.ANSWER"),
            ("SMS_MFA", json!({"SMS_MFA_CODE": 123456}), "responses.SMS_MFA_CODE"),
            ("CUSTOM_CHALLENGE", json!({"ANSWER": "x"}), "challengeName"),
            ("PASSWORD_VERIFIER", json!({}), "challengeName"),
        ] {
            let (status, problem) = read(handler(&subject, body(challenge, responses.clone())).await.unwrap());
            let sources = error_sources(&problem);
            assert_eq!(status, 400, "{challenge} {responses}");
            assert!(sources.iter().any(|s| s == bad), "{challenge} {responses}: {sources:?}");
        }
        let missing = post_json(
            "/auth/respond-to-challenge",
            r#"{"challengeName":"SMS_MFA","session":"short","username":""}"#,
        );
        let (status, problem) = read(handler(&subject, missing).await.unwrap());
        let sources = error_sources(&problem);
        assert_eq!(status, 400);
        assert_eq!(sources, ["responses", "session", "username"]);
    }

    #[tokio::test]
    async fn an_expired_or_unknown_session_means_signing_in_again() {
        for code in [
            "NotAuthorizedException",
            "ResourceNotFoundException",
            "UserNotFoundException",
        ] {
            let rule = fails_with(
                mock!(Client::respond_to_auth_challenge),
                code,
                "Invalid session for the user, session is expired.",
            );
            let subject = api(&[&rule], None);
            let (status, problem) = read(
                handler(&subject, body("SMS_MFA", json!({"SMS_MFA_CODE": "123456"})))
                    .await
                    .unwrap(),
            );
            assert_eq!(
                (status, problem["code"].as_str().unwrap()),
                (401, "SessionExpired"),
                "{code}"
            );
            assert!(problem["detail"].as_str().unwrap().contains("sign in again"));
        }
        for (code, status, problem_code) in [
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("InvalidPasswordException", 400, "InvalidPassword"),
        ] {
            let rule = fails_with(mock!(Client::respond_to_auth_challenge), code, "x");
            let subject = api(&[&rule], None);
            let (got, problem) = read(
                handler(
                    &subject,
                    body("SOFTWARE_TOKEN_MFA", json!({"SOFTWARE_TOKEN_MFA_CODE": "123456"})),
                )
                .await
                .unwrap(),
            );
            assert_eq!(
                (got, problem["code"].as_str().unwrap()),
                (status, problem_code),
                "{code}"
            );
        }
    }

    #[tokio::test]
    async fn mfa_setup_gives_a_secret_then_verifies_and_completes_with_the_verified_session() {
        let associate = mock!(Client::associate_software_token)
            .match_requests(|req| req.session() == Some(SESSION) && req.access_token().is_none())
            .then_output(|| {
                AssociateSoftwareTokenOutput::builder()
                    .secret_code("JBSWY3DPEHPK3PXP")
                    .session("session-after-associate-0123")
                    .build()
            });
        let subject = api(&[&associate], None);
        let (status, answer) = read(handler(&subject, body("MFA_SETUP", json!({}))).await.unwrap());
        assert_eq!(status, 200);
        assert_eq!(
            answer,
            json!({
                "challengeName": "MFA_SETUP",
                "session": "session-after-associate-0123",
                "secretCode": "JBSWY3DPEHPK3PXP",
                "otpauthUri": "otpauth://totp/Cognito:ada?secret=JBSWY3DPEHPK3PXP&issuer=Cognito&algorithm=SHA1&digits=6&period=30"
            })
        );

        let verify = mock!(Client::verify_software_token)
            .match_requests(|req| req.session() == Some(SESSION) && req.user_code() == Some("123456"))
            .then_output(|| {
                VerifySoftwareTokenOutput::builder()
                    .status(VerifySoftwareTokenResponseType::Success)
                    .session("session-after-verify-0123")
                    .build()
            });
        let complete = mock!(Client::respond_to_auth_challenge)
            .match_requests(|req| {
                let responses = req.challenge_responses().cloned().unwrap_or_default();
                req.challenge_name() == Some(&ChallengeNameType::MfaSetup)
                    && req.session() == Some("session-after-verify-0123")
                    && responses.get("USERNAME").map(String::as_str) == Some("ada")
                    && responses.len() == 1
            })
            .then_output(tokens);
        let subject = api(&[&verify, &complete], None);
        let (status, answer) = read(
            handler(
                &subject,
                body("MFA_SETUP", json!({"SOFTWARE_TOKEN_MFA_CODE": "123456"})),
            )
            .await
            .unwrap(),
        );
        assert_eq!((status, answer["accessToken"].as_str()), (200, Some("access.jwt")));

        let wrong = fails_with(
            mock!(Client::verify_software_token),
            "EnableSoftwareTokenMFAException",
            "Code mismatch",
        );
        let subject = api(&[&wrong], None);
        let (status, problem) = read(
            handler(
                &subject,
                body("MFA_SETUP", json!({"SOFTWARE_TOKEN_MFA_CODE": "000000"})),
            )
            .await
            .unwrap(),
        );
        assert_eq!((status, problem["code"].as_str().unwrap()), (400, "CodeMismatch"));
        let refused = mock!(Client::verify_software_token).then_output(|| {
            VerifySoftwareTokenOutput::builder()
                .status(VerifySoftwareTokenResponseType::Error)
                .build()
        });
        let subject = api(&[&refused], None);
        let (status, problem) = read(
            handler(
                &subject,
                body("MFA_SETUP", json!({"SOFTWARE_TOKEN_MFA_CODE": "000000"})),
            )
            .await
            .unwrap(),
        );
        assert_eq!((status, problem["code"].as_str().unwrap()), (400, "CodeMismatch"));
    }

    fn answered_with(
        challenge: ChallengeNameType,
        expected: &'static [(&'static str, &'static str)],
    ) -> aws_smithy_mocks::Rule {
        mock!(Client::respond_to_auth_challenge)
            .match_requests(move |req| {
                let responses = req.challenge_responses().cloned().unwrap_or_default();
                req.challenge_name() == Some(&challenge)
                    && req.session() == Some(SESSION)
                    && responses.get("USERNAME").map(String::as_str) == Some("ada")
                    && responses.len() == expected.len() + 1
                    && expected
                        .iter()
                        .all(|(k, v)| responses.get(*k).map(String::as_str) == Some(*v))
            })
            .then_output(tokens)
    }

    #[tokio::test]
    async fn an_email_sign_in_code_answers_with_tokens() {
        let rule = answered_with(ChallengeNameType::EmailOtp, &[("EMAIL_OTP_CODE", "123456")]);
        let subject = api(&[&rule], None);
        let request = body("EMAIL_OTP", json!({"EMAIL_OTP_CODE": "123456"}));
        let (status, answer) = read(handler(&subject, request).await.unwrap());
        assert_eq!((status, answer["accessToken"].as_str()), (200, Some("access.jwt")));
    }

    #[tokio::test]
    async fn an_sms_sign_in_code_answers_with_tokens() {
        let rule = answered_with(ChallengeNameType::SmsOtp, &[("SMS_OTP_CODE", "654321")]);
        let subject = api(&[&rule], None);
        let request = body("SMS_OTP", json!({"SMS_OTP_CODE": "654321"}));
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 200);
    }

    #[tokio::test]
    async fn a_wrong_code_keeps_the_session_and_the_attempt_after_the_limit_ends_it() {
        for (code, status, problem_code) in [
            ("CodeMismatchException", 400, "CodeMismatch"),
            ("ExpiredCodeException", 400, "ExpiredCode"),
            ("NotAuthorizedException", 401, "SessionExpired"),
        ] {
            let rule = fails_with(mock!(Client::respond_to_auth_challenge), code, "x");
            let subject = api(&[&rule], None);
            let request = body("EMAIL_OTP", json!({"EMAIL_OTP_CODE": "123456"}));
            let (got, problem) = read(handler(&subject, request).await.unwrap());
            assert_eq!((got, problem["code"].as_str()), (status, Some(problem_code)), "{code}");
        }
    }

    #[tokio::test]
    async fn choosing_the_password_answers_it_in_the_same_call() {
        let rule = answered_with(
            ChallengeNameType::SelectChallenge,
            &[("ANSWER", "PASSWORD"), ("PASSWORD", "Correct-Horse-1")],
        );
        let subject = api(&[&rule], None);
        let request = body(
            "SELECT_CHALLENGE",
            json!({"ANSWER": "PASSWORD", "PASSWORD": "Correct-Horse-1"}),
        );
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 200);
    }

    #[tokio::test]
    async fn choosing_a_code_answers_the_next_challenge() {
        let rule = mock!(Client::respond_to_auth_challenge)
            .match_requests(|req| {
                let responses = req.challenge_responses().cloned().unwrap_or_default();
                responses.get("ANSWER").map(String::as_str) == Some("EMAIL_OTP") && !responses.contains_key("PASSWORD")
            })
            .then_output(|| {
                RespondToAuthChallengeOutput::builder()
                    .challenge_name(ChallengeNameType::EmailOtp)
                    .session("session-otp-0123456789")
                    .build()
            });
        let subject = api(&[&rule], None);
        let (status, answer) = read(
            handler(&subject, body("SELECT_CHALLENGE", json!({"ANSWER": "EMAIL_OTP"})))
                .await
                .unwrap(),
        );
        assert_eq!((status, answer["challengeName"].as_str()), (200, Some("EMAIL_OTP")));
        assert_eq!(answer["session"], "session-otp-0123456789");
    }

    #[tokio::test]
    async fn a_choice_this_api_cannot_answer_or_a_stray_answer_is_refused_by_name() {
        let cases = [
            (json!({"ANSWER": "PASSWORD_SRP"}), vec!["responses.ANSWER"]),
            (json!({"ANSWER": "PASSWORD"}), vec!["responses.PASSWORD"]),
            (
                json!({"ANSWER": "EMAIL_OTP", "PASSWORD": "Correct-Horse-1"}),
                vec!["responses.PASSWORD"],
            ),
        ];
        for (responses, fields) in cases {
            let subject = api(&[], None);
            let (status, problem) = read(
                handler(&subject, body("SELECT_CHALLENGE", responses.clone()))
                    .await
                    .unwrap(),
            );
            assert_eq!(status, 400, "{responses}");
            assert_eq!(error_sources(&problem), fields, "{responses}");
        }
    }

    #[tokio::test]
    async fn a_wrong_password_is_refused_as_credentials_not_as_the_session() {
        let rule = fails_with(
            mock!(Client::respond_to_auth_challenge),
            "NotAuthorizedException",
            "Incorrect username or password.",
        );
        let subject = api(&[&rule], None);
        let request = body("PASSWORD", json!({"PASSWORD": "Wrong-Horse-1"}));
        let (status, problem) = read(handler(&subject, request).await.unwrap());
        assert_eq!((status, problem["code"].as_str()), (401, Some("InvalidCredentials")));
    }

    #[tokio::test]
    async fn a_passkey_answer_goes_to_cognito_as_json_text_whether_object_or_string() {
        let credential =
            json!({"id": "Y3JlZA", "rawId": "Y3JlZA", "type": "public-key", "response": {"clientDataJSON": "e30"}});
        for sent in [credential.clone(), serde_json::Value::String(credential.to_string())] {
            let expected = credential.clone();
            let rule = mock!(Client::respond_to_auth_challenge)
                .match_requests(move |req| {
                    let responses = req.challenge_responses().cloned().unwrap_or_default();
                    req.challenge_name() == Some(&ChallengeNameType::WebAuthn)
                        && responses
                            .get("CREDENTIAL")
                            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                            == Some(expected.clone())
                })
                .then_output(tokens);
            let subject = api(&[&rule], None);
            let (status, _) = read(
                handler(&subject, body("WEB_AUTHN", json!({"CREDENTIAL": sent})))
                    .await
                    .unwrap(),
            );
            assert_eq!(status, 200, "{sent}");
        }
    }

    #[tokio::test]
    async fn a_refused_passkey_is_invalid_credentials_and_a_non_object_credential_is_a_bad_field() {
        let rule = fails_with(mock!(Client::respond_to_auth_challenge), "NotAuthorizedException", "x");
        let subject = api(&[&rule], None);
        let request = body("WEB_AUTHN", json!({"CREDENTIAL": {"id": "Y3JlZA"}}));
        assert_eq!(
            read(handler(&subject, request).await.unwrap()).1["code"],
            "InvalidCredentials"
        );

        for bad in [json!("not json"), json!("[1]"), json!(7)] {
            let subject = api(&[], None);
            let (status, problem) = read(
                handler(&subject, body("WEB_AUTHN", json!({"CREDENTIAL": bad})))
                    .await
                    .unwrap(),
            );
            assert_eq!(
                (status, error_sources(&problem)),
                (400, vec!["responses.CREDENTIAL".to_owned()]),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn email_is_a_second_factor_choice() {
        let rule = answered_with(ChallengeNameType::SelectMfaType, &[("ANSWER", "EMAIL_MFA")]);
        let subject = api(&[&rule], None);
        let request = body("SELECT_MFA_TYPE", json!({"ANSWER": "EMAIL_MFA"}));
        assert_eq!(read(handler(&subject, request).await.unwrap()).0, 200);
    }
}
