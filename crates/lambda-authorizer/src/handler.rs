//! The API Gateway Lambda authorizer: REST API TOKEN and REQUEST events and HTTP API payload
//! 2.0 events, answered with an IAM policy or (HTTP API, if configured) a simple response.
//!
//! - Valid token: a policy for principal `sub` that allows every route the caller's rules permit
//!   and denies every listed route they do not, so a policy cached by API Gateway stays correct
//!   on other routes. If the requested route is not permitted it is also denied explicitly (403).
//! - Missing or invalid token: the error `Unauthorized` (API Gateway answers 401), or
//!   `isAuthorized: false` for simple responses.
//! - No keys to check against: an error (API Gateway answers 500), never an allow.
//! - Every denial is logged once, with a stable `reason` and never any token content.
//!
//! Two entry points share one implementation, so they always agree:
//! - [`handle_event`]: a typed [`AuthorizerEvent`] in (deserialized straight from the event JSON,
//!   keeping only the fields read here), a typed [`AuthorizerResponse`] out (serialized straight
//!   to the response JSON). The Lambda binary uses this: no `serde_json::Value` tree is built.
//! - [`handler`]: `serde_json::Value` in and out, on top of [`handle_event`] (the local gateway,
//!   tests).

use std::sync::{Arc, PoisonError, RwLock};

use serde::Deserialize;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

#[cfg(test)]
pub(crate) mod tests;

use auth_contract::AuthorizerContext;
use auth_contract::bearer::{BearerError, bearer_token};
use auth_contract::config::{ConfigError, Env};
use cognito_jwt::{FetchError, HttpJwksFetcher, JwksError, JwksFetcher, Verifier, VerifierConfig};

use crate::config::{AuthorizerConfig, ResponseMode};
use crate::event::{AuthorizerEvent, BorrowedEvent, Credential, EventFormat, Inbound};
use crate::policy::{MethodArn, PolicyBuilder, PolicyDocument};
use crate::rules::{MethodPattern, RouteDecision, Rules, Verb};

/// Everything the authorizer needs, built once at cold start.
pub struct AuthorizerDeps {
    verifier: Verifier,
    rules: Rules,
    response: ResponseMode,
    policies: PolicyCache,
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
        let verifier = VerifierConfig {
            pools: config.pools,
            token_use: config.token_use,
            leeway_seconds: config.leeway_seconds,
            extra_claims: config.rules.extra_claims(),
            cache_size: config.cache_size,
            jwks: config.jwks,
        };
        Self {
            verifier: Verifier::new(verifier, fetcher),
            rules: config.rules,
            response: config.response,
            policies: PolicyCache::new(POLICY_CACHE_ENTRIES),
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
        arn: arn_text,
    } = event.inbound().map_err(bad_event)?;
    let arn = MethodArn::parse(arn_text).map_err(|_| bad_event("method ARN is not an execute-api ARN"))?;
    let checked = check(deps, credential, arn.method, arn.path).await?;
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
    let policy = rendered_policy(deps, &context, &arn, arn_text, decision)?;
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

/// A successful answer, serialized straight from the caller's context and the policy.
///
/// The JSON has the shapes of `ApiGatewayCustomAuthorizerResponse` (REST) and
/// `ApiGatewayV2CustomAuthorizerIamPolicyResponse` (HTTP API), which differ only in the
/// optional `usageIdentifierKey`, left out here, and of
/// `ApiGatewayV2CustomAuthorizerSimpleResponse` (tests check the JSON against those types).
/// Keys are written in sorted order, as a `serde_json::Value` prints them, so the text is the
/// same as the earlier `Value`-built response's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizerResponse {
    /// `principalId` (the token's `sub`), `policyDocument` and `context`.
    Policy {
        /// Who is calling.
        context: AuthorizerContext,
        /// The IAM policy.
        policy: RenderedPolicy,
    },
    /// HTTP API simple response: `isAuthorized` and `context` (empty without a valid token).
    Simple {
        /// Whether API Gateway should call the function.
        authorized: bool,
        /// Who is calling, when the token was valid.
        context: Option<AuthorizerContext>,
    },
}

impl Serialize for AuthorizerResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AuthorizerResponse::Policy { context, policy } => {
                let mut m = serializer.serialize_map(Some(3))?;
                m.serialize_entry("context", context)?;
                m.serialize_entry("policyDocument", policy)?;
                m.serialize_entry("principalId", &context.sub)?;
                m.end()
            }
            AuthorizerResponse::Simple { authorized, context } => {
                let mut m = serializer.serialize_map(Some(2))?;
                match context {
                    Some(c) => m.serialize_entry("context", c)?,
                    None => m.serialize_entry("context", &Empty)?,
                }
                m.serialize_entry("isAuthorized", authorized)?;
                m.end()
            }
        }
    }
}

/// `{}`.
struct Empty;

impl Serialize for Empty {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }
}

/// The policy for one verified caller: every listed route is allowed or denied according to the
/// caller's permissions (deny wins in IAM, as it does in [`Rules::decide`]), plus an explicit
/// deny of the requested resource when it is not permitted.
pub fn caller_policy(
    rules: &Rules,
    caller: &AuthorizerContext,
    arn: &MethodArn<'_>,
    requested: &str,
    decision: RouteDecision,
) -> Result<PolicyDocument, AuthorizerError> {
    let mut b = PolicyBuilder::for_method_arn(arn);
    for (rule, permitted) in rules.permissions(caller) {
        for &verb in rule.method.verbs() {
            let m = MethodPattern::One(verb);
            let added = if permitted {
                b.allow_method(m, rule.path.glob())
            } else {
                b.deny_method(m, rule.path.glob())
            };
            added.map_err(|e| AuthorizerError::Internal(e.to_string()))?;
        }
    }
    if decision != RouteDecision::Permitted {
        b.deny_resource(requested);
    }
    Ok(b.build())
}

/// A `policyDocument` as JSON text, written once by [`PolicyDocument`]'s serializer and then
/// emitted verbatim (no re-validation: serde_json wrote it), shared by every caller it fits.
#[derive(Debug, Clone)]
pub struct RenderedPolicy(Arc<RawValue>);

impl RenderedPolicy {
    /// Writes the policy's JSON once.
    pub fn render(policy: &PolicyDocument) -> Result<Self, AuthorizerError> {
        let raw = serde_json::value::to_raw_value(policy).map_err(|e| AuthorizerError::Internal(e.to_string()))?;
        Ok(Self(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RenderedPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for RenderedPolicy {}

impl Serialize for RenderedPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Entries in the rendered-policy cache: a few APIs and stages times the distinct permission
/// sets of the callers (a handful of groups) fit; more only costs a rebuild.
const POLICY_CACHE_ENTRIES: usize = 32;

/// Rendered policies of permitted requests, keyed by everything such a policy depends on: the
/// `arn:...:apiId/stage` prefix and which rules permit the caller (one bit per rule; the rule
/// list is fixed for the life of the deps). A denied request adds its own resource to the
/// policy, so it is never cached.
struct PolicyCache {
    cap: usize,
    entries: RwLock<Vec<PolicyEntry>>,
}

struct PolicyEntry {
    prefix: Box<str>,
    permitted: u128,
    policy: RenderedPolicy,
}

impl PolicyCache {
    fn new(cap: usize) -> Self {
        Self {
            cap,
            entries: RwLock::new(Vec::with_capacity(cap)),
        }
    }

    fn get(&self, prefix: &str, permitted: u128) -> Option<RenderedPolicy> {
        // A panic while holding the lock cannot leave an entry half-written (a push or a
        // remove), so a poisoned lock is still usable.
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .find(|e| e.permitted == permitted && *e.prefix == *prefix)
            .map(|e| e.policy.clone())
    }

    fn insert(&self, prefix: &str, permitted: u128, policy: RenderedPolicy) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.iter().any(|e| e.permitted == permitted && *e.prefix == *prefix) {
            return;
        }
        if entries.len() >= self.cap {
            // Oldest first out: keeps the bound without tracking use.
            entries.remove(0);
        }
        entries.push(PolicyEntry {
            prefix: prefix.into(),
            permitted,
            policy,
        });
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Bit `i` set if rule `i` permits the caller; `None` past 128 rules (such documents are not
/// cached rather than keyed on less than the whole permission vector).
fn permission_bits(rules: &Rules, caller: &AuthorizerContext) -> Option<u128> {
    if rules.routes().len() > 128 {
        return None;
    }
    Some(
        rules
            .permissions(caller)
            .enumerate()
            .fold(0u128, |bits, (i, (_, permitted))| bits | (u128::from(permitted) << i)),
    )
}

/// [`caller_policy`], rendered, from the cache when the request is permitted.
fn rendered_policy(
    deps: &AuthorizerDeps,
    caller: &AuthorizerContext,
    arn: &MethodArn<'_>,
    requested: &str,
    decision: RouteDecision,
) -> Result<RenderedPolicy, AuthorizerError> {
    let key = (decision == RouteDecision::Permitted)
        .then(|| permission_bits(&deps.rules, caller))
        .flatten();
    if let Some(bits) = key
        && let Some(hit) = deps.policies.get(arn.prefix(), bits)
    {
        return Ok(hit);
    }
    let policy = RenderedPolicy::render(&caller_policy(&deps.rules, caller, arn, requested, decision)?)?;
    if let Some(bits) = key {
        deps.policies.insert(arn.prefix(), bits, policy.clone());
    }
    Ok(policy)
}

const ROUTE_NOT_PERMITTED: &str = "route_not_permitted";

// Built once per request and matched at once: moving it costs less than boxing it.
#[allow(clippy::large_enum_variant)]
enum Checked {
    Verified(AuthorizerContext, RouteDecision),
    Unauthorized,
}

/// Token, then rules; logs each denial once.
async fn check(
    deps: &AuthorizerDeps,
    credential: Credential<'_>,
    method: &str,
    path: &str,
) -> Result<Checked, AuthorizerError> {
    let bearer = match credential {
        Credential::Missing => Err(BearerError::Missing),
        Credential::Ambiguous => Err(BearerError::Ambiguous),
        Credential::Value(value) => bearer_token(value),
    };
    let token = match bearer {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(reason = e.reason(), "authorizer: unauthorized");
            return Ok(Checked::Unauthorized);
        }
    };
    let verified = match deps.verifier.verify(token).await {
        Ok(v) => v,
        Err(e) if e.is_server_error() => {
            tracing::error!(reason = e.reason(), "authorizer: cannot verify tokens");
            return Err(AuthorizerError::JwksUnavailable);
        }
        Err(e) => {
            tracing::info!(reason = e.reason(), "authorizer: unauthorized");
            return Ok(Checked::Unauthorized);
        }
    };
    let context = deps.rules.context(&verified);
    let decision = match Verb::parse(method) {
        Some(verb) => deps.rules.decide(&context, verb, path),
        None => RouteDecision::Unlisted,
    };
    if decision != RouteDecision::Permitted {
        let rule = match decision {
            RouteDecision::NotPermitted { rule, .. } => deps.rules.routes().get(rule).map(|r| r.route.as_str()),
            _ => None,
        };
        tracing::info!(
            reason = ROUTE_NOT_PERMITTED,
            principal = %context.sub,
            method,
            path,
            rule = rule.unwrap_or("(unlisted)"),
            "authorizer: forbidden"
        );
    }
    Ok(Checked::Verified(context, decision))
}

fn bad_event(detail: &'static str) -> AuthorizerError {
    tracing::warn!(reason = "bad_event", detail, "authorizer: unusable event");
    AuthorizerError::BadEvent(detail)
}
