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
use http_kit::inputs::{AccessToken, ConfirmationCode, Email, GroupName, Password, RefreshToken, Team, Username};
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
                    message: service.err().message().unwrap_or_default().to_owned(),
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
    /// The password.
    pub password: Password,
    /// The email address.
    pub email: Email,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpOutcome {
    /// The new user's `sub`.
    pub user_sub: String,
    /// Whether the account needs no verification.
    pub user_confirmed: bool,
    /// Where the verification code went.
    pub code_delivery: Option<CodeDelivery>,
}

/// Tokens Cognito issued.
#[derive(Debug)]
pub struct Tokens {
    /// The access token.
    pub access_token: SecretString,
    /// The ID token.
    pub id_token: SecretString,
    /// Issued at sign-in; a refresh answers without a new one.
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

    /// Confirms an account with its code.
    fn confirm_sign_up(
        &self,
        username: &Username,
        code: &ConfirmationCode,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Password sign-in.
    fn sign_in(
        &self,
        username: &Username,
        password: &Password,
    ) -> impl Future<Output = Result<SignInOutcome, IdpError>> + Send;

    /// `username` is the user's internal name (`sub`); required when the client has a secret.
    fn refresh(
        &self,
        refresh_token: &RefreshToken,
        username: Option<&Username>,
    ) -> impl Future<Output = Result<Tokens, IdpError>> + Send;

    /// Invalidates every token of the access token's user.
    fn global_sign_out(&self, access_token: &AccessToken) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// Revokes one refresh token and the access tokens issued from it.
    fn revoke_refresh_token(&self, refresh_token: &RefreshToken) -> impl Future<Output = Result<(), IdpError>> + Send;

    /// The access token's user.
    fn get_user(&self, access_token: &AccessToken) -> impl Future<Output = Result<UserProfile, IdpError>> + Send;

    /// One page of the pool's users, each with their groups.
    fn list_users(
        &self,
        limit: i32,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<UserPage, IdpError>> + Send;

    /// Whether the client needs a username on refresh (it has a secret).
    fn requires_username_for_refresh(&self) -> bool;

    /// Creates a user (AdminCreateUser).
    fn admin_create_user(&self, user: &NewUser) -> impl Future<Output = Result<AdminUser, IdpError>> + Send;

    /// A user by any of their names (AdminGetUser).
    fn admin_get_user(&self, username: &Username) -> impl Future<Output = Result<AdminUser, IdpError>> + Send;

    /// The user's groups (AdminListGroupsForUser).
    fn admin_groups(&self, username: &Username) -> impl Future<Output = Result<Vec<String>, IdpError>> + Send;

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

    /// Deletes the user (AdminDeleteUser).
    fn admin_delete_user(&self, username: &Username) -> impl Future<Output = Result<(), IdpError>> + Send;
}
