//! Revocation: what makes a logout reach the authorizer. A signed JWT cannot be un-signed, so
//! the functions that end sessions write a record and the authorizer refuses the tokens it
//! covers. Writers and reader agree here on the keys, the records and the rule; the store
//! itself is behind [`RevocationStore`] (DynamoDB in `crates/revocation-store`, in memory
//! here for tests and tools).
//!
//! Two kinds of record, keyed by issuer so several pools can share a table:
//! - a user revoked everywhere (`<issuer>#user#<sub>`), holding the second it happened: every
//!   token of that user issued at or before that second is refused (a sign-in in that same
//!   second too: clients sign in again a second later);
//! - a session revoked (`<issuer>#session#<origin_jti>`): every token of that sign-in session,
//!   across refreshes. Tokens without `origin_jti` are covered by the user record only.
//!
//! A record lives (its TTL) for the longest token validity plus the leeway after it was
//! written, so it outlives every token it covers; a record past its TTL is ignored on read
//! (DynamoDB deletes late).
//!
//! ```
//! use auth_contract::revocation::{RevocationKey, RevocationPolicy, is_revoked};
//!
//! let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
//! let key = RevocationKey::user(issuer, "u-1");
//! let policy = RevocationPolicy { token_validity_seconds: 3600, leeway_seconds: 5 };
//! let record = policy.record(&key, 1_000);
//! assert_eq!(record.expires_at, 1_000 + 3600 + 5);
//! let user = key.partition_key();
//! assert!(is_revoked(&[record.clone()], &user, None, Some(999), 1_010), "issued before");
//! assert!(is_revoked(&[record.clone()], &user, None, Some(1_000), 1_010), "same second");
//! assert!(!is_revoked(&[record.clone()], &user, None, Some(1_001), 1_010), "a later sign-in");
//! assert!(!is_revoked(&[record], &user, None, Some(999), 4_700), "past its TTL");
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A future the store answers with (object-safe ports need boxed futures).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a record is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationKey {
    /// Every token of a user issued up to the record's second.
    User {
        /// The pool's issuer.
        issuer: String,
        /// The user's `sub`.
        sub: String,
    },
    /// Every token of one sign-in session.
    Session {
        /// The pool's issuer.
        issuer: String,
        /// The session's `origin_jti`.
        origin_jti: String,
    },
}

impl RevocationKey {
    /// A user revoked everywhere.
    pub fn user(issuer: &str, sub: &str) -> Self {
        Self::User {
            issuer: issuer.to_owned(),
            sub: sub.to_owned(),
        }
    }

    /// One session revoked.
    pub fn session(issuer: &str, origin_jti: &str) -> Self {
        Self::Session {
            issuer: issuer.to_owned(),
            origin_jti: origin_jti.to_owned(),
        }
    }

    /// The record's partition key.
    pub fn partition_key(&self) -> String {
        match self {
            Self::User { issuer, sub } => format!("{issuer}#user#{sub}"),
            Self::Session { issuer, origin_jti } => format!("{issuer}#session#{origin_jti}"),
        }
    }
}

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// [`RevocationKey::partition_key`].
    pub key: String,
    /// Unix second of the revocation.
    pub revoked_at: u64,
    /// Unix second after which the record no longer counts (the table's TTL attribute).
    pub expires_at: u64,
}

/// How long records must live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationPolicy {
    /// The longest validity of the tokens covered (the app client's access and ID token
    /// validity; Cognito's default is 3600).
    pub token_validity_seconds: u64,
    /// The clock skew the authorizer allows on `exp`.
    pub leeway_seconds: u64,
}

impl RevocationPolicy {
    /// The record for `key`, revoked at `now`.
    pub fn record(&self, key: &RevocationKey, now: u64) -> Revocation {
        Revocation {
            key: key.partition_key(),
            revoked_at: now,
            expires_at: now
                .saturating_add(self.token_validity_seconds)
                .saturating_add(self.leeway_seconds),
        }
    }
}

/// Whether `records` refuse a token of user `user_key` (and of session `session_key`, when it
/// has an `origin_jti`) issued at `issued_at`, at `now`. A token with no `iat` is refused by any
/// user record: nothing shows it is newer.
pub fn is_revoked(
    records: &[Revocation],
    user_key: &str,
    session_key: Option<&str>,
    issued_at: Option<u64>,
    now: u64,
) -> bool {
    records.iter().filter(|r| r.expires_at > now).any(|r| {
        (r.key == user_key && issued_at.is_none_or(|iat| iat <= r.revoked_at)) || Some(r.key.as_str()) == session_key
    })
}

/// Why the store could not answer. Never a reason to allow, unless the operator says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No answer within the time allowed.
    #[error("revocation store timed out after {0:?}")]
    Timeout(Duration),
    /// The store failed or could not be reached.
    #[error("revocation store unavailable: {0}")]
    Unavailable(String),
}

/// The port: where records are kept.
pub trait RevocationStore: Send + Sync {
    /// The live and expired records among `keys` (partition keys); absent keys are left out.
    fn read<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Revocation>, StoreError>>;

    /// Stores a record (replacing one with the same key).
    fn write<'a>(&'a self, record: &'a Revocation) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// A store in memory, for tests and tools. It can be told to fail or to answer slowly.
#[derive(Debug, Default)]
pub struct MemoryStore {
    records: Mutex<HashMap<String, Revocation>>,
    behaviour: Mutex<Behaviour>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Behaviour {
    failing: bool,
    delay: Duration,
    reads: usize,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every later call fails (`true`) or works again.
    pub fn set_failing(&self, failing: bool) {
        self.behaviour.lock().unwrap_or_else(PoisonError::into_inner).failing = failing;
    }

    /// Every later read waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        self.behaviour.lock().unwrap_or_else(PoisonError::into_inner).delay = delay;
    }

    /// How many reads were made.
    pub fn reads(&self) -> usize {
        self.behaviour.lock().unwrap_or_else(PoisonError::into_inner).reads
    }

    /// The record stored under `key`.
    pub fn get(&self, key: &str) -> Option<Revocation> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }
}

impl RevocationStore for MemoryStore {
    fn read<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Revocation>, StoreError>> {
        Box::pin(async move {
            let behaviour = {
                let mut b = self.behaviour.lock().unwrap_or_else(PoisonError::into_inner);
                b.reads += 1;
                *b
            };
            if !behaviour.delay.is_zero() {
                tokio::time::sleep(behaviour.delay).await;
            }
            if behaviour.failing {
                return Err(StoreError::Unavailable("the store is down".into()));
            }
            let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            Ok(keys.iter().filter_map(|k| records.get(k).cloned()).collect())
        })
    }

    fn write<'a>(&'a self, record: &'a Revocation) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if self.behaviour.lock().unwrap_or_else(PoisonError::into_inner).failing {
                return Err(StoreError::Unavailable("the store is down".into()));
            }
            self.records
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(record.key.clone(), record.clone());
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";

    #[test]
    fn keys_are_namespaced_by_issuer_and_kind() {
        assert_eq!(
            RevocationKey::user(ISSUER, "u-1").partition_key(),
            format!("{ISSUER}#user#u-1")
        );
        assert_eq!(
            RevocationKey::session(ISSUER, "o-1").partition_key(),
            format!("{ISSUER}#session#o-1")
        );
        assert_ne!(
            RevocationKey::user(ISSUER, "x").partition_key(),
            RevocationKey::session(ISSUER, "x").partition_key()
        );
        assert_ne!(
            RevocationKey::user(ISSUER, "x").partition_key(),
            RevocationKey::user("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other", "x").partition_key()
        );
    }

    #[test]
    fn the_ttl_outlives_every_token_the_record_covers() {
        let policy = RevocationPolicy {
            token_validity_seconds: 3600,
            leeway_seconds: 5,
        };
        let r = policy.record(&RevocationKey::user(ISSUER, "u"), 10_000);
        assert_eq!((r.revoked_at, r.expires_at), (10_000, 13_605));
        // The last token it covers was issued at 10_000 and expires at 13_600, accepted until
        // 13_605 with the leeway: the record is still live then.
        let user = RevocationKey::user(ISSUER, "u").partition_key();
        assert!(is_revoked(std::slice::from_ref(&r), &user, None, Some(10_000), 13_604));
        assert!(
            !is_revoked(std::slice::from_ref(&r), &user, None, Some(10_000), 13_605),
            "expired records are ignored"
        );
        let far = policy.record(&RevocationKey::user(ISSUER, "u"), u64::MAX - 1);
        assert_eq!(far.expires_at, u64::MAX, "no overflow");
    }

    #[test]
    fn the_same_second_is_refused_and_sessions_are_refused_whatever_their_age() {
        let policy = RevocationPolicy {
            token_validity_seconds: 60,
            leeway_seconds: 0,
        };
        let user = RevocationKey::user(ISSUER, "u").partition_key();
        let session = RevocationKey::session(ISSUER, "o").partition_key();
        let records = [policy.record(&RevocationKey::user(ISSUER, "u"), 100)];
        assert!(is_revoked(&records, &user, Some(&session), Some(100), 101));
        assert!(!is_revoked(&records, &user, Some(&session), Some(101), 101));
        assert!(
            is_revoked(&records, &user, None, None, 101),
            "no iat, no proof it is newer"
        );
        let other_user = RevocationKey::user(ISSUER, "v").partition_key();
        assert!(!is_revoked(&records, &other_user, None, Some(50), 101));
        let records = [policy.record(&RevocationKey::session(ISSUER, "o"), 100)];
        assert!(is_revoked(&records, &user, Some(&session), Some(150), 120));
        let other_session = RevocationKey::session(ISSUER, "p").partition_key();
        assert!(!is_revoked(&records, &user, Some(&other_session), Some(50), 120));
        assert!(
            !is_revoked(&records, &user, None, Some(50), 120),
            "no origin_jti: only the user record counts"
        );
    }

    #[tokio::test]
    async fn the_memory_store_reads_what_was_written_and_fails_on_demand() {
        let store = MemoryStore::new();
        let record = Revocation {
            key: "k".into(),
            revoked_at: 1,
            expires_at: 2,
        };
        store.write(&record).await.unwrap();
        let keys = vec!["k".to_owned(), "absent".to_owned()];
        assert_eq!(store.read(&keys).await.unwrap(), vec![record]);
        store.set_failing(true);
        assert!(store.read(&keys).await.is_err());
        assert!(
            store
                .write(&Revocation {
                    key: "x".into(),
                    revoked_at: 1,
                    expires_at: 2
                })
                .await
                .is_err()
        );
        assert_eq!(store.reads(), 2);
    }
}
