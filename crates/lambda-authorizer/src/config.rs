//! The authorizer's settings, read once at cold start from an [`Env`] (a map in tests).
//!
//! The variables, what they mean and their defaults are in `docs/configuration.md`, the one
//! table of every function's settings.

use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use auth_contract::config::{
    ConfigError, Env, PoolLocation, USER_POOL_ID, check_http_url, check_pool_id, client_ids, region_of, user_pool_id,
};
use cognito_jwt::{JwksSettings, PoolConfig, TokenUse};

use crate::revocation::RevocationSettings;
use crate::rules::Rules;

/// How HTTP API (payload 2.0) events are answered. REST events always get an IAM policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    #[default]
    /// An IAM policy (the default; always on REST APIs).
    Policy,
    /// `{isAuthorized, context}`. API Gateway caches it per identity source, not per route: with
    /// route-dependent rules, disable authorizer caching or add `$context.routeKey` to the
    /// identity sources.
    Simple,
}

impl FromStr for ResponseMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "policy" => Ok(ResponseMode::Policy),
            "simple" => Ok(ResponseMode::Simple),
            other => Err(format!("expected `policy` or `simple`, got `{other}`")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The authorizer's settings.
pub struct AuthorizerConfig {
    /// The accepted pools.
    pub pools: Vec<PoolConfig>,
    /// `access` (default) or `id`.
    pub token_use: TokenUse,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_seconds: u64,
    /// Verified-token cache entries; 0 disables.
    pub cache_size: usize,
    /// JWKS cache tuning.
    pub jwks: JwksSettings,
    /// The rule document.
    pub rules: Rules,
    /// Policy or simple answers for HTTP API events.
    pub response: ResponseMode,
    /// Whether a pre token generation trigger puts the team claim in access tokens
    /// (`TOKEN_CUSTOMIZATION=on|off`, set by the template); `None` when not said.
    pub token_customization: Option<bool>,
    /// How the revocation check behaves, when a store is attached.
    pub revocation: RevocationSettings,
}

const MAX_LEEWAY_SECONDS: u64 = 300;
const MAX_CACHE_SIZE: usize = 100_000;
/// A week: longer windows only postpone key rotation.
const MAX_JWKS_SECONDS: u64 = 7 * 86_400;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPool {
    user_pool_id: String,
    client_ids: Vec<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    jwks_url: Option<String>,
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.into(),
    }
}

impl AuthorizerConfig {
    /// Reads the settings; an error names the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let rules = load_rules(env)?;
        let pools = load_pools(env)?;
        let leeway_seconds = env.in_range("JWT_LEEWAY_SECONDS", 5_u64, 0..=MAX_LEEWAY_SECONDS)?;
        let cache_size = env.in_range("VERIFIED_TOKEN_CACHE_SIZE", 1024_usize, 0..=MAX_CACHE_SIZE)?;
        let defaults = JwksSettings::default();
        let secs = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(env.in_range(
                name,
                default.as_secs(),
                1..=MAX_JWKS_SECONDS,
            )?))
        };
        let timeout_ms = env.in_range(
            "JWKS_FETCH_TIMEOUT_MS",
            defaults.fetch_timeout.as_millis() as u64,
            100..=30_000,
        )?;
        let jwks = JwksSettings {
            backoff: secs("JWKS_BACKOFF_SECONDS", defaults.backoff)?,
            max_age: secs("JWKS_MAX_AGE_SECONDS", defaults.max_age)?,
            max_stale: secs("JWKS_MAX_STALE_SECONDS", defaults.max_stale)?,
            fetch_timeout: Duration::from_millis(timeout_ms),
            ..defaults
        };
        Ok(Self {
            pools,
            token_use: env.parsed("TOKEN_USE", TokenUse::Access)?,
            leeway_seconds,
            cache_size,
            jwks,
            rules,
            response: env.parsed("AUTHORIZER_RESPONSE", ResponseMode::Policy)?,
            revocation: revocation_settings(env)?,
            token_customization: match env.optional("TOKEN_CUSTOMIZATION").as_deref() {
                None => None,
                Some("on") => Some(true),
                Some("off") => Some(false),
                Some(other) => {
                    return Err(invalid(
                        "TOKEN_CUSTOMIZATION",
                        format!("expected `on` or `off`, got `{other}`"),
                    ));
                }
            },
        })
    }

    /// What an operator should know about this configuration, logged once at cold start.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let uses_teams = self.rules.routes().iter().any(|r| match &r.access {
            crate::rules::Access::Require(c) => !c.teams.is_empty(),
            crate::rules::Access::Authenticated => false,
        });
        if uses_teams && self.token_use == TokenUse::Access && self.token_customization == Some(false) {
            warnings.push(format!(
                "rules use teams, but no pre token generation trigger puts `{}` in access tokens: every team rule will deny (attach the trigger, or set TOKEN_USE=id)",
                self.rules.team_claim()
            ));
        }
        warnings
    }
}

fn revocation_settings(env: &Env) -> Result<RevocationSettings, ConfigError> {
    let defaults = RevocationSettings::default();
    let cache_seconds = env.in_range("REVOCATION_CACHE_SECONDS", defaults.cache_for.as_secs(), 0..=60)?;
    let timeout_ms = env.in_range("REVOCATION_TIMEOUT_MS", defaults.timeout.as_millis() as u64, 10..=5_000)?;
    Ok(RevocationSettings {
        cache_for: Duration::from_secs(cache_seconds),
        timeout: Duration::from_millis(timeout_ms),
        fail_open: env.parsed("REVOCATION_FAIL_OPEN", false)?,
        ..defaults
    })
}

fn load_rules(env: &Env) -> Result<Rules, ConfigError> {
    match (env.optional("AUTH_RULES"), env.optional("AUTH_RULES_FILE")) {
        (Some(_), Some(_)) => Err(invalid("AUTH_RULES", "set AUTH_RULES or AUTH_RULES_FILE, not both")),
        (Some(text), None) => Rules::from_json(&text).map_err(|e| invalid("AUTH_RULES", e.0)),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(&path).map_err(|e| invalid("AUTH_RULES_FILE", format!("{path}: {e}")))?;
            Rules::from_json(&text).map_err(|e| invalid("AUTH_RULES_FILE", format!("{path}: {}", e.0)))
        }
        (None, None) => Rules::project_default().map_err(|e| invalid("AUTH_RULES", e.0)),
    }
}

fn load_pools(env: &Env) -> Result<Vec<PoolConfig>, ConfigError> {
    let mut pools = Vec::new();
    if let Some(pool_id) = user_pool_id(env)? {
        let client_ids = client_ids(env)?;
        let PoolLocation {
            issuer,
            canonical_issuer,
            jwks_url,
        } = PoolLocation::from_env(env, &pool_id)?;
        pools.push(PoolConfig {
            issuer,
            canonical_issuer,
            jwks_url,
            client_ids,
        });
    }
    if let Some(json) = env.optional("COGNITO_POOLS") {
        let raw: Vec<RawPool> = serde_json::from_str(&json).map_err(|e| invalid("COGNITO_POOLS", e.to_string()))?;
        for (i, p) in raw.into_iter().enumerate() {
            let at = |r: String| invalid("COGNITO_POOLS", format!("[{i}]: {r}"));
            check_pool_id(&p.user_pool_id).map_err(at)?;
            let client_ids: Vec<String> = p.client_ids.into_iter().filter(|c| !c.trim().is_empty()).collect();
            if client_ids.is_empty() {
                return Err(at("clientIds is empty".into()));
            }
            let region = p
                .region
                .or_else(|| region_of(&p.user_pool_id).map(str::to_owned))
                .ok_or_else(|| at("no region: give `region` or a region-prefixed userPoolId".into()))?;
            let canonical_issuer = PoolLocation::derived_issuer(&region, &p.user_pool_id);
            let issuer = match p.issuer {
                Some(i) => check_http_url(&i).map(|()| i).map_err(at)?,
                None => canonical_issuer.clone(),
            };
            let jwks_url = match p.jwks_url {
                Some(u) => check_http_url(&u).map(|()| u).map_err(at)?,
                None => format!("{issuer}/.well-known/jwks.json"),
            };
            pools.push(PoolConfig {
                issuer,
                canonical_issuer,
                jwks_url,
                client_ids,
            });
        }
    }
    if pools.is_empty() {
        return Err(ConfigError::Missing(USER_POOL_ID));
    }
    for (i, p) in pools.iter().enumerate() {
        if pools.iter().skip(i + 1).any(|q| q.issuer == p.issuer) {
            return Err(invalid(
                "COGNITO_POOLS",
                format!("issuer {} is configured twice", p.issuer),
            ));
        }
    }
    Ok(pools)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::Verb;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs)
    }

    const BASE: &[(&str, &str)] = &[
        ("AWS_REGION", "eu-west-1"),
        ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
        ("COGNITO_CLIENT_ID", "c1, c2"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<_> = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn defaults_from_a_minimal_environment() {
        let c = AuthorizerConfig::from_env(&env(BASE)).unwrap();
        assert_eq!(c.pools.len(), 1);
        assert_eq!(
            c.pools[0].issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(
            c.pools[0].jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
        assert_eq!(c.pools[0].client_ids, ["c1", "c2"]);
        assert_eq!(c.token_use, TokenUse::Access);
        assert_eq!(c.leeway_seconds, 5);
        assert_eq!(c.cache_size, 1024);
        assert_eq!(c.response, ResponseMode::Policy);
        assert_eq!(c.rules, Rules::project_default().unwrap());
        assert_eq!(c.jwks, JwksSettings::default());
        assert_eq!(c.revocation, RevocationSettings::default());
        let r = AuthorizerConfig::from_env(&env(&with(&[
            ("REVOCATION_CACHE_SECONDS", "0"),
            ("REVOCATION_TIMEOUT_MS", "150"),
            ("REVOCATION_FAIL_OPEN", "true"),
        ])))
        .unwrap()
        .revocation;
        assert_eq!(
            (r.cache_for.as_secs(), r.timeout.as_millis(), r.fail_open),
            (0, 150, true)
        );
        for bad in [
            ("REVOCATION_CACHE_SECONDS", "61"),
            ("REVOCATION_TIMEOUT_MS", "0"),
            ("REVOCATION_FAIL_OPEN", "yes"),
        ] {
            let e = AuthorizerConfig::from_env(&env(&with(&[bad]))).unwrap_err();
            assert!(e.to_string().contains(bad.0), "{e}");
        }
    }

    #[test]
    fn emulator_overrides_keep_the_real_issuer() {
        let e = env(&with(&[(
            "COGNITO_JWKS_URL",
            "http://127.0.0.1:5000/eu-west-1_AbC123/.well-known/jwks.json",
        )]));
        let c = AuthorizerConfig::from_env(&e).unwrap();
        assert_eq!(
            c.pools[0].issuer,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(
            c.pools[0].jwks_url,
            "http://127.0.0.1:5000/eu-west-1_AbC123/.well-known/jwks.json"
        );
        let e = env(&with(&[("COGNITO_ISSUER", "http://localhost:9229/eu-west-1_AbC123")]));
        let c = AuthorizerConfig::from_env(&e).unwrap();
        assert_eq!(
            c.pools[0].jwks_url,
            "http://localhost:9229/eu-west-1_AbC123/.well-known/jwks.json"
        );
    }

    #[test]
    fn region_comes_from_the_pool_id_else_aws_region() {
        let c = AuthorizerConfig::from_env(&env(&[
            ("COGNITO_USER_POOL_ID", "us-east-2_x"),
            ("COGNITO_CLIENT_ID", "c"),
        ]))
        .unwrap();
        assert!(c.pools[0].issuer.contains("cognito-idp.us-east-2."));
        let e = env(&[("COGNITO_USER_POOL_ID", "local_pool"), ("COGNITO_CLIENT_ID", "c")]);
        assert_eq!(
            AuthorizerConfig::from_env(&e).unwrap_err(),
            ConfigError::Missing("AWS_REGION")
        );
    }

    #[test]
    fn several_pools() {
        let e = env(&with(&[(
            "COGNITO_POOLS",
            r#"[{"userPoolId":"us-east-1_Two","clientIds":["t1"]},{"userPoolId":"local_p3","region":"ap-south-1","clientIds":["t3"],"jwksUrl":"http://127.0.0.1:1/p3/jwks"}]"#,
        )]));
        let c = AuthorizerConfig::from_env(&e).unwrap();
        assert_eq!(c.pools.len(), 3);
        assert_eq!(
            c.pools[1].issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Two"
        );
        assert_eq!(
            c.pools[2].issuer,
            "https://cognito-idp.ap-south-1.amazonaws.com/local_p3"
        );
        assert_eq!(c.pools[2].jwks_url, "http://127.0.0.1:1/p3/jwks");
        // COGNITO_POOLS alone is enough.
        let e = env(&[(
            "COGNITO_POOLS",
            r#"[{"userPoolId":"us-east-1_Two","clientIds":["t1"]}]"#,
        )]);
        assert_eq!(AuthorizerConfig::from_env(&e).unwrap().pools.len(), 1);
    }

    #[test]
    fn rules_from_env_or_file() {
        let doc = r#"{"routes":[{"route":"POST /x","allow":"authenticated"}]}"#;
        let c = AuthorizerConfig::from_env(&env(&with(&[("AUTH_RULES", doc)]))).unwrap();
        assert_eq!(c.rules.routes()[0].method, crate::rules::MethodPattern::One(Verb::Post));

        let path = std::env::temp_dir().join(format!("auth-rules-{}.json", std::process::id()));
        std::fs::write(&path, doc).unwrap();
        let p = path.to_string_lossy().into_owned();
        let pairs: Vec<(&str, &str)> = BASE.iter().copied().chain([("AUTH_RULES_FILE", p.as_str())]).collect();
        let c = AuthorizerConfig::from_env(&Env::from_pairs(&pairs)).unwrap();
        assert_eq!(c.rules.routes().len(), 1);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn team_rules_without_the_trigger_are_warned_about() {
        let teams = r#"{"routes":[{"route":"GET /r","teams":["blue"]}]}"#;
        let c = |extra: &[(&'static str, &'static str)]| {
            AuthorizerConfig::from_env(&env(&with(&[&[("AUTH_RULES", teams)][..], extra].concat()))).unwrap()
        };
        assert_eq!(c(&[("TOKEN_CUSTOMIZATION", "off")]).warnings().len(), 1);
        assert!(c(&[("TOKEN_CUSTOMIZATION", "on")]).warnings().is_empty());
        assert!(c(&[]).warnings().is_empty(), "not said: no guess");
        assert!(
            c(&[("TOKEN_CUSTOMIZATION", "off"), ("TOKEN_USE", "id")])
                .warnings()
                .is_empty(),
            "id tokens carry it"
        );
        let no_teams = AuthorizerConfig::from_env(&env(&with(&[("TOKEN_CUSTOMIZATION", "off")]))).unwrap();
        assert!(no_teams.warnings().is_empty());
        assert!(AuthorizerConfig::from_env(&env(&with(&[("TOKEN_CUSTOMIZATION", "yes")]))).is_err());
    }

    #[test]
    fn failures_name_the_variable() {
        type Case = (Vec<(&'static str, &'static str)>, &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (vec![], "COGNITO_USER_POOL_ID", "missing"),
            (
                vec![("COGNITO_USER_POOL_ID", "eu-west-1_x")],
                "COGNITO_CLIENT_ID",
                "missing",
            ),
            (
                vec![("COGNITO_USER_POOL_ID", "eu west")],
                "COGNITO_USER_POOL_ID",
                "not a user pool id",
            ),
            (
                with(&[("TOKEN_USE", "refresh")]),
                "TOKEN_USE",
                "expected `access` or `id`",
            ),
            (
                with(&[("AUTHORIZER_RESPONSE", "json")]),
                "AUTHORIZER_RESPONSE",
                "expected `policy` or `simple`",
            ),
            (with(&[("JWT_LEEWAY_SECONDS", "-1")]), "JWT_LEEWAY_SECONDS", "invalid"),
            (
                with(&[("JWT_LEEWAY_SECONDS", "3600")]),
                "JWT_LEEWAY_SECONDS",
                "at most 300",
            ),
            (
                with(&[("VERIFIED_TOKEN_CACHE_SIZE", "many")]),
                "VERIFIED_TOKEN_CACHE_SIZE",
                "invalid",
            ),
            (
                with(&[("COGNITO_JWKS_URL", "ftp://x/jwks")]),
                "COGNITO_JWKS_URL",
                "not an http(s) URL",
            ),
            (
                with(&[("COGNITO_ISSUER", "https://")]),
                "COGNITO_ISSUER",
                "not an http(s) URL",
            ),
            (with(&[("AUTH_RULES", "{}")]), "AUTH_RULES", "missing field `routes`"),
            (
                with(&[("AUTH_RULES", "{}"), ("AUTH_RULES_FILE", "/x")]),
                "AUTH_RULES",
                "not both",
            ),
            (
                with(&[("AUTH_RULES_FILE", "/nonexistent/rules.json")]),
                "AUTH_RULES_FILE",
                "/nonexistent/rules.json",
            ),
            (with(&[("COGNITO_POOLS", "[{}]")]), "COGNITO_POOLS", "missing field"),
            (
                with(&[("COGNITO_POOLS", r#"[{"userPoolId":"local_p","clientIds":["c"]}]"#)]),
                "COGNITO_POOLS",
                "[0]: no region",
            ),
            (
                with(&[("COGNITO_POOLS", r#"[{"userPoolId":"us-east-1_p","clientIds":[]}]"#)]),
                "COGNITO_POOLS",
                "clientIds is empty",
            ),
            (
                with(&[(
                    "COGNITO_POOLS",
                    r#"[{"userPoolId":"eu-west-1_AbC123","clientIds":["c"]}]"#,
                )]),
                "COGNITO_POOLS",
                "configured twice",
            ),
            (
                with(&[("JWKS_MAX_AGE_SECONDS", "0")]),
                "JWKS_MAX_AGE_SECONDS",
                "between 1 and",
            ),
            (
                with(&[("JWKS_MAX_STALE_SECONDS", "99999999999")]),
                "JWKS_MAX_STALE_SECONDS",
                "between 1 and",
            ),
            (
                with(&[("JWKS_FETCH_TIMEOUT_MS", "5")]),
                "JWKS_FETCH_TIMEOUT_MS",
                "between",
            ),
        ];
        for (pairs, var, text) in cases {
            let e = AuthorizerConfig::from_env(&Env::from_pairs(&pairs)).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(var) && msg.contains(text), "{pairs:?}: {msg}");
        }
    }
}
