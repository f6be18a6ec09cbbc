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
use auth_contract::revocation::RevocationStore;
use cognito_jwt::{FetchError, HttpJwksFetcher, JwksError, JwksFetcher, Verifier, VerifierConfig};

use crate::config::{AuthorizerConfig, ResponseMode};
use crate::event::{AuthorizerEvent, BorrowedEvent, Credential, EventFormat, Inbound};
use crate::path::{NON_CANONICAL_GLOBS, overlap};
use crate::policy::{Effect, MethodArn, PolicyBuilder, PolicyDocument};
use crate::revocation::{RevocationCheck, RevocationSettings, Verdict};
use crate::rules::{MethodPattern, RouteDecision, Rules, Verb};

/// Everything the authorizer needs, built once at cold start.
pub struct AuthorizerDeps {
    verifier: Verifier,
    rules: Rules,
    revocation_settings: RevocationSettings,
    revocation: Option<RevocationCheck>,
    /// Per route: whether a Deny of another route (or its own gap) may cover some of its paths.
    hazardous: Vec<bool>,
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
        let hazardous = hazards(&config.rules).iter().map(|h| !h.is_empty()).collect();
        Self {
            verifier: Verifier::new(verifier, fetcher),
            revocation_settings: config.revocation,
            revocation: None,
            hazardous,
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
        arn: arn_text,
    } = event.inbound().map_err(bad_event)?;
    let arn = MethodArn::parse(arn_text).map_err(|_| bad_event("method ARN is not an execute-api ARN"))?;
    let checked = check(deps, credential, arn.method, arn.request_path()).await?;
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

/// The policy for one verified caller, never more permissive than [`Rules::decide`] for any
/// path of the API and stage, so API Gateway may cache it for every route:
/// - every route the caller may call is allowed, and where a `{param}` would let the IAM glob
///   reach deeper paths, those are denied ([`crate::rules::PathPattern::gap_globs`]);
/// - every route the caller may not call is denied;
/// - every non-canonical path is denied;
/// - the requested resource is denied when the request is not permitted.
///
/// IAM globs cannot say "one segment", so a Deny may also cover a path another rule permits
/// ([`overlap_warnings`] names where). When that path is the one requested, the answer is a
/// narrow policy that allows exactly the requested resource: the live decision is always kept,
/// and only a cached call to another route may be refused.
pub fn caller_policy(
    rules: &Rules,
    caller: &AuthorizerContext,
    arn: &MethodArn<'_>,
    requested: &str,
    decision: RouteDecision,
) -> Result<PolicyDocument, AuthorizerError> {
    let mut b = PolicyBuilder::for_method_arn(arn);
    let internal = |e: crate::policy::PolicyError| AuthorizerError::Internal(e.to_string());
    for (rule, permitted) in rules.permissions(caller) {
        let glob = rule.path.glob();
        let gaps = if permitted { rule.path.gap_globs() } else { Vec::new() };
        for &verb in rule.method.verbs() {
            let m = MethodPattern::One(verb);
            if permitted {
                b.allow_method(m, &glob).map_err(internal)?;
                for gap in &gaps {
                    b.deny_method(m, gap).map_err(internal)?;
                }
            } else {
                b.deny_method(m, &glob).map_err(internal)?;
            }
        }
    }
    for glob in NON_CANONICAL_GLOBS.iter() {
        b.deny_resource(&format!("{}/{glob}", arn.prefix()));
    }
    if decision != RouteDecision::Permitted {
        b.deny_resource(requested);
        return Ok(b.build());
    }
    let full = b.build();
    if full.evaluate(requested) == Effect::Allow {
        return Ok(full);
    }
    // A literal `*` or `?` in the path would be a wildcard in the Allow: refuse instead.
    let mut narrow = PolicyBuilder::for_method_arn(arn);
    if requested.contains(['*', '?']) {
        narrow.deny_resource(requested);
    } else {
        tracing::info!(
            resource = requested,
            "authorizer: a cached policy cannot allow this route with the others; allowing it alone"
        );
        narrow.allow_resource(requested);
    }
    Ok(narrow.build())
}

/// For each route, whether a Deny that [`caller_policy`] may write (for another route, or for
/// the route's own `{param}`) can cover some of its paths. Only requests to such routes need
/// their policy checked against the request (see [`caller_policy`]).
fn hazards(rules: &Rules) -> Vec<Vec<Overlap>> {
    let routes = rules.routes();
    routes
        .iter()
        .map(|target| {
            let mut found = Vec::new();
            for (i, source) in routes.iter().enumerate() {
                let shares_a_verb = source.method.verbs().iter().any(|v| target.method.matches(*v));
                if !shares_a_verb {
                    continue;
                }
                let same = std::ptr::eq(source, target);
                let mut denies: Vec<(String, DenyKind)> = source
                    .path
                    .gap_globs()
                    .into_iter()
                    .map(|g| (g, DenyKind::Gap))
                    .collect();
                if !same {
                    denies.push((source.path.glob(), DenyKind::Whole));
                }
                for (glob, kind) in denies {
                    if let Some(example) = overlap(&glob, &target.path) {
                        found.push(Overlap {
                            source: i,
                            kind,
                            example,
                        });
                        break;
                    }
                }
            }
            found
        })
        .collect()
}

/// Which Deny of a route covers part of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DenyKind {
    /// The route's `{param}` gap, written when the caller may call it.
    Gap,
    /// The whole route, written when the caller may not call it.
    Whole,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Overlap {
    source: usize,
    kind: DenyKind,
    example: String,
}

/// Where a cached policy must refuse a path the rules permit, in words: logged once at cold
/// start, and the README's list of such rule shapes.
pub fn overlap_warnings(rules: &Rules) -> Vec<String> {
    let routes = rules.routes();
    let mut warnings = Vec::new();
    for (target, overlaps) in routes.iter().zip(hazards(rules)) {
        for o in overlaps {
            let Some(source) = routes.get(o.source) else { continue };
            let when = match o.kind {
                DenyKind::Gap if std::ptr::eq(source, target) => format!(
                    "`{}`: its {{param}} is followed by more segments, so a cached policy refuses some of its own paths, such as {}",
                    target.route, o.example
                ),
                DenyKind::Gap => format!(
                    "`{}` reaches into `{}` through its {{param}}: for callers allowed both, a cached policy refuses paths such as {}",
                    source.route, target.route, o.example
                ),
                DenyKind::Whole => format!(
                    "`{}` covers part of `{}`: for callers allowed only the second, a cached policy refuses paths such as {}",
                    source.route, target.route, o.example
                ),
            };
            warnings.push(when);
        }
    }
    warnings
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
    // A request to a route another route's Deny may cover needs its own check (see
    // `caller_policy`): the cached rendering is only for routes without such overlaps.
    let hazardous = arn.verb().is_some_and(|verb| {
        let path = arn.request_path();
        (deps.rules.routes().iter().zip(&deps.hazardous)).any(|(rule, &h)| h && rule.matches(verb, path))
    });
    let key = (decision == RouteDecision::Permitted && !hazardous)
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
    if let Some(revocation) = &deps.revocation {
        match revocation.check(&verified, cognito_jwt::unix_now()).await {
            Ok(Verdict::Valid | Verdict::Unchecked) => {}
            Ok(Verdict::Revoked) => {
                tracing::info!(reason = "token_revoked", principal = %verified.sub, "authorizer: unauthorized");
                return Ok(Checked::Unauthorized);
            }
            Err(_) => return Err(AuthorizerError::RevocationUnavailable),
        }
    }
    let context = deps.rules.context(&verified);
    let decision = match Verb::parse(method) {
        Some(verb) => deps.rules.decide(&context, verb, path),
        None => RouteDecision::Unlisted,
    };
    if decision != RouteDecision::Permitted {
        let (reason, rule) = match decision {
            RouteDecision::NotPermitted { rule, .. } => (
                ROUTE_NOT_PERMITTED,
                deps.rules.routes().get(rule).map(|r| r.route.as_str()),
            ),
            RouteDecision::NotCanonical => ("path_not_canonical", None),
            _ => (ROUTE_NOT_PERMITTED, None),
        };
        tracing::info!(
            reason,
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
