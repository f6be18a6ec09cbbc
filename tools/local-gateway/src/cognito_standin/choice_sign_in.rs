//! Choice-based sign-in (`USER_AUTH`) for the local pool, which the emulator refuses: the
//! first-factor choice, one-time sign-in codes by email and SMS, sign-up without a password and
//! the sign-in that follows a confirmed sign-up, with the checks Cognito makes.
//!
//! - `InitiateAuth` with `USER_AUTH`: `PREFERRED_CHALLENGE=PASSWORD` with `PASSWORD` is the
//!   emulator's password sign-in; `PASSWORD` alone answers the `PASSWORD` challenge;
//!   `EMAIL_OTP` and `SMS_OTP` send a six-digit code to the user's `email` or `phone_number`
//!   (into the [`Outbox`]) and answer that challenge; no preference, or one the user cannot
//!   use, answers `SELECT_CHALLENGE` with the user's first factors (Cognito: "If the user
//!   can't use the preferred challenge, Amazon Cognito responds with the available
//!   challenges"). A `Session` from a confirmed sign-up signs in once.
//! - `RespondToAuthChallenge` on one of its sessions: the chosen factor, the password (checked
//!   by the emulator), or the code. A wrong code is `CodeMismatchException`; the third ends the
//!   session. Sessions last three minutes, as Cognito's do.
//! - `SignUp` without `Password`: the emulator's sign-up with a random password nobody knows
//!   (the user's first factors no longer include `PASSWORD`), answering a `Session`;
//!   `ConfirmSignUp` with that session answers the session that signs in.
//! - An unknown user is answered as a known one (the pool prevents user-existence errors): the
//!   same choices, a code challenge whose code was never sent and never matches.
//!
//! Tokens for a first factor other than the password come from the emulator's SRP flow, whose
//! proof it does not verify: the same tokens a password sign-in gets, so every route and the
//! authorizer accept them. If the emulator answers with an MFA challenge instead, that goes to
//! the caller as it came.
//!
//! What it does not prove: Cognito's delivery (its message templates, SES and SNS, the SMS
//! sandbox), its exact masking of destinations, its codes' lifetime (here the session's), its
//! limits on attempts beyond the third miss, its rules for MFA after a passwordless first
//! factor, and passkeys: `PREFERRED_CHALLENGE=WEB_AUTHN` answers the challenge (a fresh
//! challenge, relying party `localhost`, no credential allowed), but no passkey can be registered
//! locally, so every assertion is refused, and `SELECT_CHALLENGE` never lists it.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{Map, Value, json};

use super::{CognitoStandIn, json_response, refusal_response};
use crate::outbox::Outbox;

/// How long a sign-in session lasts (Cognito: three minutes).
const SESSION_LIFETIME: Duration = Duration::from_secs(180);
/// Wrong codes a session takes before it ends.
const ATTEMPTS: u8 = 3;

/// What the stand-in needs to run choice-based sign-in for the local pool.
#[derive(Debug, Clone)]
pub struct ChoiceConfig {
    /// The pool, for the emulator's admin calls.
    pub user_pool_id: String,
    /// Where the codes go.
    pub outbox: Outbox,
}

/// A one-time code's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Email,
    Sms,
}

impl Channel {
    fn challenge(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL_OTP",
            Channel::Sms => "SMS_OTP",
        }
    }

    /// The outbox's name for it.
    fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// `CODE_DELIVERY_DELIVERY_MEDIUM`.
    fn medium(self) -> &'static str {
        match self {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        }
    }

    fn from_challenge(name: &str) -> Option<Self> {
        match name {
            "EMAIL_OTP" => Some(Channel::Email),
            "SMS_OTP" => Some(Channel::Sms),
            _ => None,
        }
    }
}

/// Where a sign-in session stands.
#[derive(Debug, Clone)]
enum Step {
    /// Answered by `SignUp`: `ConfirmSignUp` exchanges it for [`Step::Confirmed`].
    SignedUp,
    /// Answered by `ConfirmSignUp`: signs in once.
    Confirmed,
    /// `SELECT_CHALLENGE`: the first factors offered.
    Choosing {
        user: Option<User>,
        available: Vec<&'static str>,
    },
    /// The `PASSWORD` challenge.
    Password,
    /// The `WEB_AUTHN` challenge: no passkey is registered locally, so no assertion passes.
    Passkey,
    /// A code challenge; `code` is `None` for an unknown user (nothing was sent).
    Code {
        channel: Channel,
        code: Option<String>,
        misses: u8,
    },
}

#[derive(Debug, Clone)]
struct Pending {
    username: String,
    step: Step,
    expires: Instant,
}

/// A user as the emulator knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    email: Option<String>,
    phone: Option<String>,
    has_password: bool,
}

impl User {
    /// The first factors this user can sign in with, in Cognito's names.
    fn first_factors(&self) -> Vec<&'static str> {
        let mut factors = Vec::new();
        if self.has_password {
            factors.extend(["PASSWORD", "PASSWORD_SRP"]);
        }
        if self.email.is_some() {
            factors.push("EMAIL_OTP");
        }
        if self.phone.is_some() {
            factors.push("SMS_OTP");
        }
        factors
    }

    fn destination(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms => self.phone.as_deref(),
        }
    }
}

/// What an unknown user is offered: what a user with a password and an email would be.
const UNKNOWN_USER_FACTORS: [&str; 3] = ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"];

/// The first factors offered to `user`, or to a user the emulator does not know.
fn offered(user: Option<&User>) -> Vec<&'static str> {
    user.map_or_else(|| UNKNOWN_USER_FACTORS.to_vec(), User::first_factors)
}

/// The sessions in flight and the users who signed up without a password.
#[derive(Debug)]
pub(super) struct ChoiceSignIn {
    config: ChoiceConfig,
    sessions: Mutex<HashMap<String, Pending>>,
    passwordless: Mutex<HashSet<String>>,
}

impl ChoiceSignIn {
    pub(super) fn new(config: ChoiceConfig) -> Self {
        Self {
            config,
            sessions: Mutex::new(HashMap::new()),
            passwordless: Mutex::new(HashSet::new()),
        }
    }

    /// Whether `session` is one of this stand-in's sessions.
    pub(super) fn owns(&self, session: &str) -> bool {
        self.sessions().contains_key(session)
    }

    /// Whether `username` signed up without a password.
    pub(super) fn is_passwordless(&self, username: &str) -> bool {
        self.passwordless().contains(username)
    }

    /// The first factors of the user the emulator's `GetUser` described.
    pub(super) fn first_factors(&self, username: &str, attributes: Option<&Vec<Value>>) -> Vec<&'static str> {
        let user = User {
            email: attribute(attributes, "email"),
            phone: attribute(attributes, "phone_number"),
            has_password: !self.is_passwordless(username),
        };
        // `PASSWORD_SRP` is the password too, which `GetUserAuthFactors` names once.
        user.first_factors()
            .into_iter()
            .filter(|f| *f != "PASSWORD_SRP")
            .collect()
    }

    /// `InitiateAuth` with `USER_AUTH`.
    pub(super) async fn initiate(&self, standin: &CognitoStandIn, call: &Value) -> Response<Full<Bytes>> {
        let params = call.get("AuthParameters").and_then(Value::as_object);
        let param = |name: &str| params.and_then(|p| p.get(name)).and_then(Value::as_str);
        let Some(username) = param("USERNAME").filter(|u| !u.is_empty()) else {
            return refusal_response("InvalidParameterException", "Missing required parameter USERNAME");
        };
        if let Some(refused) = standin.secret_hash_refusal(username, param("SECRET_HASH")) {
            return refused;
        }
        if let Some(session) = call.get("Session").and_then(Value::as_str) {
            return if self.take(session, username, |step| matches!(step, Step::Confirmed)) {
                self.tokens_without_password(standin, username).await
            } else {
                invalid_session()
            };
        }
        let user = match self.look_up(standin, username).await {
            Ok(user) => user,
            Err(refused) => return refused,
        };
        let preferred = param("PREFERRED_CHALLENGE");
        let offered = offered(user.as_ref());
        // A code channel asked for and open to this user.
        let code = preferred
            .and_then(Channel::from_challenge)
            .filter(|channel| offered.contains(&channel.challenge()));
        match (preferred, param("PASSWORD"), code) {
            (Some("PASSWORD"), Some(password), _) => self.password_sign_in(standin, username, password).await,
            (Some("PASSWORD"), None, _) if offered.contains(&"PASSWORD") => self.ask_password(username),
            (Some("WEB_AUTHN"), None, _) => {
                let session = self.open(username, Step::Passkey);
                challenge_answer(
                    "WEB_AUTHN",
                    &session,
                    json!({"USERNAME": username, "CREDENTIAL_REQUEST_OPTIONS": credential_request_options()}),
                )
            }
            (_, None, Some(channel)) => self.send_code(username, user.as_ref(), channel),
            (Some(name), _, _) if !["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"].contains(&name) => {
                refusal_response(
                    "InvalidParameterException",
                    "PREFERRED_CHALLENGE must be PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP or WEB_AUTHN.",
                )
            }
            (_, Some(_), _) => refusal_response(
                "InvalidParameterException",
                "PASSWORD is only accepted with PREFERRED_CHALLENGE=PASSWORD.",
            ),
            // No preference, or one this user cannot use.
            _ => {
                let session = self.open(
                    username,
                    Step::Choosing {
                        user,
                        available: offered.clone(),
                    },
                );
                let mut answer = challenge_body("SELECT_CHALLENGE", &session, json!({"USERNAME": username}));
                answer.insert("AvailableChallenges".into(), json!(offered));
                json_response(StatusCode::OK, &Value::Object(answer))
            }
        }
    }

    /// `RespondToAuthChallenge` on one of its sessions.
    pub(super) async fn respond(&self, standin: &CognitoStandIn, call: &Value) -> Response<Full<Bytes>> {
        let session = call.get("Session").and_then(Value::as_str).unwrap_or_default();
        let challenge = call.get("ChallengeName").and_then(Value::as_str).unwrap_or_default();
        let responses = call.get("ChallengeResponses").and_then(Value::as_object);
        let response = |name: &str| responses.and_then(|r| r.get(name)).and_then(Value::as_str);
        let Some(username) = response("USERNAME") else {
            return refusal_response("InvalidParameterException", "Missing required parameter USERNAME");
        };
        if let Some(refused) = standin.secret_hash_refusal(username, response("SECRET_HASH")) {
            return refused;
        }
        let Some(pending) = self.current(session, username) else {
            return invalid_session();
        };
        match (&pending.step, challenge) {
            (Step::Choosing { user, available }, "SELECT_CHALLENGE") => {
                let answer = response("ANSWER").unwrap_or_default();
                if answer == "PASSWORD_SRP" || !available.contains(&answer) {
                    return refusal_response(
                        "InvalidParameterException",
                        "ANSWER is not one of the available challenges.",
                    );
                }
                self.remove(session);
                match (answer, Channel::from_challenge(answer)) {
                    ("PASSWORD", _) => match response("PASSWORD") {
                        Some(password) => self.password_sign_in(standin, username, password).await,
                        None => self.ask_password(username),
                    },
                    (_, Some(channel)) => self.send_code(username, user.as_ref(), channel),
                    _ => invalid_session(),
                }
            }
            (Step::Passkey, "WEB_AUTHN") => {
                self.remove(session);
                if response("CREDENTIAL").is_none() {
                    return refusal_response("InvalidParameterException", "Missing required parameter CREDENTIAL");
                }
                // No credential is registered with the stand-in: whatever the assertion, it
                // names none of the user's passkeys.
                refusal_response("NotAuthorizedException", "Incorrect username or passkey.")
            }
            (Step::Password, "PASSWORD") => {
                self.remove(session);
                match response("PASSWORD") {
                    Some(password) => self.password_sign_in(standin, username, password).await,
                    None => refusal_response("InvalidParameterException", "Missing required parameter PASSWORD"),
                }
            }
            (Step::Code { channel, .. }, name) if name == channel.challenge() => {
                let key = format!("{name}_CODE");
                let Some(presented) = response(&key) else {
                    return refusal_response(
                        "InvalidParameterException",
                        &format!("Missing required parameter {key}"),
                    );
                };
                match self.check_code(session, presented) {
                    CodeCheck::Matched => self.tokens_without_password(standin, username).await,
                    CodeCheck::Missed => {
                        refusal_response("CodeMismatchException", "Invalid code or auth state for the user.")
                    }
                    CodeCheck::Gone => invalid_session(),
                }
            }
            _ => refusal_response(
                "InvalidParameterException",
                "The challenge name does not match the session.",
            ),
        }
    }

    /// `SignUp` for the local client: without `Password`, a random one nobody knows. The
    /// answer carries the session a confirmation exchanges for a sign-in.
    pub(super) async fn sign_up(&self, standin: &CognitoStandIn, call: &Value) -> Response<Full<Bytes>> {
        let mut call = call.clone();
        let username = call
            .get("Username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let without_password = call.get("Password").is_none_or(Value::is_null);
        if without_password && let Some(fields) = call.as_object_mut() {
            fields.insert("Password".into(), Value::String(unknowable_password()));
        }
        let (status, mut answer) = match standin.emulator_call("SignUp", &call).await {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        if status == StatusCode::OK && !username.is_empty() {
            if without_password {
                self.passwordless().insert(username.clone());
            }
            let session = self.open(&username, Step::SignedUp);
            if let Some(fields) = answer.as_object_mut() {
                fields.insert("Session".into(), Value::String(session));
            }
        }
        json_response(status, &answer)
    }

    /// `ConfirmSignUp`: the emulator confirms (it checks no code); with the sign-up's session,
    /// the answer carries the session that signs in.
    pub(super) async fn confirm_sign_up(&self, standin: &CognitoStandIn, call: &Value) -> Response<Full<Bytes>> {
        let mut call = call.clone();
        let session = call
            .as_object_mut()
            .and_then(|fields| fields.remove("Session"))
            .and_then(|s| s.as_str().map(str::to_owned));
        let username = call
            .get("Username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (status, mut answer) = match standin.emulator_call("ConfirmSignUp", &call).await {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        if status == StatusCode::OK
            && let Some(session) = session
            && self.take(&session, &username, |step| matches!(step, Step::SignedUp))
        {
            let next = self.open(&username, Step::Confirmed);
            if let Some(fields) = answer.as_object_mut() {
                fields.insert("Session".into(), Value::String(next));
            }
        }
        json_response(status, &answer)
    }

    /// The emulator's password sign-in (it answers MFA challenges itself).
    async fn password_sign_in(
        &self,
        standin: &CognitoStandIn,
        username: &str,
        password: &str,
    ) -> Response<Full<Bytes>> {
        let parameters = standin.with_secret_hash(username, json!({"USERNAME": username, "PASSWORD": password}));
        let call = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": standin.client.client_id,
            "AuthParameters": parameters,
        });
        match standin.emulator_call("InitiateAuth", &call).await {
            // The emulator names an unknown user; Cognito, preventing user-existence errors, does not.
            Ok((_, answer)) if error_type(&answer) == Some("UserNotFoundException") => {
                refusal_response("NotAuthorizedException", "Incorrect username or password.")
            }
            Ok((status, answer)) => json_response(status, &answer),
            Err(response) => response,
        }
    }

    /// The emulator's tokens for `username` without its password: its SRP flow, whose proof it
    /// does not check. Should it start checking, the journeys that sign in with a code fail.
    async fn tokens_without_password(&self, standin: &CognitoStandIn, username: &str) -> Response<Full<Bytes>> {
        let parameters = standin.with_secret_hash(username, json!({"USERNAME": username, "SRP_A": "0"}));
        let started = standin
            .emulator_call(
                "InitiateAuth",
                &json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": standin.client.client_id, "AuthParameters": parameters}),
            )
            .await;
        let (status, verifier) = match started {
            Ok(answer) => answer,
            Err(response) => return response,
        };
        let challenge = verifier.get("ChallengeParameters");
        let block = challenge.and_then(|c| c.get("SECRET_BLOCK")).and_then(Value::as_str);
        let Some(block) = block.filter(|_| status == StatusCode::OK) else {
            return json_response(status, &verifier);
        };
        let canonical = challenge
            .and_then(|c| c.get("USERNAME"))
            .and_then(Value::as_str)
            .unwrap_or(username);
        let responses = standin.with_secret_hash(
            canonical,
            json!({
                "USERNAME": canonical,
                "PASSWORD_CLAIM_SECRET_BLOCK": block,
                "PASSWORD_CLAIM_SIGNATURE": "local-stand-in",
                "TIMESTAMP": "Thu Jan 1 00:00:00 UTC 1970",
            }),
        );
        let call = json!({
            "ChallengeName": "PASSWORD_VERIFIER",
            "ClientId": standin.client.client_id,
            "ChallengeResponses": responses,
        });
        match standin.emulator_call("RespondToAuthChallenge", &call).await {
            Ok((status, answer)) => json_response(status, &answer),
            Err(response) => response,
        }
    }

    /// The `PASSWORD` challenge.
    fn ask_password(&self, username: &str) -> Response<Full<Bytes>> {
        let session = self.open(username, Step::Password);
        challenge_answer("PASSWORD", &session, json!({"USERNAME": username}))
    }

    /// Sends a code (none to an unknown user) and answers the code challenge.
    fn send_code(&self, username: &str, user: Option<&User>, channel: Channel) -> Response<Full<Bytes>> {
        let (code, destination) = match user.and_then(|user| user.destination(channel)) {
            Some(to) => {
                let code = six_digits();
                self.config.outbox.send(to, channel.name(), "sign-in", &code);
                (Some(code), mask(channel, to))
            }
            None => (None, mask(channel, "")),
        };
        let session = self.open(
            username,
            Step::Code {
                channel,
                code,
                misses: 0,
            },
        );
        challenge_answer(
            channel.challenge(),
            &session,
            json!({
                "USERNAME": username,
                "CODE_DELIVERY_DELIVERY_MEDIUM": channel.medium(),
                "CODE_DELIVERY_DESTINATION": destination,
            }),
        )
    }

    /// The user, `None` when the emulator has none by that name; refused when they cannot sign
    /// in at all, as Cognito refuses them.
    async fn look_up(&self, standin: &CognitoStandIn, username: &str) -> Result<Option<User>, Response<Full<Bytes>>> {
        let (status, user) = standin
            .emulator_call(
                "AdminGetUser",
                &json!({"UserPoolId": self.config.user_pool_id, "Username": username}),
            )
            .await?;
        if status != StatusCode::OK {
            return match error_type(&user) {
                Some("UserNotFoundException") => Ok(None),
                _ => Err(json_response(status, &user)),
            };
        }
        if user.get("Enabled").and_then(Value::as_bool) == Some(false) {
            return Err(refusal_response("NotAuthorizedException", "User is disabled."));
        }
        if user.get("UserStatus").and_then(Value::as_str) == Some("UNCONFIRMED") {
            return Err(refusal_response("UserNotConfirmedException", "User is not confirmed."));
        }
        let canonical = user.get("Username").and_then(Value::as_str).unwrap_or(username);
        let attributes = user.get("UserAttributes").and_then(Value::as_array);
        Ok(Some(User {
            email: attribute(attributes, "email"),
            phone: attribute(attributes, "phone_number"),
            has_password: !(self.is_passwordless(canonical) || self.is_passwordless(username)),
        }))
    }

    /// Opens a session at `step`; the answer's `Session`.
    fn open(&self, username: &str, step: Step) -> String {
        let session = mint_session();
        let mut sessions = self.sessions();
        let now = Instant::now();
        sessions.retain(|_, pending| pending.expires > now);
        sessions.insert(
            session.clone(),
            Pending {
                username: username.to_owned(),
                step,
                expires: now + SESSION_LIFETIME,
            },
        );
        session
    }

    /// The session, when it is live and `username` is the one it was opened for.
    fn current(&self, session: &str, username: &str) -> Option<Pending> {
        let sessions = self.sessions();
        sessions
            .get(session)
            .filter(|p| p.expires > Instant::now() && p.username == username)
            .cloned()
    }

    /// Ends the session and answers true, when it is live, for `username` and at a step
    /// `wanted` accepts.
    fn take(&self, session: &str, username: &str, wanted: impl Fn(&Step) -> bool) -> bool {
        let mut sessions = self.sessions();
        let live = sessions
            .get(session)
            .is_some_and(|p| p.expires > Instant::now() && p.username == username && wanted(&p.step));
        live && sessions.remove(session).is_some()
    }

    fn remove(&self, session: &str) {
        self.sessions().remove(session);
    }

    /// Checks a code under the lock: of two answers racing, one matches and the other finds
    /// the session gone.
    fn check_code(&self, session: &str, presented: &str) -> CodeCheck {
        let mut sessions = self.sessions();
        let Some(pending) = sessions.get_mut(session) else {
            return CodeCheck::Gone;
        };
        let Step::Code { code, misses, .. } = &mut pending.step else {
            return CodeCheck::Gone;
        };
        let matched = code.as_deref().is_some_and(|code| {
            aws_lc_rs::constant_time::verify_slices_are_equal(code.as_bytes(), presented.as_bytes()).is_ok()
        });
        if matched {
            sessions.remove(session);
            return CodeCheck::Matched;
        }
        *misses += 1;
        if *misses >= ATTEMPTS {
            sessions.remove(session);
        }
        CodeCheck::Missed
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.sessions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn passwordless(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.passwordless
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Debug, PartialEq, Eq)]
enum CodeCheck {
    Matched,
    Missed,
    Gone,
}

fn attribute(attributes: Option<&Vec<Value>>, name: &str) -> Option<String> {
    attributes?
        .iter()
        .find(|a| a.get("Name").and_then(Value::as_str) == Some(name))
        .and_then(|a| a.get("Value").and_then(Value::as_str))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn error_type(answer: &Value) -> Option<&str> {
    let name = answer.get("__type").and_then(Value::as_str)?;
    // The protocol allows a namespace before `#`.
    Some(name.rsplit('#').next().unwrap_or(name))
}

fn invalid_session() -> Response<Full<Bytes>> {
    refusal_response(
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    )
}

fn challenge_body(name: &str, session: &str, parameters: Value) -> Map<String, Value> {
    let mut answer = Map::new();
    answer.insert("ChallengeName".into(), Value::String(name.to_owned()));
    answer.insert("Session".into(), Value::String(session.to_owned()));
    answer.insert("ChallengeParameters".into(), parameters);
    answer
}

fn challenge_answer(name: &str, session: &str, parameters: Value) -> Response<Full<Bytes>> {
    json_response(
        StatusCode::OK,
        &Value::Object(challenge_body(name, session, parameters)),
    )
}

/// The options of a passkey sign-in, as the JSON string Cognito sends: a fresh challenge, the
/// local relying party, and no credential to allow (none is registered locally).
fn credential_request_options() -> String {
    let mut challenge = [0_u8; 32];
    let _ = SystemRandom::new().fill(&mut challenge);
    json!({
        "challenge": URL_SAFE_NO_PAD.encode(challenge),
        "rpId": "localhost",
        "allowCredentials": [],
        "userVerification": "required",
        "timeout": SESSION_LIFETIME.as_millis(),
    })
    .to_string()
}

/// Six uniform digits: a 32-bit draw, redrawn above the largest multiple of a million.
fn six_digits() -> String {
    const LIMIT: u32 = u32::MAX / 1_000_000 * 1_000_000;
    loop {
        let mut bytes = [0_u8; 4];
        if SystemRandom::new().fill(&mut bytes).is_err() {
            continue;
        }
        let draw = u32::from_le_bytes(bytes);
        if draw < LIMIT {
            return format!("{:06}", draw % 1_000_000);
        }
    }
}

/// A session string in the length range Cognito's sessions have (20 to 2048 characters).
fn mint_session() -> String {
    let mut bytes = [0_u8; 48];
    // The system generator does not fail on Linux.
    let _ = SystemRandom::new().fill(&mut bytes);
    format!("local-{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A password that satisfies any pool policy and that nobody knows.
fn unknowable_password() -> String {
    let mut bytes = [0_u8; 24];
    let _ = SystemRandom::new().fill(&mut bytes);
    format!("Aa1!{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The destination as an answer shows it: enough to recognise, not to read.
fn mask(channel: Channel, to: &str) -> String {
    match channel {
        Channel::Email => match to.split_once('@') {
            Some((local, domain)) => format!(
                "{}***@{}***",
                local.chars().next().unwrap_or('*'),
                domain.chars().next().unwrap_or('*')
            ),
            None => "***@***".to_owned(),
        },
        Channel::Sms => {
            let digits: Vec<char> = to.chars().collect();
            let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
            format!("+*******{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice() -> ChoiceSignIn {
        ChoiceSignIn::new(ChoiceConfig {
            user_pool_id: "pool".into(),
            outbox: Outbox::default(),
        })
    }

    fn code_session(choice: &ChoiceSignIn, code: &str) -> String {
        choice.open(
            "alice",
            Step::Code {
                channel: Channel::Email,
                code: Some(code.to_owned()),
                misses: 0,
            },
        )
    }

    #[test]
    fn the_right_code_matches_once_and_the_session_ends() {
        let choice = choice();
        let session = code_session(&choice, "123456");
        assert_eq!(choice.check_code(&session, "123456"), CodeCheck::Matched);
        assert_eq!(choice.check_code(&session, "123456"), CodeCheck::Gone);
    }

    #[test]
    fn the_third_wrong_code_ends_the_session() {
        let choice = choice();
        let session = code_session(&choice, "123456");
        assert_eq!(choice.check_code(&session, "000000"), CodeCheck::Missed);
        assert_eq!(choice.check_code(&session, "12345"), CodeCheck::Missed);
        assert!(choice.owns(&session));
        assert_eq!(choice.check_code(&session, "1234567"), CodeCheck::Missed);
        assert!(!choice.owns(&session));
        assert_eq!(choice.check_code(&session, "123456"), CodeCheck::Gone);
    }

    #[test]
    fn an_unknown_users_code_never_matches() {
        let choice = choice();
        let session = choice.open(
            "nobody",
            Step::Code {
                channel: Channel::Email,
                code: None,
                misses: 0,
            },
        );
        assert_eq!(choice.check_code(&session, ""), CodeCheck::Missed);
        assert_eq!(choice.check_code(&session, "000000"), CodeCheck::Missed);
    }

    #[test]
    fn an_expired_session_serves_nobody_and_is_dropped_at_the_next_open() {
        let choice = choice();
        let session = code_session(&choice, "123456");
        let confirmed = choice.open("alice", Step::Confirmed);
        for id in [&session, &confirmed] {
            if let Some(pending) = choice.sessions().get_mut(id.as_str()) {
                pending.expires = Instant::now() - Duration::from_secs(1);
            }
        }
        assert!(choice.current(&session, "alice").is_none());
        assert!(!choice.take(&confirmed, "alice", |s| matches!(s, Step::Confirmed)));
        choice.open("bob", Step::SignedUp);
        assert!(!choice.owns(&session) && !choice.owns(&confirmed));
    }

    #[test]
    fn a_session_serves_only_the_user_and_the_step_it_was_opened_for() {
        let choice = choice();
        let session = choice.open("alice", Step::SignedUp);
        assert!(choice.current(&session, "mallory").is_none());
        assert!(!choice.take(&session, "alice", |s| matches!(s, Step::Confirmed)));
        assert!(!choice.take(&session, "mallory", |s| matches!(s, Step::SignedUp)));
        assert!(choice.take(&session, "alice", |s| matches!(s, Step::SignedUp)));
        assert!(!choice.take(&session, "alice", |s| matches!(s, Step::SignedUp)));
    }

    #[test]
    fn first_factors_follow_the_users_password_and_contacts() {
        let mut user = User {
            email: Some("alice@example.com".into()),
            phone: None,
            has_password: true,
        };
        assert_eq!(user.first_factors(), ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]);
        user.has_password = false;
        user.phone = Some("+15555550100".into());
        assert_eq!(user.first_factors(), ["EMAIL_OTP", "SMS_OTP"]);
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: HashSet<String> = (0..50).map(|_| six_digits()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        assert!(codes.len() > 40, "{codes:?}");
    }

    #[test]
    fn destinations_are_masked() {
        assert_eq!(mask(Channel::Email, "alice@example.com"), "a***@e***");
        assert_eq!(mask(Channel::Sms, "+15555550100"), "+*******0100");
        assert!(!mask(Channel::Email, "alice@example.com").contains("alice"));
    }

    #[test]
    fn sessions_and_passwords_satisfy_cognitos_shapes() {
        let session = mint_session();
        assert!((20..=2048).contains(&session.len()));
        assert_ne!(session, mint_session());
        let password = unknowable_password();
        assert!(password.chars().any(|c| c.is_ascii_uppercase()) && password.chars().any(|c| c.is_ascii_digit()));
    }
}
