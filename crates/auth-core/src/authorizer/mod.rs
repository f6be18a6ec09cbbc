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
//! The entry points share one implementation, so they always agree:
//! - [`handle_event`]: a typed [`AuthorizerEvent`] in (deserialized straight from the event JSON,
//!   keeping only the fields read here), a typed [`AuthorizerResponse`] out (serialized straight
//!   to the response JSON). The Lambda binary uses this: no `serde_json::Value` tree is built.
//! - [`handler`]: `serde_json::Value` in and out, on top of [`handle_event`] (tests, local tools);
//! - [`authorize`]: (method, path, Authorization header) in, [`AccessDecision`] out. **A local
//!   gateway should call this directly**: no event to build and no policy to evaluate, and the
//!   decision is by construction what API Gateway would make of [`handler`]'s policy.

mod config;
mod event;

#[cfg(test)]
mod tests;

use std::sync::{Arc, PoisonError, RwLock};

use serde::Deserialize;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

pub use config::{AuthorizerConfig, ResponseMode};
pub use event::{AuthorizerEvent, BorrowedEvent, EventFormat, EventText, Field, HeaderAuth};
use event::{Credential, Inbound};

use crate::config::{ConfigError, Env};
use crate::jwt::{FetchError, HttpJwksFetcher, JwksError, JwksFetcher, VerifiedToken, Verifier, VerifierConfig};
use crate::policy::{MethodArn, PolicyBuilder, PolicyDocument};
use crate::rules::{MethodPattern, RouteDecision, Rules, Verb};

/// Everything the authorizer needs, built once at cold start.
pub struct AuthorizerDeps {
    verifier: Verifier,
    rules: Rules,
    response: ResponseMode,
    policies: PolicyCache,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
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
            role_claim: config.rules.role_claim().to_owned(),
            team_claim: config.rules.team_claim().to_owned(),
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

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn response_mode(&self) -> ResponseMode {
        self.response
    }
}

/// A failed invocation. Returned to the Lambda runtime as the function error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizerError {
    /// Exactly "Unauthorized": API Gateway turns this message into a 401.
    #[error("Unauthorized")]
    Unauthorized,
    #[error("JWKS unavailable")]
    JwksUnavailable,
    #[error("bad authorizer event: {0}")]
    BadEvent(&'static str),
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

/// The flat context handed to the backend (`requestContext.authorizer.<key>` on REST,
/// `requestContext.authorizer.lambda.<key>` on HTTP APIs). Lists are comma-joined, scopes
/// space-joined; absent claims are empty strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthContext {
    pub sub: String,
    pub username: String,
    pub groups: String,
    pub role: String,
    pub team: String,
    pub scope: String,
    pub token_use: String,
    pub client_id: String,
}

impl AuthContext {
    pub fn from_token(t: &VerifiedToken) -> Self {
        Self {
            sub: t.sub.clone(),
            username: t.username.clone().unwrap_or_default(),
            groups: t.identity.groups.join(","),
            role: t.identity.roles.join(","),
            team: t.identity.teams.join(","),
            scope: t.identity.scopes.join(" "),
            token_use: t.token_use.as_str().to_owned(),
            client_id: t.client_id.to_string(),
        }
    }
}

/// A request as the local gateway sees it.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Any case.
    pub method: &'a str,
    /// The path as routed, e.g. `/admin/users` (no query string).
    pub path: &'a str,
    /// The raw `Authorization` header value, if any.
    pub authorization: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessDecision {
    Allow {
        principal_id: String,
        context: AuthContext,
    },
    /// Valid token, route not permitted: 403.
    Deny {
        principal_id: String,
        context: AuthContext,
        reason: &'static str,
    },
    /// Missing or invalid token: 401.
    Unauthorized {
        reason: &'static str,
    },
}

impl AccessDecision {
    /// The status API Gateway would answer with (200 meaning "passed on to the backend").
    pub fn status(&self) -> u16 {
        match self {
            AccessDecision::Allow { .. } => 200,
            AccessDecision::Deny { .. } => 403,
            AccessDecision::Unauthorized { .. } => 401,
        }
    }
}

/// Decides one request without an API Gateway event. `Err` means the authorizer itself failed
/// (API Gateway would answer 500).
pub async fn authorize(deps: &AuthorizerDeps, req: &AccessRequest<'_>) -> Result<AccessDecision, AuthorizerError> {
    let credential = req.authorization.map_or(Credential::Missing, Credential::Value);
    let path = req.path.strip_prefix('/').unwrap_or(req.path);
    Ok(match check(deps, credential, req.method, path).await? {
        Checked::Unauthorized(reason) => AccessDecision::Unauthorized { reason },
        Checked::Verified(token, RouteDecision::Permitted) => AccessDecision::Allow {
            principal_id: token.sub.clone(),
            context: AuthContext::from_token(&token),
        },
        Checked::Verified(token, _) => AccessDecision::Deny {
            principal_id: token.sub.clone(),
            context: AuthContext::from_token(&token),
            reason: ROUTE_NOT_PERMITTED,
        },
    })
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

    let (token, decision) = match checked {
        Checked::Unauthorized(_) if simple => {
            return Ok(AuthorizerResponse::Simple {
                authorized: false,
                token: None,
            });
        }
        Checked::Unauthorized(_) => return Err(AuthorizerError::Unauthorized),
        Checked::Verified(token, decision) => (token, decision),
    };
    if simple {
        return Ok(AuthorizerResponse::Simple {
            authorized: decision == RouteDecision::Permitted,
            token: Some(token),
        });
    }
    let policy = rendered_policy(deps, &token, &arn, arn_text, decision)?;
    Ok(AuthorizerResponse::Policy { token, policy })
}

/// [`handle_event`] on a `serde_json::Value` event (strings borrowed from it), the response
/// as a `Value`. Any JSON is accepted; one that is not an authorizer event is `BadEvent`.
pub async fn handler(deps: &AuthorizerDeps, event: Value) -> Result<Value, AuthorizerError> {
    // Reading a `Value` cannot fail: every JSON shape is a valid (possibly unusable) event.
    let typed = BorrowedEvent::deserialize(&event).map_err(|_| bad_event("unreadable event"))?;
    let response = handle_event(deps, &typed).await?;
    serde_json::to_value(&response).map_err(|e| AuthorizerError::Internal(e.to_string()))
}

/// A successful answer, serialized straight from the verified token and the policy.
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
        token: Arc<VerifiedToken>,
        policy: RenderedPolicy,
    },
    /// HTTP API simple response: `isAuthorized` and `context` (empty without a valid token).
    Simple {
        authorized: bool,
        token: Option<Arc<VerifiedToken>>,
    },
}

impl Serialize for AuthorizerResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AuthorizerResponse::Policy { token, policy } => {
                let mut m = serializer.serialize_map(Some(3))?;
                m.serialize_entry("context", &ContextOf(token))?;
                m.serialize_entry("policyDocument", policy)?;
                m.serialize_entry("principalId", &token.sub)?;
                m.end()
            }
            AuthorizerResponse::Simple { authorized, token } => {
                let mut m = serializer.serialize_map(Some(2))?;
                match token {
                    Some(t) => m.serialize_entry("context", &ContextOf(t))?,
                    None => m.serialize_entry("context", &Empty)?,
                }
                m.serialize_entry("isAuthorized", authorized)?;
                m.end()
            }
        }
    }
}

/// The [`AuthContext`] of a token, written without building it (keys sorted).
struct ContextOf<'a>(&'a VerifiedToken);

impl Serialize for ContextOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = serializer.serialize_map(Some(8))?;
        m.serialize_entry("clientId", &*t.client_id)?;
        m.serialize_entry("groups", &Joined(&t.identity.groups, ","))?;
        m.serialize_entry("role", &Joined(&t.identity.roles, ","))?;
        m.serialize_entry("scope", &Joined(&t.identity.scopes, " "))?;
        m.serialize_entry("sub", &t.sub)?;
        m.serialize_entry("team", &Joined(&t.identity.teams, ","))?;
        m.serialize_entry("tokenUse", t.token_use.as_str())?;
        m.serialize_entry("username", t.username.as_deref().unwrap_or_default())?;
        m.end()
    }
}

/// A list written as one joined string, without joining it first.
struct Joined<'a>(&'a [String], &'static str);

impl Serialize for Joined<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [] => serializer.serialize_str(""),
            [one] => serializer.serialize_str(one),
            _ => serializer.collect_str(self),
        }
    }
}

impl std::fmt::Display for Joined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(self.1)?;
            }
            f.write_str(item)?;
        }
        Ok(())
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
    token: &VerifiedToken,
    arn: &MethodArn<'_>,
    requested: &str,
    decision: RouteDecision,
) -> Result<PolicyDocument, AuthorizerError> {
    let mut b = PolicyBuilder::for_method_arn(arn);
    for (rule, permitted) in rules.permissions(&token.identity) {
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
fn permission_bits(rules: &Rules, token: &VerifiedToken) -> Option<u128> {
    if rules.routes().len() > 128 {
        return None;
    }
    Some(
        rules
            .permissions(&token.identity)
            .enumerate()
            .fold(0u128, |bits, (i, (_, permitted))| bits | (u128::from(permitted) << i)),
    )
}

/// [`caller_policy`], rendered, from the cache when the request is permitted.
fn rendered_policy(
    deps: &AuthorizerDeps,
    token: &VerifiedToken,
    arn: &MethodArn<'_>,
    requested: &str,
    decision: RouteDecision,
) -> Result<RenderedPolicy, AuthorizerError> {
    let key = (decision == RouteDecision::Permitted)
        .then(|| permission_bits(&deps.rules, token))
        .flatten();
    if let Some(bits) = key
        && let Some(hit) = deps.policies.get(arn.prefix(), bits)
    {
        return Ok(hit);
    }
    let policy = RenderedPolicy::render(&caller_policy(&deps.rules, token, arn, requested, decision)?)?;
    if let Some(bits) = key {
        deps.policies.insert(arn.prefix(), bits, policy.clone());
    }
    Ok(policy)
}

const ROUTE_NOT_PERMITTED: &str = "route_not_permitted";

enum Checked {
    Verified(Arc<VerifiedToken>, RouteDecision),
    Unauthorized(&'static str),
}

/// Token, then rules; logs each denial once.
async fn check(
    deps: &AuthorizerDeps,
    credential: Credential<'_>,
    method: &str,
    path: &str,
) -> Result<Checked, AuthorizerError> {
    let token = match bearer(credential) {
        Ok(t) => t,
        Err(reason) => {
            tracing::info!(reason, "authorizer: unauthorized");
            return Ok(Checked::Unauthorized(reason));
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
            return Ok(Checked::Unauthorized(e.reason()));
        }
    };
    let decision = match Verb::parse(method) {
        Some(verb) => deps.rules.decide(&verified.identity, verb, path),
        None => RouteDecision::Unlisted,
    };
    if decision != RouteDecision::Permitted {
        let rule = match decision {
            RouteDecision::NotPermitted { rule, .. } => deps.rules.routes().get(rule).map(|r| r.route.as_str()),
            _ => None,
        };
        tracing::info!(
            reason = ROUTE_NOT_PERMITTED,
            principal = %verified.sub,
            method,
            path,
            rule = rule.unwrap_or("(unlisted)"),
            "authorizer: forbidden"
        );
    }
    Ok(Checked::Verified(verified, decision))
}

/// `Bearer <jwt>`, scheme case-insensitive. Errors are reason codes.
fn bearer(credential: Credential<'_>) -> Result<&str, &'static str> {
    let raw = match credential {
        Credential::Missing => return Err("missing_token"),
        Credential::Ambiguous => return Err("ambiguous_token"),
        Credential::Value(v) => v,
    };
    let blank = |c: char| c == ' ' || c == '\t';
    let v = raw.trim_matches(blank);
    if v.is_empty() || v.eq_ignore_ascii_case("bearer") {
        return Err("missing_token");
    }
    let Some((scheme, rest)) = v.split_once(blank) else {
        return Err("bad_scheme");
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("bad_scheme");
    }
    // Anything after the token (whitespace included) fails base64url decoding in the verifier,
    // which names it `malformed_token`; scanning a 1 KB token char by char here cost a microsecond.
    Ok(rest.trim_start_matches(blank))
}

fn bad_event(detail: &'static str) -> AuthorizerError {
    tracing::warn!(reason = "bad_event", detail, "authorizer: unusable event");
    AuthorizerError::BadEvent(detail)
}
