//! Configuration lookups, read once at cold start.
//!
//! Every function takes its settings from environment variables. Lookups go through an
//! [`Env`] so tests can pass a map instead of touching the process environment.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use secrecy::SecretString;

/// A failed lookup, naming the variable so the cold-start log says exactly what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset or blank.
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("invalid environment variable {name}: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

/// Where a user pool's tokens come from: their `iss` and the pool's JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolLocation {
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`, or `COGNITO_ISSUER`.
    pub issuer: String,
    /// Always `https://cognito-idp.<region>.amazonaws.com/<pool id>`: the name revocation
    /// records and the authorizer context give the pool.
    pub canonical_issuer: String,
    /// `<issuer>/.well-known/jwks.json`, or `COGNITO_JWKS_URL`.
    pub jwks_url: String,
}

impl PoolLocation {
    /// The pool `pool_id`'s location: `COGNITO_ISSUER` and `COGNITO_JWKS_URL` override the
    /// derived values (an emulator serves its keys away from the issuer's path); the region
    /// comes from the pool id, else `AWS_REGION`.
    pub fn from_env(env: &Env, pool_id: &str) -> Result<Self, ConfigError> {
        check_pool_id(pool_id).map_err(|reason| ConfigError::Invalid {
            name: USER_POOL_ID,
            reason,
        })?;
        let region = match region_of(pool_id) {
            Some(region) => region.to_owned(),
            None => region(env)?,
        };
        let canonical_issuer = Self::derived_issuer(&region, pool_id);
        let issuer = match env.optional("COGNITO_ISSUER") {
            Some(issuer) => check_http_url(&issuer)
                .map(|()| issuer)
                .map_err(|reason| ConfigError::Invalid {
                    name: "COGNITO_ISSUER",
                    reason,
                })?,
            None => canonical_issuer.clone(),
        };
        let jwks_url = match env.optional("COGNITO_JWKS_URL") {
            Some(url) => check_http_url(&url)
                .map(|()| url)
                .map_err(|reason| ConfigError::Invalid {
                    name: "COGNITO_JWKS_URL",
                    reason,
                })?,
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        Ok(Self {
            issuer,
            canonical_issuer,
            jwks_url,
        })
    }

    /// The issuer Cognito gives the pool's tokens.
    pub fn derived_issuer(region: &str, pool_id: &str) -> String {
        format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
    }
}

/// `eu-west-1` from `eu-west-1_AbC123`.
pub fn region_of(pool_id: &str) -> Option<&str> {
    let (region, _) = pool_id.split_once('_')?;
    (region.contains('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    .then_some(region)
}

/// The variable that names the user pool.
pub const USER_POOL_ID: &str = "COGNITO_USER_POOL_ID";
/// The variable that names the app client (the authorizer: the app clients).
pub const CLIENT_ID: &str = "COGNITO_CLIENT_ID";
/// The variable that holds the app client's secret, when it has one.
pub const CLIENT_SECRET: &str = "COGNITO_CLIENT_SECRET";
/// The region Lambda runs the function in.
pub const REGION: &str = "AWS_REGION";

/// `AWS_REGION`, which Lambda sets.
pub fn region(env: &Env) -> Result<String, ConfigError> {
    env.required(REGION)
}

/// `COGNITO_CLIENT_ID`: the app client the functions call Cognito as.
pub fn client_id(env: &Env) -> Result<String, ConfigError> {
    env.required(CLIENT_ID)
}

/// `COGNITO_CLIENT_ID` as the authorizer reads it: every app client whose tokens it accepts,
/// comma-separated, at least one.
pub fn client_ids(env: &Env) -> Result<Vec<String>, ConfigError> {
    env.list(CLIENT_ID)
        .filter(|ids| !ids.is_empty())
        .ok_or(ConfigError::Missing(CLIENT_ID))
}

/// `COGNITO_CLIENT_SECRET`, when the app client has one: every call then carries it or its
/// SECRET_HASH.
pub fn client_secret(env: &Env) -> Option<SecretString> {
    env.optional(CLIENT_SECRET).map(SecretString::from)
}

/// `COGNITO_USER_POOL_ID`, checked ([`check_pool_id`]); `None` when unset. Every crate reads
/// the variable through this (or [`required_user_pool_id`]).
pub fn user_pool_id(env: &Env) -> Result<Option<String>, ConfigError> {
    env.optional(USER_POOL_ID)
        .map(|id| {
            check_pool_id(&id).map(|()| id).map_err(|reason| ConfigError::Invalid {
                name: USER_POOL_ID,
                reason,
            })
        })
        .transpose()
}

/// [`user_pool_id`], which must be set.
pub fn required_user_pool_id(env: &Env) -> Result<String, ConfigError> {
    user_pool_id(env)?.ok_or(ConfigError::Missing(USER_POOL_ID))
}

/// A user pool id's shape, `<region>_<id>`: 1 to 55 letters, digits, `_` or `-`, with a `_`
/// (a pasted client id, which has none, is caught here rather than as a confusing
/// ResourceNotFound at the first request).
pub fn check_pool_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 55
        && id.contains('_')
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a user pool id (expected the form <region>_<id>)"
        ))
    }
}

/// An absolute `http://` or `https://` URL with a host and no white space.
pub fn check_http_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("`{url}` is not an http(s) URL"))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{url}` is not an http(s) URL"));
    }
    Ok(())
}

type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where settings come from: the process environment, or a map in tests.
pub struct Env {
    lookup: Lookup,
}

impl Env {
    /// The process environment.
    pub fn process() -> Self {
        Self {
            lookup: Box::new(|name| std::env::var(name).ok()),
        }
    }

    /// Settings from a map (tests, tools).
    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self {
            lookup: Box::new(move |name| map.get(name).cloned()),
        }
    }

    /// Settings from name/value pairs.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_map(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    /// The value, or `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value, or [`ConfigError::Missing`] naming the variable.
    pub fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError::Missing(name))
    }

    /// A comma-separated list; blank entries are dropped.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.optional(name).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    /// A parsed value, or `default` when unset.
    pub fn parsed<T>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
        }
    }

    /// A parsed value that must lie in `range`, or `default` when unset.
    pub fn in_range<T>(&self, name: &'static str, default: T, range: RangeInclusive<T>) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default + Copy + std::fmt::Display,
        T::Err: std::fmt::Display,
    {
        let value = self.parsed(name, default)?;
        if range.contains(&value) {
            return Ok(value);
        }
        let (low, high) = (*range.start(), *range.end());
        let reason = if low == T::default() {
            format!("must be at most {high}")
        } else {
            format!("must be between {low} and {high}")
        };
        Err(ConfigError::Invalid { name, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_is_named() {
        let env = Env::from_pairs(&[("A", "1"), ("BLANK", "  ")]);
        assert_eq!(env.required("A").as_deref(), Ok("1"));
        let err = env.required("COGNITO_USER_POOL_ID").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variable COGNITO_USER_POOL_ID"
        );
        assert_eq!(env.required("BLANK"), Err(ConfigError::Missing("BLANK")));
    }

    #[test]
    fn lists_and_numbers_parse() {
        let env = Env::from_pairs(&[("L", " name, , locale "), ("N", "12"), ("BAD", "x")]);
        assert_eq!(env.list("L"), Some(vec!["name".to_owned(), "locale".to_owned()]));
        assert_eq!(env.parsed("N", 3_u64), Ok(12));
        assert_eq!(env.parsed("UNSET", 3_u64), Ok(3));
        assert_eq!(env.in_range("N", 3_u64, 1..=12), Ok(12));
        assert_eq!(env.in_range("UNSET", 3_u64, 1..=12), Ok(3));
        let reason = |r: Result<u64, ConfigError>| match r {
            Err(ConfigError::Invalid { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason(env.in_range("N", 3, 1..=11)), "must be between 1 and 11");
        assert_eq!(reason(env.in_range("N", 3, 0..=11)), "must be at most 11");
        assert_eq!(reason(env.in_range("N", 3, 13..=20)), "must be between 13 and 20");
        assert!(matches!(
            env.parsed::<u64>("BAD", 3),
            Err(ConfigError::Invalid { name: "BAD", .. })
        ));
    }

    #[test]
    fn the_app_client_settings_are_read_here() {
        use secrecy::ExposeSecret;
        let env = Env::from_pairs(&[(CLIENT_ID, " a , b "), (CLIENT_SECRET, "s3cr3t"), (REGION, "eu-west-1")]);
        assert_eq!(client_ids(&env), Ok(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(client_id(&env).as_deref(), Ok("a , b"), "trimmed, as every value");
        assert_eq!(client_secret(&env).as_ref().map(|s| s.expose_secret()), Some("s3cr3t"));
        assert_eq!(region(&env).as_deref(), Ok("eu-west-1"));
        let blank = Env::from_pairs(&[(CLIENT_ID, " , ")]);
        assert_eq!(client_ids(&blank), Err(ConfigError::Missing(CLIENT_ID)));
        assert!(client_secret(&blank).is_none());
        assert_eq!(region(&blank), Err(ConfigError::Missing(REGION)));
    }

    #[test]
    fn the_pool_id_has_the_shape_cognito_gives_it() {
        let read = |value: &str| user_pool_id(&Env::from_pairs(&[(USER_POOL_ID, value)]));
        assert_eq!(read("eu-west-1_AbC123"), Ok(Some("eu-west-1_AbC123".to_owned())));
        assert_eq!(user_pool_id(&Env::from_pairs(&[])), Ok(None));
        assert_eq!(
            required_user_pool_id(&Env::from_pairs(&[])),
            Err(ConfigError::Missing(USER_POOL_ID))
        );
        let long = format!("eu-west-1_{}", "a".repeat(46));
        for bad in [
            "1example23456789abcdefghij",
            "eu west_1",
            "eu-west-1_a/b",
            long.as_str(),
        ] {
            assert!(
                matches!(read(bad), Err(ConfigError::Invalid { name: USER_POOL_ID, .. })),
                "{bad}"
            );
        }
    }
}
