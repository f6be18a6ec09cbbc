//! The revocation check: every token the authorizer has not checked in the last few seconds is
//! looked up in the revocation store (one read covering the user's and the session's keys), and
//! the answers are kept for `REVOCATION_CACHE_SECONDS` (the extra delay a revocation may take to
//! reach the authorizer). A store that does not answer within `REVOCATION_TIMEOUT_MS` fails
//! closed (an authorizer error, never an Allow) unless the operator chose availability
//! (`REVOCATION_FAIL_OPEN=true`). The store is behind [`RevocationStore`]: the Lambda binary
//! brings the DynamoDB one.

use std::sync::Arc;
use std::time::Duration;

use auth_contract::revocation::{Revocation, RevocationKey, RevocationStore, StoreError, is_revoked};
use cognito_jwt::VerifiedToken;
use tokio::time::Instant;

/// How the check behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationSettings {
    /// How long an answer of the store is reused.
    pub cache_for: Duration,
    /// How long the store may take.
    pub timeout: Duration,
    /// Allow (logged) instead of failing when the store cannot be read.
    pub fail_open: bool,
    /// Cached keys at most.
    pub cache_entries: usize,
}

impl Default for RevocationSettings {
    fn default() -> Self {
        Self {
            cache_for: Duration::from_secs(5),
            timeout: Duration::from_millis(300),
            fail_open: false,
            cache_entries: 4096,
        }
    }
}

/// The store's answer for one key, and when it was read.
#[derive(Debug, Clone)]
struct Answer {
    read_at: Instant,
    record: Option<Revocation>,
}

/// The verdict on one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Valid,
    Revoked,
    /// The store could not answer and the operator chose availability.
    Unchecked,
}

/// The store and its cache of answers.
pub(crate) struct RevocationCheck {
    store: Arc<dyn RevocationStore>,
    settings: RevocationSettings,
    answers: quick_cache::sync::Cache<String, Answer>,
}

impl RevocationCheck {
    pub(crate) fn new(store: Arc<dyn RevocationStore>, settings: RevocationSettings) -> Self {
        Self {
            store,
            settings,
            answers: quick_cache::sync::Cache::new(settings.cache_entries.max(1)),
        }
    }

    /// Whether `token` is revoked at `now` (Unix seconds).
    pub(crate) async fn check(&self, token: &VerifiedToken, now: u64) -> Result<Verdict, StoreError> {
        let user = RevocationKey::user(&token.issuer, &token.sub).partition_key();
        let session = token
            .origin_jti
            .as_deref()
            .map(|jti| RevocationKey::session(&token.issuer, jti).partition_key());
        let keys: Vec<String> = std::iter::once(user.clone()).chain(session.clone()).collect();
        let clock = Instant::now();
        let fresh = |key: &String| {
            self.answers
                .get(key)
                .filter(|a| clock.saturating_duration_since(a.read_at) < self.settings.cache_for)
        };
        let cached: Option<Vec<Answer>> = keys.iter().map(fresh).collect();
        let records: Vec<Revocation> = match cached {
            Some(answers) => answers.into_iter().filter_map(|a| a.record).collect(),
            None => match tokio::time::timeout(self.settings.timeout, self.store.read(&keys)).await {
                Ok(Ok(records)) => {
                    let read_at = Instant::now();
                    for key in &keys {
                        let record = records.iter().find(|r| &r.key == key).cloned();
                        self.answers.insert(key.clone(), Answer { read_at, record });
                    }
                    records
                }
                Ok(Err(e)) => return self.unavailable(e),
                Err(_) => return self.unavailable(StoreError::Timeout(self.settings.timeout)),
            },
        };
        Ok(
            if is_revoked(&records, &user, session.as_deref(), token.issued_at, now) {
                Verdict::Revoked
            } else {
                Verdict::Valid
            },
        )
    }

    fn unavailable(&self, error: StoreError) -> Result<Verdict, StoreError> {
        if self.settings.fail_open {
            tracing::warn!(%error, "authorizer: revocation store unavailable, allowing (REVOCATION_FAIL_OPEN)");
            Ok(Verdict::Unchecked)
        } else {
            tracing::error!(%error, "authorizer: revocation store unavailable, refusing");
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use auth_contract::testkit::MemoryStore;
    use cognito_jwt::TokenUse;

    use super::*;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TestPool";

    fn token(sub: &str, origin_jti: Option<&str>, iat: u64) -> VerifiedToken {
        VerifiedToken {
            sub: sub.into(),
            username: None,
            token_use: TokenUse::Access,
            client_id: "c".into(),
            issuer: ISSUER.into(),
            pool: 0,
            expires_at: iat + 3600,
            issued_at: Some(iat),
            auth_time: Some(iat),
            origin_jti: origin_jti.map(str::to_owned),
            groups: Vec::new(),
            scopes: Vec::new(),
            extra_claims: Default::default(),
        }
    }

    fn check(store: &Arc<MemoryStore>, settings: RevocationSettings) -> RevocationCheck {
        RevocationCheck::new(Arc::clone(store) as Arc<dyn RevocationStore>, settings)
    }

    #[tokio::test(start_paused = true)]
    async fn user_and_session_records_refuse_their_tokens_only() {
        let store = Arc::new(MemoryStore::new());
        store
            .write(&Revocation::new(&RevocationKey::user(ISSUER, "u1"), 1_000))
            .await
            .unwrap();
        store
            .write(&Revocation::new(&RevocationKey::session(ISSUER, "s-old"), 1_000))
            .await
            .unwrap();
        let c = check(&store, RevocationSettings::default());
        let at = 1_010;
        assert_eq!(c.check(&token("u1", Some("s1"), 999), at).await, Ok(Verdict::Revoked));
        assert_eq!(
            c.check(&token("u1", Some("s1"), 1_000), at).await,
            Ok(Verdict::Revoked),
            "same second"
        );
        assert_eq!(
            c.check(&token("u1", Some("s2"), 1_001), at).await,
            Ok(Verdict::Valid),
            "signed in again"
        );
        assert_eq!(
            c.check(&token("u2", Some("s-old"), 1_005), at).await,
            Ok(Verdict::Revoked)
        );
        assert_eq!(
            c.check(&token("u2", Some("s-new"), 1_005), at).await,
            Ok(Verdict::Valid)
        );
        assert_eq!(c.check(&token("u2", None, 1_005), at).await, Ok(Verdict::Valid));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_records_are_ignored() {
        let store = Arc::new(MemoryStore::new());
        store
            .write(&Revocation::new(&RevocationKey::user(ISSUER, "u1"), 1_000))
            .await
            .unwrap();
        let c = check(&store, RevocationSettings::default());
        assert_eq!(
            c.check(&token("u1", None, 900), 1_000 + 86_400 + 300 - 1).await,
            Ok(Verdict::Revoked),
            "a record outlives every token it covers"
        );
        let fresh = check(&store, RevocationSettings::default());
        assert_eq!(
            fresh.check(&token("u1", None, 900), 1_000 + 86_400 + 300).await,
            Ok(Verdict::Valid)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn answers_are_reused_for_the_cache_time_and_no_longer() {
        let store = Arc::new(MemoryStore::new());
        let c = check(&store, RevocationSettings::default());
        let t = token("u1", Some("s1"), 1_000);
        assert_eq!(c.check(&t, 1_001).await, Ok(Verdict::Valid));
        assert_eq!(c.check(&t, 1_001).await, Ok(Verdict::Valid));
        assert_eq!(store.reads(), 1, "one read for both keys, then the cache");
        store
            .write(&Revocation::new(&RevocationKey::user(ISSUER, "u1"), 1_002))
            .await
            .unwrap();
        tokio::time::advance(Duration::from_millis(4_900)).await;
        assert_eq!(c.check(&t, 1_006).await, Ok(Verdict::Valid), "within the cache time");
        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(
            c.check(&t, 1_006).await,
            Ok(Verdict::Revoked),
            "seen once the answer is 5 s old"
        );
        assert_eq!(store.reads(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_unavailable_store_fails_closed_or_open_as_configured() {
        let store = Arc::new(MemoryStore::new());
        store.set_failing(true);
        let closed = check(&store, RevocationSettings::default());
        assert!(matches!(
            closed.check(&token("u", None, 1), 2).await,
            Err(StoreError::Unavailable(_))
        ));
        let open = check(
            &store,
            RevocationSettings {
                fail_open: true,
                ..RevocationSettings::default()
            },
        );
        assert_eq!(open.check(&token("u", None, 1), 2).await, Ok(Verdict::Unchecked));
        // A failure is not cached: the store is asked again at once.
        store.set_failing(false);
        assert_eq!(closed.check(&token("u", None, 1), 2).await, Ok(Verdict::Valid));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_store_is_bounded_by_the_time_out() {
        let store = Arc::new(MemoryStore::new());
        store.set_delay(Duration::from_secs(30));
        let c = check(&store, RevocationSettings::default());
        let started = Instant::now();
        let answer = c.check(&token("u", None, 1), 2).await;
        assert_eq!(answer, Err(StoreError::Timeout(Duration::from_millis(300))));
        assert_eq!(
            started.elapsed(),
            Duration::from_millis(300),
            "the time-out, not the store, decided"
        );
    }
}
