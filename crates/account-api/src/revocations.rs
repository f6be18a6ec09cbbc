//! Recording revocations for the authorizer, around the Cognito change that ends sessions
//! (the timing rules are `auth_contract::revocation`'s):
//!
//! - behind the authorizer ([`Revoker::end_sessions`]): the user's record first, so a failed
//!   write changes nothing (the caller retries after a 503 `RevocationUnavailable`) and a
//!   Cognito failure after it still leaves the tokens refused; then the change; then the record
//!   again at the second after Cognito's answer, and the answer waits until a new sign-in is
//!   sure to pass;
//! - on a public route ([`Revoker::sessions_ended`]): only after Cognito accepted the change
//!   (before it, nothing proves who asks: a wrong reset code must sign nobody out).
//!
//! The `sub` and `origin_jti` written come from a verified token (the authorizer's context) or
//! from Cognito itself (the admin routes resolve their target), never from an unverified token:
//! otherwise anyone could sign anyone out. Records are keyed by the pool's canonical issuer.

use std::sync::Arc;
use std::time::Duration;

use auth_contract::config::{ConfigError, Env, PoolLocation};
use auth_contract::revocation::{BoxFuture, Revocation, RevocationKey, RevocationStore, SessionEnd};
use http_kit::ApiError;
use revocation_store::DynamoStore;

use crate::cognito::CognitoSettings;

/// What the revoker reads the time from and waits on: the system's clock, or a test's.
pub trait Clock: Send + Sync {
    /// Time since the Unix epoch.
    fn now(&self) -> Duration;
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

/// The system clock and tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Where and how revocations are written.
#[derive(Clone)]
pub struct Revoker {
    store: Arc<dyn RevocationStore>,
    issuer: String,
    clock: Arc<dyn Clock>,
}

impl Revoker {
    /// A revoker over any store (the in-memory one in tests); `canonical_issuer` names the
    /// pool (`https://cognito-idp.<region>.amazonaws.com/<pool>`).
    pub fn new(store: Arc<dyn RevocationStore>, canonical_issuer: &str) -> Self {
        Self {
            store,
            issuer: canonical_issuer.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same revoker on another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// With `REVOCATION_TABLE` set: the DynamoDB table, keyed by the pool's canonical issuer.
    pub async fn from_env(env: &Env, settings: &CognitoSettings) -> Result<Option<Self>, ConfigError> {
        let Some(store) = DynamoStore::configured(env)? else {
            return Ok(None);
        };
        let issuer = PoolLocation::derived_issuer(&settings.region, &settings.user_pool_id);
        Ok(Some(Self::new(Arc::new(store), &issuer)))
    }

    /// The pool's canonical issuer, as records and the authorizer context name it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Ends every session of user `sub` with `change` (the Cognito call that ends them or
    /// changes what their tokens say), for a route behind the authorizer: the record before
    /// and after the change, then the wait (see the module documentation). A failed first
    /// write answers 503 and asks nothing of Cognito; a failed second one is logged (the
    /// change is made and the first record stands). The change comes boxed: SDK calls are
    /// large futures, and this one would otherwise hold it inline.
    pub async fn end_sessions<T>(&self, sub: &str, change: BoxFuture<'_, Result<T, ApiError>>) -> Result<T, ApiError> {
        let key = RevocationKey::user(&self.issuer, sub);
        self.write(&Revocation::new(&key, self.clock.now().as_secs())).await?;
        let changed = change.await?;
        if let Err(err) = self.sessions_ended(sub).await {
            tracing::error!(error = %err, "sessions ended, but the record after the change could not be written");
        }
        Ok(changed)
    }

    /// Records that Cognito has just ended every session of user `sub` (or changed what their
    /// tokens say), then waits until a new sign-in is sure to get tokens the record does not
    /// cover.
    pub async fn sessions_ended(&self, sub: &str) -> Result<(), ApiError> {
        let end = SessionEnd::after(self.clock.now());
        let key = RevocationKey::user(&self.issuer, sub);
        let written = self.write(&Revocation::new(&key, end.revoked_at())).await;
        let answer_at = Duration::from_secs(end.answer_at());
        if let Some(wait) = answer_at.checked_sub(self.clock.now()) {
            self.clock.sleep(wait).await;
        }
        written
    }

    /// Records that every token of the session `origin_jti` is revoked, whatever its age.
    pub async fn revoke_session(&self, origin_jti: &str) -> Result<(), ApiError> {
        let key = RevocationKey::session(&self.issuer, origin_jti);
        self.write(&Revocation::new(&key, self.clock.now().as_secs())).await
    }

    async fn write(&self, record: &Revocation) -> Result<(), ApiError> {
        self.store
            .write(record)
            .await
            .map_err(|e| ApiError::RevocationUnavailable { cause: e.to_string() })
    }
}
