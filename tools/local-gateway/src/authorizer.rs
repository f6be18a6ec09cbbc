//! The Lambda authorizer in front of protected routes, applied as API Gateway applies it: the
//! real authorizer handler gets a REQUEST event, its IAM policy is evaluated against the
//! request's method ARN (an explicit Deny wins, no matching Allow means 403), its context is
//! handed to the function, and the policy is cached per `Authorization` header for the same TTL
//! as the template, so a cached policy is exercised across routes exactly as in the cloud.

use std::collections::HashMap;
use std::hash::RandomState;
use std::time::{Duration, Instant};

use auth_contract::AuthorizerContext;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerRequestTypeRequestContext,
};
use http::{HeaderMap, Method, header};
use lambda_authorizer::{AuthorizerDeps, AuthorizerError, Effect, PolicyDocument, handler};
use serde::Deserialize;
use serde_json::Value;

/// The region of the local method ARNs.
pub const REGION: &str = "us-east-1";
/// The account of the local method ARNs.
pub const ACCOUNT_ID: &str = "123456789012";
/// The API id of the local method ARNs.
pub const API_ID: &str = "local";

/// Why API Gateway would not call the function: each is answered with the template's
/// gateway response of that name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or the authorizer said `Unauthorized`: 401.
    Unauthorized,
    /// The policy does not allow the request: 403.
    AccessDenied,
    /// The authorizer failed (no JWKS, a bug).
    AuthorizerFailure,
}

impl Refusal {
    /// The name of the template's gateway response.
    pub fn gateway_response(self) -> &'static str {
        match self {
            Refusal::Unauthorized => "UNAUTHORIZED",
            Refusal::AccessDenied => "ACCESS_DENIED",
            Refusal::AuthorizerFailure => "AUTHORIZER_FAILURE",
        }
    }
}

#[derive(Clone)]
struct CachedPolicy {
    expires: Instant,
    response: Value,
}

/// The authorizer in front of protected routes, with API Gateway's policy cache.
pub struct LocalAuthorizer {
    deps: AuthorizerDeps,
    cache: PolicyCache,
}

/// API Gateway bounds its policy cache; so does this one, or a long local run (every sign-in
/// brings a new token) would grow the gateway without end. A policy takes a few KB; an evicted
/// one only means the authorizer function runs again, as after an eviction in the cloud.
const POLICY_CACHE_ENTRIES: usize = 256;

/// Policies by `Authorization` header, each served until its TTL runs out.
struct PolicyCache {
    ttl: Duration,
    map: quick_cache::sync::Cache<String, CachedPolicy, quick_cache::UnitWeighter, RandomState>,
}

impl PolicyCache {
    fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            map: quick_cache::sync::Cache::with(
                capacity,
                capacity as u64,
                quick_cache::UnitWeighter,
                RandomState::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            ),
        }
    }

    fn get(&self, identity: &str) -> Option<Value> {
        let entry = self.map.get(identity)?;
        if entry.expires > Instant::now() {
            return Some(entry.response);
        }
        self.map.remove(identity);
        None
    }

    fn insert(&self, identity: &str, response: &Value) {
        if self.ttl.is_zero() {
            return;
        }
        let entry = CachedPolicy {
            expires: Instant::now() + self.ttl,
            response: response.clone(),
        };
        self.map.insert(identity.to_owned(), entry);
    }
}

impl LocalAuthorizer {
    /// The authorizer, its policies cached for `ttl`.
    pub fn new(deps: AuthorizerDeps, ttl: Duration) -> Self {
        Self {
            deps,
            cache: PolicyCache::new(ttl, POLICY_CACHE_ENTRIES),
        }
    }

    /// The authorizer function's own dependencies (its handler takes them).
    pub fn deps(&self) -> &AuthorizerDeps {
        &self.deps
    }

    /// The context to hand to the function (with `principalId`), or why API Gateway answers
    /// itself instead.
    pub async fn authorize(&self, request: &GatewayRequest<'_>) -> Result<HashMap<String, Value>, Refusal> {
        // With an identity source configured, API Gateway answers 401 itself when it is absent.
        let Some(identity) = request.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(Refusal::Unauthorized);
        };
        let method_arn = format!(
            "arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{}/{}/{}",
            request.stage,
            request.method,
            request.path.trim_start_matches('/')
        );
        let response = match self.cache.get(identity) {
            Some(response) => response,
            None => {
                let event = request_event(&method_arn, request);
                match handler(&self.deps, event).await {
                    Ok(response) => {
                        self.cache.insert(identity, &response);
                        response
                    }
                    Err(AuthorizerError::Unauthorized) => return Err(Refusal::Unauthorized),
                    Err(other) => {
                        tracing::error!(error = %other, "authorizer failed");
                        return Err(Refusal::AuthorizerFailure);
                    }
                }
            }
        };
        if !policy_allows(&response, &method_arn) {
            return Err(Refusal::AccessDenied);
        }
        // The typed context the authorizer wrote, passed on as API Gateway passes it.
        let written: HashMap<String, Value> = response
            .get("context")
            .and_then(Value::as_object)
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let context = AuthorizerContext::from_fields(&written).ok_or(Refusal::AuthorizerFailure)?;
        let mut fields = context.to_fields();
        if let Some(principal) = response.get("principalId") {
            fields.insert("principalId".into(), principal.clone());
        }
        Ok(fields)
    }
}

/// A request as the gateway routed it.
#[derive(Debug, Clone, Copy)]
pub struct GatewayRequest<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path, without the stage.
    pub path: &'a str,
    /// The matched resource (`/admin/users/{username}`).
    pub resource: &'a str,
    /// The request's headers.
    pub headers: &'a HeaderMap,
    /// The stage.
    pub stage: &'a str,
    /// The gateway's request id.
    pub request_id: &'a str,
}

fn request_event(method_arn: &str, request: &GatewayRequest<'_>) -> Value {
    let GatewayRequest {
        method,
        path,
        resource,
        headers,
        stage,
        request_id,
    } = *request;
    let mut context = ApiGatewayCustomAuthorizerRequestTypeRequestContext::default();
    context.path = Some(format!("/{stage}{path}"));
    context.account_id = Some(ACCOUNT_ID.into());
    context.stage = Some(stage.into());
    context.request_id = Some(request_id.into());
    context.resource_path = Some(resource.into());
    context.http_method = Some(method.clone());
    context.apiid = Some(API_ID.into());

    let mut event = ApiGatewayCustomAuthorizerRequestTypeRequest::default();
    event.type_ = Some("REQUEST".into());
    event.method_arn = Some(method_arn.into());
    event.resource = Some(resource.into());
    event.path = Some(path.into());
    event.http_method = Some(method.clone());
    event.headers = headers.clone();
    event.multi_value_headers = headers.clone();
    event.request_context = context;
    serde_json::to_value(event).unwrap_or(Value::Null)
}

/// API Gateway's reading of the authorizer's answer for one method ARN: an explicit Deny wins,
/// then any Allow; nothing matching, or no readable policy, is a deny. The evaluation is
/// `lambda_authorizer::PolicyDocument`'s, which the authorizer itself never consults when deciding, so this still
/// checks the policy it built against the decision it made.
pub fn policy_allows(response: &Value, method_arn: &str) -> bool {
    response
        .get("policyDocument")
        .and_then(|document| PolicyDocument::deserialize(document).ok())
        .is_some_and(|policy| policy.evaluate(method_arn) == Effect::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:local/local/GET/admin/users";

    #[test]
    fn explicit_deny_wins_and_no_match_denies() {
        let allow_all = json!({"policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:*:*:local/local/*/*"]}
        ]}});
        assert!(policy_allows(&allow_all, ARN));
        let with_deny = json!({"policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:*:*:local/local/*/*"]},
            {"Action": ["execute-api:Invoke"], "Effect": "Deny", "Resource": ARN}
        ]}});
        assert!(!policy_allows(&with_deny, ARN));
        let other_route = json!({"policyDocument": {"Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:*:*:local/local/GET/auth/me"]}
        ]}});
        assert!(!policy_allows(&other_route, ARN));
        assert!(!policy_allows(&json!({}), ARN));
    }

    #[test]
    fn the_policy_cache_stays_within_its_bound_as_new_tokens_arrive() {
        let cache = PolicyCache::new(Duration::from_secs(300), 16);
        let policy = json!({"principalId": "someone"});
        for n in 0..1_000 {
            cache.insert(&format!("Bearer token-{n}"), &policy);
        }
        assert!(cache.map.len() <= 16, "{} entries", cache.map.len());
        assert_eq!(
            cache.get("Bearer token-999"),
            Some(policy),
            "the newest entry is served"
        );
    }

    #[test]
    fn an_expired_policy_is_not_served_and_a_zero_ttl_caches_nothing() {
        let cache = PolicyCache::new(Duration::from_millis(1), 16);
        cache.insert("Bearer a", &json!({}));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(cache.get("Bearer a"), None);
        assert_eq!(cache.map.len(), 0, "the stale entry is dropped when looked up");

        let off = PolicyCache::new(Duration::ZERO, 16);
        off.insert("Bearer a", &json!({}));
        assert_eq!(off.get("Bearer a"), None);
    }
}
