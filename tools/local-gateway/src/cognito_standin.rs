//! The local Cognito's front door: a stand-in that speaks Cognito's JSON protocol on loopback
//! in front of the emulator. It answers the calls Cognito has and the emulator lacks, with the
//! checks Cognito makes, and forwards every other call to the emulator untouched, so the
//! functions, `cargo lambda watch` and the harness reach it as they reach Cognito
//! (`AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`).
//!
//! It answers `GetUserAuthFactors` (the emulator's GetUser checks the token and names the MFA
//! factors), choice-based sign-in and sign-up without a password ([`ChoiceConfig`], module
//! `choice_sign_in`), and it rotates refresh tokens, as an app client with
//! `RefreshTokenRotation` enabled does:
//!
//! - `GetTokensFromRefreshToken` answers new ID and access tokens (the emulator's own, obtained
//!   with the sign-in's refresh token, so every route and the authorizer accept them, and a
//!   sign-out at the emulator ends the whole chain) and a new refresh token. The one presented
//!   stays usable for the grace period, then it is `RefreshTokenReuseException`; a token the
//!   emulator never issued, or one it has signed out, is refused by the emulator itself.
//! - `InitiateAuth` with `REFRESH_TOKEN_AUTH` is refused, as Cognito refuses it on a rotating
//!   client ("You can't authenticate with REFRESH_TOKEN_AUTH in app clients with refresh token
//!   rotation enabled", Amazon Cognito Developer Guide, "Refresh tokens"). The exception
//!   Cognito names then is not documented; the stand-in answers `NotAuthorizedException`.
//!
//! What it does not prove: Cognito's own token format (its refresh tokens here are random
//! strings of the same shape), what reuse does to the rest of the chain (undocumented: here only
//! the reused token is refused), and whether `origin_jti` survives a rotation (the emulator's
//! tokens carry none).

mod choice_sign_in;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use choice_sign_in::ChoiceConfig;
use choice_sign_in::ChoiceSignIn;

/// The target prefix of every Cognito user pools call.
const SERVICE: &str = "AWSCognitoIdentityProviderService.";
/// Cognito's media type.
const AMZ_JSON: &str = "application/x-amz-json-1.1";
/// Larger bodies are not Cognito calls.
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The protected header of the refresh tokens it mints: the shape of Cognito's (a JWE).
const TOKEN_HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";

/// The app client the stand-in rotates refresh tokens for.
#[derive(Debug, Clone)]
pub struct RotatingClient {
    /// Its id: another client's calls are the emulator's to answer.
    pub client_id: String,
    /// Its secret, when it has one: `GetTokensFromRefreshToken` must carry it.
    pub client_secret: Option<String>,
    /// How long a rotated-out refresh token stays usable (Cognito: 0 to 60 s).
    pub grace: Duration,
}

/// One refresh token the chain has seen.
#[derive(Debug, Clone)]
struct Link {
    /// The emulator's refresh token the chain descends from.
    root: String,
    /// When it was rotated out, if it was.
    rotated_at: Option<Instant>,
}

/// Why a call is refused, in Cognito's words.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    exception: &'static str,
    message: &'static str,
}

const REUSED: Refusal = Refusal {
    exception: "RefreshTokenReuseException",
    message: "The refresh token has been invalidated by refresh token rotation.",
};

/// The stand-in: its clients and the chains of refresh tokens it has issued.
pub struct CognitoStandIn {
    emulator: String,
    http: Client<HttpConnector, Full<Bytes>>,
    client: RotatingClient,
    chains: Mutex<HashMap<String, Link>>,
    choice: Option<ChoiceSignIn>,
}

impl CognitoStandIn {
    /// A stand-in in front of the emulator at `emulator` (`http://127.0.0.1:<port>`).
    pub fn new(emulator: String, client: RotatingClient) -> Self {
        Self {
            emulator,
            http: Client::builder(TokioExecutor::new()).build_http(),
            client,
            chains: Mutex::new(HashMap::new()),
            choice: None,
        }
    }

    /// Also answers choice-based sign-in and sign-up without a password for the client.
    pub fn with_choice(mut self, config: ChoiceConfig) -> Self {
        self.choice = Some(ChoiceSignIn::new(config));
        self
    }

    /// Answers one call: its own, or the emulator's.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return refusal_response(
                    "InvalidParameterException",
                    "The request body is too large or cut short.",
                );
            }
        };
        let operation = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.strip_prefix(SERVICE))
            .unwrap_or_default()
            .to_owned();
        // Only the calls it may answer itself are read; the rest go on as bytes.
        let read = matches!(
            operation.as_str(),
            "GetTokensFromRefreshToken" | "GetUserAuthFactors" | "InitiateAuth"
        ) || (self.choice.is_some()
            && matches!(
                operation.as_str(),
                "RespondToAuthChallenge" | "SignUp" | "ConfirmSignUp"
            ));
        let call: Option<Value> = read.then(|| serde_json::from_slice(&body).ok()).flatten();
        let ours = call
            .as_ref()
            .and_then(|c| c.get("ClientId"))
            .and_then(Value::as_str)
            .is_some_and(|id| id == self.client.client_id);
        let choice = self.choice.as_ref().filter(|_| ours);
        match (operation.as_str(), call, choice) {
            ("InitiateAuth", Some(call), Some(choice)) if user_auth_flow(&call) => choice.initiate(self, &call).await,
            ("RespondToAuthChallenge", Some(call), Some(choice))
                if call
                    .get("Session")
                    .and_then(Value::as_str)
                    .is_some_and(|s| choice.owns(s)) =>
            {
                choice.respond(self, &call).await
            }
            ("SignUp", Some(call), Some(choice)) => choice.sign_up(self, &call).await,
            ("ConfirmSignUp", Some(call), Some(choice)) => choice.confirm_sign_up(self, &call).await,
            (operation, call, _) => self.answer_or_forward(operation, call, ours, parts, body).await,
        }
    }

    /// The rotation calls and `GetUserAuthFactors`, or the emulator's answer.
    async fn answer_or_forward(
        &self,
        operation: &str,
        call: Option<Value>,
        ours: bool,
        parts: http::request::Parts,
        body: Bytes,
    ) -> Response<Full<Bytes>> {
        match (operation, call) {
            ("GetTokensFromRefreshToken", Some(call)) if ours => self.get_tokens_from_refresh_token(&call).await,
            ("GetUserAuthFactors", Some(call)) => self.get_user_auth_factors(&call).await,
            ("InitiateAuth", Some(call)) if ours && refresh_flow(&call) => refusal_response(
                "NotAuthorizedException",
                "You can't authenticate with REFRESH_TOKEN_AUTH in app clients with refresh token rotation enabled.",
            ),
            _ => self.forward(parts, body).await,
        }
    }

    async fn get_tokens_from_refresh_token(&self, call: &Value) -> Response<Full<Bytes>> {
        let Some(presented) = call.get("RefreshToken").and_then(Value::as_str) else {
            return refusal_response(
                "InvalidParameterException",
                "1 validation error detected: RefreshToken.",
            );
        };
        if let Some(secret) = &self.client.client_secret
            && call.get("ClientSecret").and_then(Value::as_str) != Some(secret.as_str())
        {
            return refusal_response("NotAuthorizedException", "Unable to verify the client secret.");
        }
        let root = match self.root_of(presented, Instant::now()) {
            Ok(root) => root,
            Err(refusal) => return refusal_response(refusal.exception, refusal.message),
        };
        // The emulator's own refresh: it checks the token and answers tokens it accepts later.
        let refreshed = self
            .emulator_call(
                "InitiateAuth",
                &json!({
                    "AuthFlow": "REFRESH_TOKEN_AUTH",
                    "ClientId": self.client.client_id,
                    "AuthParameters": {"REFRESH_TOKEN": root},
                }),
            )
            .await;
        let (status, mut answer) = match refreshed {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        if status != StatusCode::OK {
            return json_response(status, &answer);
        }
        let next = match self.rotate(presented, &root, Instant::now()) {
            Ok(next) => next,
            Err(refusal) => return refusal_response(refusal.exception, refusal.message),
        };
        if let Some(result) = answer.get_mut("AuthenticationResult").and_then(Value::as_object_mut) {
            result.insert("RefreshToken".into(), Value::String(next));
        }
        if let Some(answer) = answer.as_object_mut() {
            answer.remove("ChallengeParameters");
        }
        json_response(StatusCode::OK, &answer)
    }

    /// The user's factors: the emulator's GetUser checks the access token and names the MFA
    /// settings; the first factors are the password, and with choice-based sign-in the codes
    /// the user's email and phone number can receive (the password only if they have one).
    async fn get_user_auth_factors(&self, call: &Value) -> Response<Full<Bytes>> {
        let Some(access_token) = call.get("AccessToken").and_then(Value::as_str) else {
            return refusal_response("InvalidParameterException", "1 validation error detected: AccessToken.");
        };
        let (status, user) = match self
            .emulator_call("GetUser", &json!({"AccessToken": access_token}))
            .await
        {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        if status != StatusCode::OK {
            return json_response(status, &user);
        }
        let username = user.get("Username").and_then(Value::as_str).unwrap_or_default();
        let factors = match &self.choice {
            Some(choice) => choice.first_factors(username, user.get("UserAttributes").and_then(Value::as_array)),
            None => vec!["PASSWORD"],
        };
        let mut answer = json!({
            "Username": username,
            "ConfiguredUserAuthFactors": factors,
            "UserMFASettingList": user.get("UserMFASettingList").cloned().unwrap_or_else(|| json!([])),
        });
        if let Some(preferred) = user.get("PreferredMfaSetting").filter(|p| p.is_string()) {
            answer["PreferredMfaSetting"] = preferred.clone();
        }
        json_response(StatusCode::OK, &answer)
    }

    /// The emulator's token a presented refresh token descends from; refused when it was
    /// rotated out longer ago than the grace period.
    fn root_of(&self, presented: &str, now: Instant) -> Result<String, Refusal> {
        let chains = self.chains.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match chains.get(presented) {
            Some(link) if self.expired(link, now) => Err(REUSED),
            Some(link) => Ok(link.root.clone()),
            // Not rotated yet: a token the emulator issued at sign-in (or none at all, which
            // the emulator refuses).
            None => Ok(presented.to_owned()),
        }
    }

    /// Issues the next refresh token of the chain and rotates `presented` out, checking again
    /// under the lock: of two refreshes racing past the grace period, one wins.
    fn rotate(&self, presented: &str, root: &str, now: Instant) -> Result<String, Refusal> {
        let mut chains = self.chains.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let link = chains.entry(presented.to_owned()).or_insert_with(|| Link {
            root: root.to_owned(),
            rotated_at: None,
        });
        if self.expired(link, now) {
            return Err(REUSED);
        }
        link.rotated_at.get_or_insert(now);
        let next = mint_refresh_token();
        chains.insert(
            next.clone(),
            Link {
                root: root.to_owned(),
                rotated_at: None,
            },
        );
        Ok(next)
    }

    fn expired(&self, link: &Link, now: Instant) -> bool {
        link.rotated_at
            .is_some_and(|at| now.saturating_duration_since(at) > self.client.grace)
    }

    /// The client's `SECRET_HASH` for `username`, when it has a secret.
    fn secret_hash(&self, username: &str) -> Option<String> {
        self.client
            .client_secret
            .as_deref()
            .map(|secret| account_api::cognito::secret_hash(username, &self.client.client_id, secret))
    }

    /// `fields` (an `AuthParameters` or `ChallengeResponses` object) with the client's
    /// `SECRET_HASH` for `username` added, when it has a secret.
    fn with_secret_hash(&self, username: &str, mut fields: Value) -> Value {
        if let Some(hash) = self.secret_hash(username) {
            fields["SECRET_HASH"] = Value::String(hash);
        }
        fields
    }

    /// The refusal of a call without the right `SECRET_HASH`, as Cognito refuses it for a client
    /// with a secret.
    fn secret_hash_refusal(&self, username: &str, presented: Option<&str>) -> Option<Response<Full<Bytes>>> {
        let expected = self.secret_hash(username)?;
        (presented != Some(expected.as_str()))
            .then(|| refusal_response("NotAuthorizedException", "Unable to verify secret hash for client."))
    }

    /// Calls the emulator directly: its status and JSON answer.
    async fn emulator_call(&self, operation: &str, call: &Value) -> Result<(StatusCode, Value), Response<Full<Bytes>>> {
        let request = Request::post(format!("{}/", self.emulator))
            .header("x-amz-target", format!("{SERVICE}{operation}"))
            .header(http::header::CONTENT_TYPE, AMZ_JSON)
            .body(Full::new(Bytes::from(call.to_string())))
            .map_err(|_| refusal_response("InternalErrorException", "The emulator call could not be built."))?;
        let response = self.http.request(request).await.map_err(|_| unavailable())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| unavailable())?
            .to_bytes();
        let answer = serde_json::from_slice(&body).map_err(|_| unavailable())?;
        Ok((status, answer))
    }

    /// Sends the call on to the emulator as it came, and its answer back as it went.
    async fn forward(&self, parts: http::request::Parts, body: Bytes) -> Response<Full<Bytes>> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = parts.method;
        *request.uri_mut() = match format!("{}{path}", self.emulator).parse() {
            Ok(uri) => uri,
            Err(_) => return refusal_response("InvalidParameterException", "The request path is not valid."),
        };
        let mut headers = parts.headers;
        headers.remove(http::header::HOST);
        headers.remove(http::header::CONTENT_LENGTH);
        *request.headers_mut() = headers;
        let Ok(response) = self.http.request(request).await else {
            return unavailable();
        };
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(collected) => Response::from_parts(parts, Full::new(collected.to_bytes())),
            Err(_) => unavailable(),
        }
    }
}

/// A stand-in serving on loopback; dropping it stops it.
pub struct RunningStandIn {
    /// `http://127.0.0.1:<port>`: the Cognito endpoint for the functions.
    pub url: String,
    _stop: oneshot::Sender<()>,
}

/// Starts a stand-in in front of the emulator at `emulator` on a free loopback port.
pub async fn spawn(
    emulator: String,
    client: RotatingClient,
    choice: Option<ChoiceConfig>,
) -> std::io::Result<RunningStandIn> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let standin = CognitoStandIn::new(emulator, client);
    let standin = Arc::new(match choice {
        Some(config) => standin.with_choice(config),
        None => standin,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(crate::serve::serve(
        listener,
        move |request| {
            let standin = Arc::clone(&standin);
            async move { standin.handle(request).await }
        },
        async {
            let _ = stopped.await;
        },
    ));
    Ok(RunningStandIn { url, _stop: stop })
}

/// Whether an `InitiateAuth` call asks for choice-based sign-in.
fn user_auth_flow(call: &Value) -> bool {
    call.get("AuthFlow").and_then(Value::as_str) == Some("USER_AUTH")
}

/// Whether an `InitiateAuth` call asks for the refresh flow.
fn refresh_flow(call: &Value) -> bool {
    matches!(
        call.get("AuthFlow").and_then(Value::as_str),
        Some("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN")
    )
}

/// A random refresh token in the shape of Cognito's: five base64url parts.
fn mint_refresh_token() -> String {
    let random = |n: usize| {
        let mut bytes = vec![0_u8; n];
        // The system generator does not fail on Linux; a zeroed part would still be unique
        // enough for a local stack, but never reached.
        let _ = SystemRandom::new().fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    };
    format!(
        "{TOKEN_HEADER}.{}.{}.{}.{}",
        random(256),
        random(12),
        random(48),
        random(16)
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
    response
}

/// A Cognito error answer: 400 with `__type` and `message`, as the SDK reads them.
fn refusal_response(exception: &str, message: &str) -> Response<Full<Bytes>> {
    let mut response = json_response(
        StatusCode::BAD_REQUEST,
        &json!({"__type": exception, "message": message}),
    );
    if let Ok(value) = HeaderValue::from_str(exception) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn unavailable() -> Response<Full<Bytes>> {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &json!({"__type": "InternalErrorException", "message": "The emulator did not answer."}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standin(grace: Duration) -> CognitoStandIn {
        CognitoStandIn::new(
            "http://127.0.0.1:9".into(),
            RotatingClient {
                client_id: "client".into(),
                client_secret: None,
                grace,
            },
        )
    }

    #[test]
    fn a_chain_descends_from_the_emulators_token_and_refuses_a_reuse_after_the_grace() {
        let s = standin(Duration::from_secs(2));
        let t0 = Instant::now();
        assert_eq!(s.root_of("root", t0), Ok("root".to_owned()));
        let second = s.rotate("root", "root", t0).unwrap();
        assert_eq!(
            s.root_of(&second, t0),
            Ok("root".to_owned()),
            "the new token descends from the root"
        );
        // Within the grace period the old token still refreshes (client retries).
        let later = t0 + Duration::from_secs(2);
        assert_eq!(s.root_of("root", later), Ok("root".to_owned()));
        assert!(s.rotate("root", "root", later).is_ok());
        // After it, never again, whether seen before the emulator's call or after it.
        let after = t0 + Duration::from_secs(3);
        assert_eq!(s.root_of("root", after), Err(REUSED));
        assert_eq!(s.rotate("root", "root", after), Err(REUSED));
        // The next token of the chain goes on, and rotates in turn.
        let third = s.rotate(&second, "root", after).unwrap();
        assert_ne!(third, second);
        assert_eq!(s.root_of(&second, after + Duration::from_secs(3)), Err(REUSED));
        assert_eq!(s.root_of(&third, after + Duration::from_secs(3)), Ok("root".to_owned()));
    }

    #[test]
    fn with_no_grace_a_rotated_token_is_refused_at_once() {
        let s = standin(Duration::ZERO);
        let t0 = Instant::now();
        s.rotate("root", "root", t0).unwrap();
        assert_eq!(s.root_of("root", t0 + Duration::from_millis(1)), Err(REUSED));
    }

    #[test]
    fn minted_tokens_have_cognitos_shape_and_are_distinct() {
        let a = mint_refresh_token();
        assert_eq!(a.split('.').count(), 5);
        assert!(a.starts_with("eyJ") && a.len() > 400);
        assert!(http_kit::inputs::RefreshToken::try_from(a.clone()).is_ok());
        assert_ne!(a, mint_refresh_token());
    }

    #[test]
    fn only_the_refresh_flow_of_initiate_auth_is_refused() {
        assert!(refresh_flow(&json!({"AuthFlow": "REFRESH_TOKEN_AUTH"})));
        assert!(refresh_flow(&json!({"AuthFlow": "REFRESH_TOKEN"})));
        assert!(!refresh_flow(&json!({"AuthFlow": "USER_PASSWORD_AUTH"})));
        assert!(!refresh_flow(&json!({})));
    }
}
