//! The policy one verified caller gets: exact for the requested route, and never more
//! permissive than the rules on any other route API Gateway may reuse it for.

use auth_contract::AuthorizerContext;

use super::PolicyError;
use super::builder::PolicyBuilder;
use super::document::{Effect, PolicyDocument};
use crate::arn::MethodArn;
use crate::path::NON_CANONICAL_GLOBS;
use crate::rules::{RouteDecision, Rules};

/// The policy for one verified caller, never more permissive than [`Rules::decide`] for any
/// path of the API and stage, so API Gateway may cache it for every route:
/// - every route the caller may call is allowed, and where a `{param}` would let the IAM glob
///   reach deeper paths, those are denied ([`crate::rules::PathPattern::gap_globs`]);
/// - every route the caller may not call is denied;
/// - every non-canonical path is denied;
/// - the requested resource is denied when the request is not permitted.
///
/// IAM globs cannot say "one segment", so a Deny may also cover a path another rule permits
/// ([`super::overlap_warnings`] names where). When that path is the one requested, the answer
/// is a narrow policy that allows exactly the requested resource: the live decision is always
/// kept, and only a cached call to another route may be refused.
pub fn caller_policy(
    rules: &Rules,
    caller: &AuthorizerContext,
    arn: &MethodArn<'_>,
    decision: RouteDecision,
) -> Result<PolicyDocument, PolicyError> {
    let requested = arn.as_str();
    let mut b = PolicyBuilder::for_method_arn(arn);
    for (rule, permitted) in rules.permissions(caller) {
        let glob = rule.path.glob();
        let gaps = if permitted { rule.path.gap_globs() } else { Vec::new() };
        for &verb in rule.method.verbs() {
            if permitted {
                b.allow_method(verb, &glob)?;
                for gap in &gaps {
                    b.deny_method(verb, gap)?;
                }
            } else {
                b.deny_method(verb, &glob)?;
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
