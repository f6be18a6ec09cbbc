//! Handlers of the account routes, one module per Lambda function.
//!
//! Each handler is a named async function over an [`IdentityProvider`], called the same way by
//! its Lambda binary, by the local gateway and by the tests. A handler never fails: every error
//! becomes a problem+json response in [`auth_core::error`].

use std::convert::Infallible;

use auth_cognito::{CognitoIdentityProvider, CognitoSettings, IdentityProvider};
use auth_core::config::{ConfigError, Env};
use lambda_http::{Body, Response};

pub mod list_users;
pub mod logout;
pub mod me;
pub mod refresh_tokens;
pub mod sign_in;
pub mod sign_up;
pub mod verify_account;

mod attributes;

pub use attributes::AttributeAllowList;

/// What the handlers share: built once at cold start.
pub struct AccountApi<P> {
    pub idp: P,
    pub sign_up_attributes: AttributeAllowList,
}

impl<P: IdentityProvider> AccountApi<P> {
    pub fn new(idp: P, sign_up_attributes: AttributeAllowList) -> Self {
        Self {
            idp,
            sign_up_attributes,
        }
    }
}

impl AccountApi<CognitoIdentityProvider> {
    /// Reads the configuration and builds the Cognito client; fails fast naming the variable.
    pub async fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let settings = CognitoSettings::from_env(env)?;
        let attributes = AttributeAllowList::from_env(env)?;
        Ok(Self::new(CognitoIdentityProvider::connect(settings).await, attributes))
    }
}

/// The answer when Cognito refuses a token the caller presented: 401 with `detail`, whether
/// Cognito said "not authorized" or "no such user" (a deleted user's token).
pub(crate) fn token_rejected(detail: &'static str) -> impl FnOnce(auth_cognito::IdpError) -> auth_core::ApiError {
    move |err| match err {
        auth_cognito::IdpError::NotAuthorized | auth_cognito::IdpError::UserNotFound => {
            auth_core::ApiError::unauthorized(detail)
        }
        other => other.into(),
    }
}

/// What `lambda_http::run` wants from a handler: it never fails, errors are responses.
pub type HandlerResult = Result<Response<Body>, Infallible>;

#[cfg(test)]
pub(crate) mod test_support;
