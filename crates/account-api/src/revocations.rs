//! Recording revocations for the authorizer, always before Cognito is asked: a failed write
//! changes nothing (the caller retries after a 503 `RevocationUnavailable`), and a Cognito
//! failure after a written record still leaves the tokens refused. The `sub` and `origin_jti`
//! written come from a verified token (the authorizer's context) or from Cognito itself (the
//! admin routes resolve their target), never from an unverified token: otherwise anyone could
//! sign anyone out.

use std::sync::Arc;

use auth_contract::config::{ConfigError, Env, PoolLocation};
use auth_contract::revocation::{RevocationKey, RevocationPolicy, RevocationStore};
use http_kit::ApiError;
use revocation_store::DynamoStore;

use crate::cognito::CognitoSettings;

/// Where and how revocations are written.
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn RevocationStore>,
    issuer: String,
    policy: RevocationPolicy,
}

impl Revoker {
    /// A revoker over any store (the in-memory one in tests).
    pub fn new(store: Arc<dyn RevocationStore>, issuer: &str, policy: RevocationPolicy) -> Self {
        Self {
            store,
            issuer: issuer.to_owned(),
            policy,
        }
    }

    /// With `REVOCATION_TABLE` set: the DynamoDB table, the pool's issuer (`COGNITO_ISSUER`, or
    /// derived from the region and the pool), records living `TOKEN_VALIDITY_SECONDS` (default
    /// 3600, the longest token validity of the app client) plus `JWT_LEEWAY_SECONDS` (default 5).
    pub async fn from_env(env: &Env, settings: &CognitoSettings) -> Result<Option<Self>, ConfigError> {
        let Some(table) = env.optional("REVOCATION_TABLE") else {
            return Ok(None);
        };
        let issuer = env
            .optional("COGNITO_ISSUER")
            .unwrap_or_else(|| PoolLocation::derived_issuer(&settings.region, &settings.user_pool_id));
        let policy = RevocationPolicy {
            token_validity_seconds: env.parsed("TOKEN_VALIDITY_SECONDS", 3600)?,
            leeway_seconds: env.parsed("JWT_LEEWAY_SECONDS", 5)?,
        };
        let store = Arc::new(DynamoStore::from_env(env, &table)?);
        Ok(Some(Self::new(store, &issuer, policy)))
    }

    /// Records that every token of user `sub` issued up to now is revoked.
    pub async fn revoke_user(&self, sub: &str) -> Result<(), ApiError> {
        self.write(RevocationKey::user(&self.issuer, sub)).await
    }

    /// Records that every token of the session `origin_jti` is revoked.
    pub async fn revoke_session(&self, origin_jti: &str) -> Result<(), ApiError> {
        self.write(RevocationKey::session(&self.issuer, origin_jti)).await
    }

    async fn write(&self, key: RevocationKey) -> Result<(), ApiError> {
        let record = self.policy.record(&key, now());
        self.store
            .write(&record)
            .await
            .map_err(|e| ApiError::RevocationUnavailable { cause: e.to_string() })
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
