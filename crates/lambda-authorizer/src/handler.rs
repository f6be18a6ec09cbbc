//! The API Gateway Lambda authorizer: REST API TOKEN and REQUEST events and HTTP API payload
//! 2.0 events, answered with an IAM policy or (HTTP API, if configured) a simple response.
//!
//! One authorization reads in order: the event (`event`) → its method ARN (`arn`) → who is
//! calling and whether they may (`check`: token, revocation, rules) → their policy (`policy`)
//! → the answer (`response`).
//!
//! - Valid token: the caller's policy (see [`crate::caller_policy`]); a request the rules do
//!   not permit is also denied explicitly (403).
//! - Missing, invalid or revoked token: the error `Unauthorized` (API Gateway answers 401), or
//!   `isAuthorized: false` for simple responses.
//! - No keys to check against, or an unreadable revocation store when failing closed: a
//!   function error (API Gateway's `AUTHORIZER_FAILURE` or `AUTHORIZER_CONFIGURATION_ERROR`,
//!   both a 503 in the template), never an allow.
//!
//! Two entry points share one implementation, so they always agree:
//! - [`handle_event`]: a typed [`AuthorizerEvent`] in (deserialized straight from the event JSON,
//!   keeping only the fields read here), a typed [`AuthorizerResponse`] out (serialized straight
//!   to the response JSON). The Lambda binary uses this: no `serde_json::Value` tree is built.
//! - [`handler`]: `serde_json::Value` in and out, on top of [`handle_event`] (the local gateway,
//!   tests).

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

#[cfg(test)]
pub(crate) mod tests;

use auth_contract::config::{ConfigError, Env};
use auth_contract::revocation::RevocationStore;
use cognito_jwt::{FetchError, HttpJwksFetcher, JwksError, JwksFetcher, Verifier, VerifierConfig};

use crate::arn::MethodArn;
use crate::check::{Checked, check};
use crate::config::{AuthorizerConfig, ResponseMode};
use crate::event::{AuthorizerEvent, BorrowedEvent, EventFormat, Inbound};
use crate::policy::{Policies, overlap_warnings};
use crate::response::AuthorizerResponse;
use crate::revocation::{RevocationCheck, RevocationSettings};
use crate::rules::{RouteDecision, Rules};

/// Everything the authorizer needs, built once at cold start.
pub struct AuthorizerDeps {
    pub(crate) verifier: Verifier,
    pub(crate) rules: Rules,
    revocation_settings: RevocationSettings,
    pub(crate) revocation: Option<RevocationCheck>,
    response: ResponseMode,
    pub(crate) policies: Policies,
}

/// Why the authorizer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A setting is missing or invalid (the message names the variable).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTPS client for the JWKS cannot be built.
    #[error("cannot build the JWKS client: {0}")]
    Fetcher(#[from] FetchError),
}

impl AuthorizerDeps {
    /// With any JWKS fetcher (a fake in tests).
    pub fn new(config: AuthorizerConfig, fetcher: Arc<dyn JwksFetcher>) -> Self {
        for warning in config.warnings() {
            tracing::warn!(%warning, "authorizer configuration");
        }
        let verifier = VerifierConfig {
            pools: config.pools,
            token_use: config.token_use,
            leeway_seconds: config.leeway_seconds,
            extra_claims: config.rules.extra_claims(),
            cache_size: config.cache_size,
            jwks: config.jwks,
        };
        for warning in overlap_warnings(&config.rules) {
            tracing::warn!(%warning, "authorizer rules: a cached policy is stricter than the rules here");
        }
        Self {
            verifier: Verifier::new(verifier, fetcher),
            revocation_settings: config.revocation,
            revocation: None,
            policies: Policies::new(&config.rules),
            rules: config.rules,
            response: config.response,
        }
    }

    /// Reads the configuration and builds the HTTP JWKS client. Call [`Self::hydrate`] next.
    pub fn from_env(env: &Env) -> Result<Self, InitError> {
        let config = AuthorizerConfig::from_env(env)?;
        Ok(Self::new(config, Arc::new(HttpJwksFetcher::new()?)))
    }

    /// Loads the JWKS of every pool. A failure is not fatal: verification retries after the
    /// back-off window and answers 500 meanwhile.
    pub async fn hydrate(&self) -> Result<(), JwksError> {
        self.verifier.hydrate().await
    }

    /// Checks every token against this revocation store (see [`RevocationSettings`]); without
    /// one, the authorizer accepts a token until it expires.
    pub fn with_revocation(mut self, store: Arc<dyn RevocationStore>) -> Self {
        self.revocation = Some(RevocationCheck::new(store, self.revocation_settings));
        self
    }

    /// The rule document in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }
}

/// A failed invocation. Returned to the Lambda runtime as the function error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    /// Exactly "Unauthorized": API Gateway turns this message into a 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// No keys to check the token against: never an allow.
    #[error("JWKS unavailable")]
    JwksUnavailable,
    /// The revocation store could not be read (and the operator chose to fail closed).
    #[error("revocation store unavailable")]
    RevocationUnavailable,
    /// The event is not an API Gateway authorizer event.
    #[error("bad authorizer event: {0}")]
    BadEvent(&'static str),
    /// A bug: the policy could not be built.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AuthorizerError> for lambda_runtime::Diagnostic {
    fn from(e: AuthorizerError) -> Self {
        let error_type = match e {
            AuthorizerError::Unauthorized => "Unauthorized",
            AuthorizerError::JwksUnavailable => "JwksUnavailable",
            AuthorizerError::RevocationUnavailable => "RevocationUnavailable",
            AuthorizerError::BadEvent(_) => "BadEvent",
            AuthorizerError::Internal(_) => "InternalError",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The Lambda handler on a typed event: any of the three event formats in, the matching
/// response out.
pub async fn handle_event<S: AsRef<str>>(
    deps: &AuthorizerDeps,
    event: &AuthorizerEvent<S>,
) -> Result<AuthorizerResponse, AuthorizerError> {
    let Inbound {
        format,
        credential,
        arn,
    } = event.inbound().map_err(bad_event)?;
    let arn = MethodArn::parse(arn).map_err(|_| bad_event("method ARN is not an execute-api ARN"))?;
    let checked = check(deps, credential, &arn).await?;
    let simple = format == EventFormat::HttpV2 && deps.response == ResponseMode::Simple;

    let (context, decision) = match checked {
        Checked::Unauthorized if simple => {
            return Ok(AuthorizerResponse::Simple {
                authorized: false,
                context: None,
            });
        }
        Checked::Unauthorized => return Err(AuthorizerError::Unauthorized),
        Checked::Verified(context, decision) => (context, decision),
    };
    if simple {
        return Ok(AuthorizerResponse::Simple {
            authorized: decision == RouteDecision::Permitted,
            context: Some(context),
        });
    }
    let policy = deps
        .policies
        .rendered(&deps.rules, &context, &arn, decision)
        .map_err(|e| AuthorizerError::Internal(e.to_string()))?;
    Ok(AuthorizerResponse::Policy { context, policy })
}

/// [`handle_event`] on a `serde_json::Value` event (strings borrowed from it), the response
/// as a `Value`. Any JSON is accepted; one that is not an authorizer event is `BadEvent`.
pub async fn handler(deps: &AuthorizerDeps, event: Value) -> Result<Value, AuthorizerError> {
    // Reading a `Value` cannot fail: every JSON shape is a valid (possibly unusable) event.
    let typed = BorrowedEvent::deserialize(&event).map_err(|_| bad_event("unreadable event"))?;
    let response = handle_event(deps, &typed).await?;
    serde_json::to_value(&response).map_err(|e| AuthorizerError::Internal(e.to_string()))
}

fn bad_event(detail: &'static str) -> AuthorizerError {
    tracing::warn!(reason = "bad_event", detail, "authorizer: unusable event");
    AuthorizerError::BadEvent(detail)
}
