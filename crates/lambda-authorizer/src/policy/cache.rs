//! The caller's policy, rendered, reused across callers with the same permissions.

use std::sync::{PoisonError, RwLock};

use auth_contract::AuthorizerContext;

use super::PolicyError;
use super::caller::caller_policy;
use super::overlaps::hazardous_routes;
use super::rendered::RenderedPolicy;
use crate::arn::MethodArn;
use crate::rules::{RouteDecision, Rules};

/// Entries in the rendered-policy cache: a few APIs and stages times the distinct permission
/// sets of the callers (a handful of groups) fit; more only costs a rebuild.
pub(crate) const POLICY_CACHE_ENTRIES: usize = 32;

/// The policies of one rule document: [`caller_policy`], rendered, from the cache when the
/// request is permitted.
pub(crate) struct Policies {
    /// Per route: whether a Deny of another route (or its own gap) may cover some of its paths.
    hazardous: Vec<bool>,
    cache: PolicyCache,
}

impl Policies {
    /// For this rule document, which must not change afterwards (the cache keys on its rules'
    /// positions).
    pub(crate) fn new(rules: &Rules) -> Self {
        Self {
            hazardous: hazardous_routes(rules),
            cache: PolicyCache::new(POLICY_CACHE_ENTRIES),
        }
    }

    /// The rendered policy for this caller and request.
    pub(crate) fn rendered(
        &self,
        rules: &Rules,
        caller: &AuthorizerContext,
        arn: &MethodArn<'_>,
        decision: RouteDecision,
    ) -> Result<RenderedPolicy, PolicyError> {
        // A request to a route another route's Deny may cover needs its own check (see
        // `caller_policy`): the cached rendering is only for routes without such overlaps.
        let hazardous = arn.verb().is_some_and(|verb| {
            let path = arn.request_path();
            (rules.routes().iter().zip(&self.hazardous)).any(|(rule, &h)| h && rule.matches(verb, path))
        });
        let key = (decision == RouteDecision::Permitted && !hazardous)
            .then(|| permission_bits(rules, caller))
            .flatten();
        if let Some(bits) = key
            && let Some(hit) = self.cache.get(arn.prefix(), bits)
        {
            return Ok(hit);
        }
        let policy = RenderedPolicy::render(&caller_policy(rules, caller, arn, decision)?)?;
        if let Some(bits) = key {
            self.cache.insert(arn.prefix(), bits, policy.clone());
        }
        Ok(policy)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.cache.entries.read().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// Rendered policies of permitted requests, keyed by everything such a policy depends on: the
/// `arn:...:apiId/stage` prefix and which rules permit the caller (one bit per rule). A denied
/// request adds its own resource to the policy, so it is never cached.
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
