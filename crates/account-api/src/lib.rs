//! The account routes of the API, one module per Lambda function, on Amazon Cognito.
//!
//! Each handler is a named async function over an [`IdentityProvider`], called the same way by
//! its Lambda binary, by the local gateway and by the tests. A handler never fails: every error
//! becomes a problem+json response ([`http_kit::respond`]). What each Cognito error becomes is
//! in [`errors`]; the Cognito port and its SDK implementation are in [`cognito`].
//!
//! ```no_run
//! use account_api::AccountApi;
//! use auth_contract::config::Env;
//! use lambda_http::{run, service_fn};
//!
//! # async fn main_() -> Result<(), lambda_http::Error> {
//! // A Lambda binary: configuration and the Cognito client once, then the handler per event.
//! let api = AccountApi::from_env(&Env::process()).await?;
//! run(service_fn(|request| account_api::sign_in::handler(&api, request))).await
//! # }
//! ```

use std::convert::Infallible;

use auth_contract::config::{ConfigError, Env};
use auth_contract::freshness::RecentAuth;
use lambda_http::{Body, Response};

use crate::cognito::{CognitoIdentityProvider, CognitoSettings, IdentityProvider};

pub mod cognito;
pub mod errors;
pub mod pool_check;
pub mod revocations;

pub mod admin_users;
pub mod list_users;
pub mod logout;
pub mod me;
pub mod mfa;
pub mod password;
pub mod refresh_tokens;
pub mod respond_to_challenge;
pub mod sign_in;
pub mod sign_in_methods;
pub mod sign_up;
pub mod verify_account;

mod attributes;
mod totp;

pub use attributes::AttributeAllowList;
pub use revocations::Revoker;
pub use totp::TotpIssuer;

/// What the handlers share: built once at cold start.
pub struct AccountApi<P> {
    /// Cognito, or a stand-in.
    pub idp: P,
    /// Attributes a user may set at sign-up.
    pub sign_up_attributes: AttributeAllowList,
    /// Where the routes that end sessions record it for the authorizer; `None` without a
    /// revocation table.
    pub revoker: Option<Revoker>,
    /// The name authenticator apps show for a new software token.
    pub totp_issuer: TotpIssuer,
    /// How recent a sign-in must be for what hands an account over (`RECENT_AUTH_SECONDS`).
    pub recent_auth: RecentAuth,
    /// The check the administration routes make of the pool and client first; `None` skips it
    /// (tests of other behaviour). [`AccountApi::from_env`] always sets it.
    pub pool_check: Option<pool_check::PoolCheck>,
    /// The first factors the pool offers (`SIGN_IN_METHODS`): what sign-in and sign-up accept.
    pub sign_in_methods: sign_in_methods::SignInMethods,
}

impl<P: IdentityProvider> AccountApi<P> {
    /// The handlers' dependencies, without a revocation store.
    pub fn new(idp: P, sign_up_attributes: AttributeAllowList) -> Self {
        Self {
            idp,
            sign_up_attributes,
            revoker: None,
            totp_issuer: TotpIssuer::default(),
            recent_auth: RecentAuth::default(),
            pool_check: None,
            sign_in_methods: sign_in_methods::SignInMethods::default(),
        }
    }

    /// Refuses a caller whose sign-in is older than `RECENT_AUTH_SECONDS` (401
    /// `RecentAuthenticationRequired`): changing the email or phone number, MFA, deleting the
    /// account. Call it after the body is validated: nobody signs in again only to hear that
    /// the body is bad.
    pub(crate) fn require_recent_auth(&self, request: &lambda_http::Request) -> Result<(), http_kit::ApiError> {
        let caller = http_kit::guard::caller(request)?;
        http_kit::guard::require_recent_auth(&caller, self.recent_auth, unix_now())
    }

    /// Records revocations in `revoker` before ending sessions.
    pub fn with_revoker(mut self, revoker: Revoker) -> Self {
        self.revoker = Some(revoker);
        self
    }

    /// Runs `change`, the Cognito call that ends the sessions of user `sub` or changes what
    /// their tokens say, with the revocation records around it ([`Revoker::end_sessions`])
    /// when a revocation table is attached.
    pub(crate) async fn end_sessions<T>(
        &self,
        sub: &str,
        change: auth_contract::revocation::BoxFuture<'_, Result<T, http_kit::ApiError>>,
    ) -> Result<T, http_kit::ApiError> {
        match &self.revoker {
            Some(revoker) if !sub.is_empty() => revoker.end_sessions(sub, change).await,
            _ => change.await,
        }
    }
}

impl AccountApi<CognitoIdentityProvider> {
    /// Reads the configuration and builds the Cognito client (and, with `REVOCATION_TABLE`,
    /// the DynamoDB one); fails fast naming the variable.
    pub async fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let settings = CognitoSettings::from_env(env)?;
        let attributes = AttributeAllowList::from_env(env)?;
        let totp_issuer = TotpIssuer::from_env(env)?;
        let revoker = Revoker::from_env(env, &settings).await?;
        let recent_auth = RecentAuth::from_env(env)?;
        let pool_check = pool_check::PoolCheck::new(pool_check::trusted_attributes(env)?);
        let sign_in_methods = sign_in_methods::SignInMethods::from_env(env)?;
        let mut api = Self::new(CognitoIdentityProvider::connect(settings).await, attributes);
        api.revoker = revoker;
        api.totp_issuer = totp_issuer;
        api.recent_auth = recent_auth;
        api.pool_check = Some(pool_check);
        api.sign_in_methods = sign_in_methods;
        Ok(api)
    }
}

/// Cognito's answers when it refuses a token the caller presented: 401 whether Cognito said
/// "not authorized" or "no such user" (a deleted user's token). Used by the routes that send
/// the caller's token to Cognito, each with its own wording.
macro_rules! token_rejected {
    ($detail:literal) => {
        &[
            ("NotAuthorizedException", || http_kit::ApiError::unauthorized($detail)),
            ("UserNotFoundException", || http_kit::ApiError::unauthorized($detail)),
        ]
    };
}
pub(crate) use token_rejected;

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What `lambda_http::run` wants from a handler: it never fails, errors are responses.
pub type HandlerResult = Result<Response<Body>, Infallible>;

/// The list of route functions: each name is a module above, a crate under `functions/` and
/// the last part of a `CodeUri` in `infra/template.yaml`. [`FUNCTIONS`] and [`call`] derive
/// from it; the local gateway dispatches through them and its tests hold them to the template.
macro_rules! route_functions {
    ($($name:ident),+ $(,)?) => {
        /// Every route function's name, as in `functions/` and the template.
        pub const FUNCTIONS: &[&str] = &[$(stringify!($name)),+];

        /// Runs the handler of the function named `function` (one of [`FUNCTIONS`]) on
        /// `request`, as its Lambda binary would; `None` for a name that is not a function.
        pub async fn call<P: IdentityProvider>(
            function: &str,
            api: &AccountApi<P>,
            request: lambda_http::Request,
        ) -> Option<Response<Body>> {
            let result = match function {
                // Boxed: one handler's future at a time, not the largest of all of them.
                $(stringify!($name) => Box::pin($name::handler(api, request)).await,)+
                _ => return None,
            };
            match result {
                Ok(response) => Some(response),
                Err(never) => match never {},
            }
        }
    };
}

route_functions![
    admin_users,
    list_users,
    logout,
    me,
    mfa,
    password,
    refresh_tokens,
    respond_to_challenge,
    sign_in,
    sign_up,
    verify_account,
];

#[cfg(test)]
pub(crate) mod test_support;
