//! Who is calling and whether they may: the token, its revocation, then the rules. Each
//! denial is logged here, once, with a stable `reason` and never any token content.

use auth_contract::AuthorizerContext;
use auth_contract::bearer::{BearerError, bearer_token};

use crate::arn::MethodArn;
use crate::event::Credential;
use crate::handler::{AuthorizerDeps, AuthorizerError};
use crate::revocation::Verdict;
use crate::rules::RouteDecision;

const ROUTE_NOT_PERMITTED: &str = "route_not_permitted";

// Built once per request and matched at once: moving it costs less than boxing it.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Checked {
    /// A valid, unrevoked token, and what the rules say of the requested route.
    Verified(AuthorizerContext, RouteDecision),
    /// No usable token.
    Unauthorized,
}

/// Token, revocation, then rules.
pub(crate) async fn check(
    deps: &AuthorizerDeps,
    credential: Credential<'_>,
    arn: &MethodArn<'_>,
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
    let (method, path) = (arn.method, arn.request_path());
    let decision = match arn.verb() {
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
