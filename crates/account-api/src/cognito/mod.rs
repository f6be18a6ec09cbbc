//! Amazon Cognito as the handlers see it: the port ([`IdentityProvider`], in domain types) and
//! its implementation on the AWS SDK ([`CognitoIdentityProvider`]), built once at cold start.
//! Handlers depend on the trait; tests run the real implementation over a mocked SDK client,
//! so request building, SECRET_HASH and the SDK's own error parsing are exercised.

mod client;
mod secret_hash;
mod settings;

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::future::Future;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use http_kit::inputs::{
    AccessToken, ConfirmationCode, Email, GroupName, Password, PhoneNumber, RefreshToken, Team, Username,
};
use secrecy::SecretString;

pub use client::CognitoIdentityProvider;
pub use secret_hash::secret_hash;
pub use settings::CognitoSettings;

/// A failed Cognito call. What the caller is told is decided by [`crate::errors`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdpError {
    /// Cognito answered with an error code (`UsernameExistsException`...).
    #[error("{code}: {message}")]
    Service {
        /// Cognito's error code.
        code: String,
        /// Cognito's message (for logs; may be shown only where the table says so).
        message: String,
    },
    /// No answer in time, or the connection failed.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// An answer this code did not expect.
    #[error("unexpected identity provider answer: {0}")]
    Unexpected(String),
}

impl IdpError {
    /// Cognito's error code, for a service error.
    pub fn code(&self) -> Option<&str> {
        match self {
            IdpError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Classifies any SDK error: transport failures and time-outs are `Unavailable`.
    pub fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => match service.err().code() {
                Some(code) => Self::Service {
                    code: code.to_owned(),
                    message: redact(service.err().message().unwrap_or_default()),
                },
                None => Self::Unexpected(format!("service error without a code: {:?}", service.raw())),
            },
            SdkError::TimeoutError(_) => Self::Unavailable("timed out".into()),
            SdkError::DispatchFailure(failure) => Self::Unavailable(format!("dispatch failure: {failure:?}")),
            SdkError::ResponseError(_) => Self::Unavailable("unreadable response".into()),
            _ => Self::Unexpected(describe(&err)),
        }
    }
}

/// Cognito's message, without anything that looks like a token, a session or a code: some
/// services (and emulators) quote the credential they refuse, and a message reaches the logs.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(200));
    for word in message.split_inclusive(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',') {
        let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',');
        let secret_like = core.len() >= 16
            && core.chars().all(|c| c.is_ascii_alphanumeric() || "-_.=+/:".contains(c))
            && core.chars().any(|c| c.is_ascii_digit());
        if secret_like {
            out.push_str("[redacted]");
            out.push_str(&word[core.len()..]);
        } else {
            out.push_str(word);
        }
        if out.len() > 200 {
            out.truncate(200);
            break;
        }
    }
    out
}

fn describe(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A new account.
pub struct SignUpInput {
    /// The sign-in name.
    pub username: Username,
    /// The password; `None` for a password-less account (a pool offering one-time codes).
    pub password: Option<Password>,
    /// The email address.
    pub email: Email,
    /// The phone number, when given.
    pub phone_number: Option<PhoneNumber>,
    /// Extra attributes, already checked against the allow-list.
    pub attributes: BTreeMap<String, String>,
}

/// Where a code was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDelivery {
    /// The masked address (`a***@e***`).
    pub destination: Option<String>,
    /// `EMAIL` or `SMS`.
    pub delivery_medium: Option<String>,
    /// The attribute the code verifies.
    pub attribute_name: Option<String>,
}

/// A created account.
#[derive(Debug)]
pub struct SignUpOutcome {
    /// The new user's `sub`.
    pub user_sub: String,
    /// Whether the account needs no verification.
    pub user_confirmed: bool,
    /// Where the verification code went.
    pub code_delivery: Option<CodeDelivery>,
    /// What confirming the account goes on with, when the pool offers choice-based sign-in.
    pub session: Option<SecretString>,
}

/// A choice-based sign-in (InitiateAuth `USER_AUTH`).
#[derive(Debug, Clone, Copy)]
pub struct UserAuth<'a> {
    /// Who signs in.
    pub username: &'a Username,
    /// `PREFERRED_CHALLENGE` (`PASSWORD`, `EMAIL_OTP`, `SMS_OTP`, `WEB_AUTHN`); `None` lets
    /// Cognito answer `SELECT_CHALLENGE`.
    pub preferred: Option<&'static str>,
    /// With `PASSWORD` preferred, signs in at once.
    pub password: Option<&'a Password>,
    /// `TARGET_ACR_VALUES`: the assurance levels asked for, highest first.
    pub acr: Option<&'a str>,
    /// The session a confirmed sign-up gave: signs in without a second code.
    pub session: Option<&'a SecretString>,
}

/// Tokens Cognito issued.
#[derive(Debug)]
pub struct Tokens {
    /// The access token.
    pub access_token: SecretString,
    /// The ID token.
    pub id_token: SecretString,
    /// Issued at sign-in, and by a refresh when the app client rotates refresh tokens.
    pub refresh_token: Option<SecretString>,
    /// Seconds the access token is valid.
    pub expires_in: i32,
    /// `Bearer`.
    pub token_type: String,
}

/// What a sign-in gives.
#[derive(Debug)]
pub enum SignInOutcome {
    /// The user is signed in.
    Tokens(Tokens),
    /// Cognito wants more before it issues tokens (a new password, an MFA code...).
    Challenge {
        /// `NEW_PASSWORD_REQUIRED`, `SOFTWARE_TOKEN_MFA`...
        name: String,
        /// What to send back with the answer.
        session: Option<SecretString>,
        /// The challenge's parameters.
        parameters: BTreeMap<String, String>,
        /// For `SELECT_CHALLENGE`: the first factors to choose from, in Cognito's names.
        available: Vec<String>,
    },
}

/// A user's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// The user's name in the pool.
    pub username: String,
    /// Every attribute, `sub` included.
    pub attributes: BTreeMap<String, String>,
}

/// How a user can sign in (GetUserAuthFactors), in Cognito's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthFactors {
    /// The first factors the user has set up and the pool allows: `PASSWORD`, `EMAIL_OTP`,
    /// `SMS_OTP`, `WEB_AUTHN`.
    pub sign_in: Vec<String>,
    /// The user's MFA factors: `SOFTWARE_TOKEN_MFA`, `SMS_MFA`, `EMAIL_OTP`.
    pub mfa: Vec<String>,
    /// The preferred one of them, if any.
    pub preferred_mfa: Option<String>,
}

/// One user of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's name in the pool.
    pub username: String,
    /// `CONFIRMED`, `UNCONFIRMED`...
    pub status: Option<String>,
    /// Whether the user may sign in.
    pub enabled: bool,
    /// The email attribute.
    pub email: Option<String>,
    /// The user's groups.
    pub groups: Vec<String>,
}

/// One page of users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    /// The users.
    pub users: Vec<UserSummary>,
    /// Where the next page starts.
    pub next_token: Option<String>,
}

/// What authorizes a software-token call: the signed-in user's access token, or the session
/// of a sign-in that must set up MFA first.
#[derive(Debug, Clone, Copy)]
pub enum TokenAuth<'a> {
    /// A signed-in user.
    AccessToken(&'a AccessToken),
    /// An `MFA_SETUP` challenge's session.
    Session(&'a SecretString),
}

/// A new software token's secret.
#[derive(Debug)]
pub struct SoftwareToken {
    /// The base32 secret for an authenticator app.
    pub secret_code: SecretString,
    /// The session to go on with, when one authorized the call.
    pub session: Option<SecretString>,
}

/// A verified software token.
#[derive(Debug)]
pub struct VerifiedSoftwareToken {
    /// `SUCCESS` or `ERROR`.
    pub status: String,
    /// The session to answer `MFA_SETUP` with, when one authorized the call.
    pub session: Option<SecretString>,
}

/// One MFA factor's preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaPreference {
    /// Enabled and the one asked for first.
    Preferred,
    /// Enabled.
    Enabled,
    /// Not used.
    Disabled,
}

/// An account an administrator creates.
pub struct NewUser {
    /// The sign-in name.
    pub username: Username,
    /// The email address (marked verified: an administrator vouches for it).
    pub email: Email,
    /// With it, no invitation is sent and the user must choose a new password at first
    /// sign-in; without it, Cognito sends its invitation with a generated one.
    pub temporary_password: Option<Password>,
    /// The team attribute's value, if any.
    pub team: Option<Team>,
}

/// A user as an administrator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    /// The user's name in the pool.
    pub username: String,
    /// The user's `sub`.
    pub sub: String,
    /// `CONFIRMED`, `FORCE_CHANGE_PASSWORD`...
    pub status: Option<String>,
    /// Whether the user may sign in.
    pub enabled: bool,
    /// The email attribute.
    pub email: Option<String>,
    /// The team attribute.
    pub team: Option<String>,
}

/// The identity provider as the handlers see it. Each call maps the provider's failures into
/// [`IdpError`]; the handler decides what the caller is told.
pub trait IdentityProvider: Send + Sync {
    /// Creates an account.
    fn sign_up(&self, input: SignUpInput) -> impl Future<Output = Result<SignUpOutcome, IdpError>> + Send;

    /// Confirms an account with its code; with the sign-up's session, answers the session
    /// that signs the user in (with choice-based sign-in).
    fn confirm_sign_up(
        &self,
        username: &Username,
        code: &ConfirmationCode,
        session: Option<&SecretString>,
    ) -> impl Future<Output = Result<Option<SecretString>, IdpError>> + Send;

    /// Password sign-in.
    fn sign_in(
        &self,
        username: &Username,
        password: &Password,
    ) -> impl Future<Output = Result<SignInOutcome, IdpError>> + Send;

    /// Choice-based sign-in (InitiateAuth `USER_AUTH`); the implementation adds `SECRET_HASH`.
    fn user_auth(&self, request: UserAuth<'_>) -> impl Future<Output = Result<SignInOutcome, IdpError>> + Send;

    /// New ID and access tokens for a refresh token (GetTokensFromRefreshToken), and a new
    /// refresh token when the app client rotates them.
    fn refresh(&self, refresh_token: &RefreshToken) -> impl Future<Output = Result<Tokens, IdpError>> + Send;

    /// Invalidates every token of the access token's user.
    fn global_sign_out(&self, access_token: &AccessToken) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Revokes one refresh token and the access tokens issued from it.
    fn revoke_refresh_token(&self, refresh_token: &RefreshToken) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// The access token's user.
    fn get_user(&self, access_token: &AccessToken) -> impl Future<Output = Result<UserProfile, IdpError>> + Send;

    /// How the access token's user can sign in (GetUserAuthFactors).
    fn auth_factors(&self, access_token: &AccessToken) -> impl Future<Output = Result<AuthFactors, IdpError>> + Send;

    /// One page of the pool's users, each with their groups.
    fn list_users(
        &self,
        limit: i32,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<UserPage, IdpError>> + Send;

    /// The pool's canonical issuer (`https://cognito-idp.<region>.amazonaws.com/<pool>`): the
    /// `issuer` the authorizer puts in the context of this pool's callers.
    fn pool_issuer(&self) -> String;

    /// Creates a user (AdminCreateUser).
    fn admin_create_user(&self, user: &NewUser) -> impl Future<Output = Result<AdminUser, IdpError>> + Send;

    /// A user by any of their names (AdminGetUser).
    fn admin_get_user(&self, username: &Username) -> impl Future<Output = Result<AdminUser, IdpError>> + Send;

    /// The user's groups (AdminListGroupsForUser).
    fn admin_groups(&self, username: &Username) -> impl Future<Output = Result<Vec<String>, IdpError>> + Send;

    /// What the pool and this API's client allow users to change (DescribeUserPool,
    /// DescribeUserPoolClient).
    fn describe_pool(&self) -> impl Future<Output = Result<crate::pool_check::PoolFacts, IdpError>> + Send;

    /// Whether the pool has this group (GetGroup).
    fn group_exists(&self, group: &GroupName) -> impl Future<Output = Result<bool, IdpError>> + Send;

    /// Adds the user to a group; a member already is one.
    fn admin_add_to_group(
        &self,
        username: &Username,
        group: &GroupName,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Removes the user from a group; a non-member is left as is.
    fn admin_remove_from_group(
        &self,
        username: &Username,
        group: &GroupName,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Sets (AdminUpdateUserAttributes) or clears (AdminDeleteUserAttributes) the team.
    fn admin_set_team(
        &self,
        username: &Username,
        team: Option<&Team>,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Enables or disables sign-in (AdminEnableUser, AdminDisableUser).
    fn admin_set_enabled(
        &self,
        username: &Username,
        enabled: bool,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Signs the user out everywhere (AdminUserGlobalSignOut).
    fn admin_sign_out(&self, username: &Username) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Turns every MFA factor of the user off (AdminSetUserMFAPreference), so they can set one
    /// up again.
    fn admin_reset_mfa(&self, username: &Username) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Deletes the user (AdminDeleteUser).
    fn admin_delete_user(&self, username: &Username) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Sends the sign-up confirmation code again (ResendConfirmationCode).
    fn resend_confirmation_code(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<CodeDelivery>, IdpError>> + Send;

    /// Sends a password reset code (ForgotPassword).
    fn forgot_password(
        &self,
        username: &Username,
    ) -> impl Future<Output = Result<Option<CodeDelivery>, IdpError>> + Send;

    /// Sets a new password with the reset code (ConfirmForgotPassword).
    fn confirm_forgot_password(
        &self,
        username: &Username,
        code: &ConfirmationCode,
        new_password: &Password,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Changes the signed-in user's password (ChangePassword).
    fn change_password(
        &self,
        access_token: &AccessToken,
        previous: &Password,
        proposed: &Password,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Answers a sign-in challenge (RespondToAuthChallenge); the implementation adds
    /// `USERNAME` and `SECRET_HASH`.
    fn respond_to_challenge(
        &self,
        challenge: &str,
        session: &SecretString,
        username: &Username,
        responses: &BTreeMap<String, SecretString>,
    ) -> impl Future<Output = Result<SignInOutcome, IdpError>> + Send;

    /// Starts a software token (AssociateSoftwareToken).
    fn associate_software_token(
        &self,
        auth: TokenAuth<'_>,
    ) -> impl Future<Output = Result<SoftwareToken, IdpError>> + Send;

    /// Verifies a software token with a code from the app (VerifySoftwareToken).
    fn verify_software_token(
        &self,
        auth: TokenAuth<'_>,
        code: &ConfirmationCode,
        friendly_device_name: Option<&str>,
    ) -> impl Future<Output = Result<VerifiedSoftwareToken, IdpError>> + Send;

    /// Sets the signed-in user's MFA preferences (SetUserMFAPreference); `None` leaves a factor
    /// as it is.
    fn set_mfa_preference(
        &self,
        access_token: &AccessToken,
        totp: Option<MfaPreference>,
        sms: Option<MfaPreference>,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Updates the signed-in user's attributes (UpdateUserAttributes); answers where codes
    /// went for attributes that need verifying.
    fn update_user_attributes(
        &self,
        access_token: &AccessToken,
        attributes: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<Vec<CodeDelivery>, IdpError>> + Send;

    /// Verifies a changed attribute with its code (VerifyUserAttribute).
    fn verify_user_attribute(
        &self,
        access_token: &AccessToken,
        attribute: &str,
        code: &ConfirmationCode,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Deletes the signed-in user (DeleteUser).
    fn delete_user(&self, access_token: &AccessToken) -> impl Future<Output = Result<(), IdpError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_their_words_and_lose_anything_token_like() {
        assert_eq!(
            redact("Password did not conform with policy: Password must have uppercase characters"),
            "Password did not conform with policy: Password must have uppercase characters"
        );
        assert_eq!(
            redact("Invalid session for the user, session is expired."),
            "Invalid session for the user, session is expired."
        );
        let token = "eyJraWQiOiJkdW1teSJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlMTIz";
        let out = redact(&format!("Access Token {token} has been revoked"));
        assert!(!out.contains(token) && out.contains("has been revoked"), "{out}");
        let session = "3f2a9c1e-1b7d-4e5f-9a0b-123456789abc";
        assert!(!redact(session).contains("123456789abc"));
        assert!(redact(&"word ".repeat(100)).len() <= 200);
    }
}
