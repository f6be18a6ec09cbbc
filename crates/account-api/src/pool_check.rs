//! Whether a user pool and its app client can be trusted by this stack's rules. With an
//! existing pool (`ExistingUserPoolId`), nothing else checks that the client cannot write an
//! attribute the rules or the trigger trust (a console-made client often writes every
//! attribute: a user then sets their own `custom:team` and passes every team rule), or that an
//! email change is held until the new address is verified (otherwise a stolen token moves the
//! account's recovery address at once).
//!
//! The `admin_users` function runs the check on its first call and answers 503
//! `PoolConfigurationUnsafe` (the cause logged) while it fails; `make check-pool POOL=...
//! CLIENT=...` runs it before a deploy.
//!
//! ```
//! use account_api::pool_check::{PoolFacts, problems};
//!
//! let facts = PoolFacts {
//!     client_write_attributes: Some(vec!["email".into(), "name".into(), "custom:team".into()]),
//!     verified_before_update: vec!["email".into()],
//! };
//! let found = problems(&facts, &["custom:team".to_owned()]);
//! assert_eq!(found.len(), 1);
//! assert!(found[0].contains("custom:team"));
//! ```

use std::sync::atomic::{AtomicBool, Ordering};

use auth_contract::config::{ConfigError, Env};
use http_kit::ApiError;

use crate::cognito::IdentityProvider;

/// The attributes trusted when `TRUSTED_CLAIM_ATTRIBUTES` is unset: the rules' default team
/// claim, which the trigger copies from the attribute of that name.
pub const DEFAULT_TRUSTED_ATTRIBUTES: &[&str] = &["custom:team"];

/// What Cognito says about the pool and the client (DescribeUserPool, DescribeUserPoolClient).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PoolFacts {
    /// The client's `WriteAttributes`; `None` when unset (Cognito's default: the standard
    /// attributes, no custom one).
    pub client_write_attributes: Option<Vec<String>>,
    /// The pool's `UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate`.
    pub verified_before_update: Vec<String>,
}

impl PoolFacts {
    /// Whether a user may set `attribute` through the client with their own access token.
    pub fn user_may_write(&self, attribute: &str) -> bool {
        match &self.client_write_attributes {
            Some(list) => list.iter().any(|a| a == attribute),
            None => !attribute.starts_with("custom:") && !attribute.starts_with("dev:"),
        }
    }
}

/// The attributes whose claims rules or the trigger trust: `TRUSTED_CLAIM_ATTRIBUTES`
/// (comma-separated; default `custom:team`).
pub fn trusted_attributes(env: &Env) -> Result<Vec<String>, ConfigError> {
    let names = env
        .list("TRUSTED_CLAIM_ATTRIBUTES")
        .unwrap_or_else(|| DEFAULT_TRUSTED_ATTRIBUTES.iter().map(|a| (*a).to_owned()).collect());
    if names.is_empty() {
        return Err(ConfigError::Invalid {
            name: "TRUSTED_CLAIM_ATTRIBUTES",
            reason: "must name at least one attribute".into(),
        });
    }
    Ok(names)
}

/// Every reason the pool and client cannot be trusted, for the operator; empty when they can.
pub fn problems(facts: &PoolFacts, trusted: &[String]) -> Vec<String> {
    let mut found: Vec<String> = trusted
        .iter()
        .filter(|attribute| facts.user_may_write(attribute))
        .map(|attribute| {
            format!(
                "the app client lets users write `{attribute}`, whose claim the rules trust: remove it from the client's WriteAttributes"
            )
        })
        .collect();
    let email_held = facts.verified_before_update.iter().any(|a| a == "email");
    if facts.user_may_write("email") && !email_held {
        found.push(
            "users may change their email, and the change is not held until verified: set the pool's AttributesRequireVerificationBeforeUpdate to [email]".into(),
        );
    }
    found
}

/// The check as the `admin_users` function runs it: on its first call, then on every call
/// until it passes once (an operator's fix takes effect without a restart).
#[derive(Debug)]
pub struct PoolCheck {
    trusted: Vec<String>,
    passed: AtomicBool,
}

impl PoolCheck {
    /// A check of `trusted` attributes (see [`trusted_attributes`]).
    pub fn new(trusted: Vec<String>) -> Self {
        Self {
            trusted,
            passed: AtomicBool::new(false),
        }
    }

    /// Passes, or answers 503 `PoolConfigurationUnsafe` with every problem as its (logged)
    /// cause; a pool that cannot be described now is 503 `IdentityProviderUnavailable`.
    pub async fn ensure<P: IdentityProvider>(&self, idp: &P) -> Result<(), ApiError> {
        if self.passed.load(Ordering::Relaxed) {
            return Ok(());
        }
        let facts = idp.describe_pool().await?;
        let found = problems(&facts, &self.trusted);
        if found.is_empty() {
            self.passed.store(true, Ordering::Relaxed);
            Ok(())
        } else {
            Err(ApiError::PoolConfigurationUnsafe {
                cause: found.join("; "),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<String> {
        vec!["custom:team".to_owned()]
    }

    #[test]
    fn a_client_that_writes_a_trusted_attribute_is_refused() {
        let facts = PoolFacts {
            client_write_attributes: Some(vec!["email".into(), "custom:team".into()]),
            verified_before_update: vec!["email".into()],
        };
        let found = problems(&facts, &trusted());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("`custom:team`"));
    }

    #[test]
    fn email_changes_must_wait_for_verification_when_users_can_make_them() {
        let not_held = PoolFacts {
            client_write_attributes: Some(vec!["email".into(), "name".into()]),
            verified_before_update: Vec::new(),
        };
        assert!(problems(&not_held, &trusted())[0].contains("AttributesRequireVerificationBeforeUpdate"));
        let cannot_write_email = PoolFacts {
            client_write_attributes: Some(vec!["name".into()]),
            verified_before_update: Vec::new(),
        };
        assert!(problems(&cannot_write_email, &trusted()).is_empty());
    }

    #[test]
    fn an_unset_write_list_means_the_standard_attributes() {
        let unset = PoolFacts {
            client_write_attributes: None,
            verified_before_update: vec!["email".into()],
        };
        assert!(
            problems(&unset, &trusted()).is_empty(),
            "custom attributes are not written by default"
        );
        assert_eq!(
            problems(&unset, &["locale".to_owned()]).len(),
            1,
            "a standard attribute is"
        );
        let unset_not_held = PoolFacts {
            verified_before_update: Vec::new(),
            ..unset
        };
        assert_eq!(problems(&unset_not_held, &trusted()).len(), 1, "email is standard");
    }

    #[test]
    fn the_trusted_list_comes_from_the_environment() {
        assert_eq!(trusted_attributes(&Env::from_pairs(&[])).unwrap(), ["custom:team"]);
        assert_eq!(
            trusted_attributes(&Env::from_pairs(&[(
                "TRUSTED_CLAIM_ATTRIBUTES",
                "custom:team, custom:tier"
            )]))
            .unwrap(),
            ["custom:team", "custom:tier"]
        );
    }
}
