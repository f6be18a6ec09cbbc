//! The port: what the account functions need from an identity provider, in domain types.

use std::collections::BTreeMap;
use std::future::Future;

use auth_core::validation::{AccessToken, ConfirmationCode, Email, Password, RefreshToken, Username};
use secrecy::SecretString;

use crate::IdpError;

pub struct SignUpInput {
    pub username: Username,
    pub password: Password,
    pub email: Email,
    /// Extra attributes, already checked against the allow-list.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDelivery {
    pub destination: Option<String>,
    pub delivery_medium: Option<String>,
    pub attribute_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpOutcome {
    pub user_sub: String,
    pub user_confirmed: bool,
    pub code_delivery: Option<CodeDelivery>,
}

#[derive(Debug)]
pub struct Tokens {
    pub access_token: SecretString,
    pub id_token: SecretString,
    /// Issued at sign-in; a refresh answers without a new one.
    pub refresh_token: Option<SecretString>,
    pub expires_in: i32,
    pub token_type: String,
}

#[derive(Debug)]
pub enum SignInOutcome {
    Tokens(Tokens),
    /// Cognito wants more before it issues tokens (a new password, an MFA code...).
    Challenge {
        name: String,
        session: Option<SecretString>,
        parameters: BTreeMap<String, String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    pub username: String,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub username: String,
    pub status: Option<String>,
    pub enabled: bool,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPage {
    pub users: Vec<UserSummary>,
    pub next_token: Option<String>,
}

/// The identity provider as the handlers see it. Each call maps the provider's failures into
/// [`IdpError`]; the handler decides what the caller is told.
pub trait IdentityProvider: Send + Sync {
    fn sign_up(&self, input: SignUpInput) -> impl Future<Output = Result<SignUpOutcome, IdpError>> + Send;

    fn confirm_sign_up(
        &self,
        username: &Username,
        code: &ConfirmationCode,
    ) -> impl Future<Output = Result<(), IdpError>> + Send;

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

    fn get_user(&self, access_token: &AccessToken) -> impl Future<Output = Result<UserProfile, IdpError>> + Send;

    /// One page of the pool's users, each with their groups.
    fn list_users(
        &self,
        limit: i32,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<UserPage, IdpError>> + Send;

    /// Whether the client needs a username on refresh (it has a secret).
    fn requires_username_for_refresh(&self) -> bool;
}
