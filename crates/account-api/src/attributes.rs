//! Which user attributes a caller may set at sign-up.
//!
//! Anything that grants access (a role, a team, a group) must come from an administrator, never
//! from the user: such names are refused even when an operator lists them.

use std::collections::BTreeSet;

use auth_contract::config::{ConfigError, Env};

/// Attributes the caller can never set through the free-form list, whatever the configuration
/// says: the identity (`sub`, `username`) and the recovery and MFA channels, which have their
/// own named, checked fields (`email`, `phoneNumber`). Any name holding `verified` is refused
/// too: a user never vouches for themselves.
const RESERVED: &[&str] = &["email", "phone_number", "sub", "username"];
/// Substrings that mark an attribute as carrying authority.
const PRIVILEGED_MARKERS: &[&str] = &["role", "team", "group", "admin", "permission", "scope", "tenant"];
/// Longest attribute value accepted.
pub(crate) const MAX_ATTRIBUTE_VALUE_CHARS: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
/// Attribute names a user may set at sign-up.
pub struct AttributeAllowList(BTreeSet<String>);

impl Default for AttributeAllowList {
    /// Only `name`.
    fn default() -> Self {
        Self(BTreeSet::from(["name".to_owned()]))
    }
}

impl AttributeAllowList {
    /// `SIGN_UP_ALLOWED_ATTRIBUTES`: comma-separated Cognito attribute names; default `name`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let Some(names) = env.list("SIGN_UP_ALLOWED_ATTRIBUTES") else {
            return Ok(Self::default());
        };
        Self::new(names).map_err(|reason| ConfigError::Invalid {
            name: "SIGN_UP_ALLOWED_ATTRIBUTES",
            reason,
        })
    }

    /// An allow-list; a name that carries authority is refused.
    pub fn new(names: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for name in names {
            if is_privileged(&name) {
                return Err(format!("{name} can never be set by the user at sign-up"));
            }
            set.insert(name);
        }
        Ok(Self(set))
    }

    /// Whether the user may set `name`.
    pub fn allows(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Checks one attribute a user sets (at sign-up, answering a new-password challenge,
    /// updating the profile, where `also` adds `email`): the name must be allowed and the
    /// value short enough. The error is for the caller.
    pub(crate) fn check(&self, name: &str, value: &str, also: &[&str]) -> Result<(), String> {
        if !self.allows(name) && !also.contains(&name) {
            return Err("is not an attribute a user can set".into());
        }
        if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
            return Err(format!("must be at most {MAX_ATTRIBUTE_VALUE_CHARS} characters"));
        }
        Ok(())
    }
}

fn is_privileged(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let bare = lower.strip_prefix("custom:").unwrap_or(&lower);
    RESERVED.contains(&bare)
        || bare.contains("verified")
        || lower.starts_with("cognito:")
        || lower.starts_with("dev:")
        || PRIVILEGED_MARKERS.iter().any(|m| bare.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_only_name() {
        let list = AttributeAllowList::from_env(&Env::from_pairs(&[])).unwrap();
        assert!(list.allows("name"));
        assert!(!list.allows("custom:team"));
        assert!(!list.allows("email"));
    }

    #[test]
    fn privileged_names_are_refused_even_when_configured() {
        for name in [
            "custom:team",
            "custom:role",
            "custom:Roles",
            "cognito:groups",
            "custom:group_ids",
            "email_verified",
            "custom:tenant",
            "dev:custom:x",
            // Recovery and MFA channels, and anything a user would vouch for themselves.
            "phone_number",
            "phone_number_verified",
            "custom:verified",
            "custom:id_verified",
        ] {
            let env = Env::from_pairs(&[("SIGN_UP_ALLOWED_ATTRIBUTES", &format!("name,{name}"))]);
            let err = AttributeAllowList::from_env(&env).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "SIGN_UP_ALLOWED_ATTRIBUTES",
                        ..
                    }
                ),
                "{name}"
            );
        }
        let env = Env::from_pairs(&[("SIGN_UP_ALLOWED_ATTRIBUTES", "name, locale ,custom:nickname")]);
        let list = AttributeAllowList::from_env(&env).unwrap();
        assert!(list.allows("locale") && list.allows("custom:nickname"));
    }
}
