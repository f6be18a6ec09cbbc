//! Revocation: what makes a logout reach the authorizer. A signed JWT cannot be un-signed, so
//! the functions that end sessions write a record and the authorizer refuses the tokens it
//! covers. Writers and reader agree here on the keys, the records, their timing and the rule;
//! the store itself is behind [`RevocationStore`] (DynamoDB in `crates/revocation-store`, in
//! memory here for tests and tools).
//!
//! Two kinds of record, keyed by the pool's canonical issuer (the
//! `https://cognito-idp.<region>.amazonaws.com/<pool>` form, whatever `iss` a token names) so
//! several pools can share a table and the writers' IAM condition holds:
//! - a user revoked everywhere (`<issuer>#user#<sub>`), holding a second: every token of that
//!   user issued at or before that second is refused;
//! - a session revoked (`<issuer>#session#<origin_jti>`): every token of that sign-in session,
//!   across refreshes. Tokens without `origin_jti` are covered by the user record only.
//!
//! **When.** A writer behind the authorizer writes the user's record before it asks Cognito for
//! the change (a failed write changes nothing), and every writer writes it again once Cognito
//! has answered, at [`SessionEnd::revoked_at`]: the second of Cognito's answer plus the
//! clock skew assumed between the function and Cognito ([`ASSUMED_CLOCK_SKEW_SECONDS`]). A token
//! refreshed while the change was under way, which may carry the old state, is therefore
//! refused. The writer answers only at [`SessionEnd::answer_at`], once a sign-in that starts
//! after the answer is sure to get a later `iat`: its tokens pass everywhere.
//!
//! **How long.** A record lives [`RECORD_LIFETIME_SECONDS`]: the longest access or ID token
//! validity Cognito allows (one day) plus the largest leeway the authorizer accepts, whatever
//! the writer's configuration. A record past its TTL is ignored on read (DynamoDB deletes late).
//!
//! ```
//! use auth_contract::revocation::{Revocation, RevocationKey, SessionEnd, is_revoked};
//! use std::time::Duration;
//!
//! let issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
//! let key = RevocationKey::user(issuer, "u-1");
//! // Cognito answered the change at 1000.4 s.
//! let end = SessionEnd::after(Duration::from_millis(1_000_400));
//! let record = Revocation::new(&key, end.revoked_at());
//! let user = key.partition_key();
//! assert!(is_revoked(&[record.clone()], &user, None, Some(1_000), 1_010), "refreshed during the change");
//! // The writer answers once its clock reads `answer_at`: a sign-in from then on passes.
//! let signed_in_at = end.answer_at();
//! assert!(!is_revoked(&[record.clone()], &user, None, Some(signed_in_at), 1_010));
//! assert!(!is_revoked(&[record], &user, None, Some(999), 1_000 + 86_400 + 301), "past its TTL");
//! ```

use std::future::Future;
use std::pin::Pin;
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

/// The largest clock skew on `exp`, `nbf` and `iat` an authorizer may be configured with.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// The longest access or ID token validity Cognito allows (one day).
pub const MAX_TOKEN_VALIDITY_SECONDS: u64 = 86_400;

/// How long a record lives after its second: longer than any token it can cover is accepted.
pub const RECORD_LIFETIME_SECONDS: u64 = MAX_TOKEN_VALIDITY_SECONDS + MAX_LEEWAY_SECONDS;

/// The skew assumed between the writer's clock and Cognito's, in whole seconds. Lambda's clock
/// is kept by NTP ("The execution environment uses NTP to synchronize the system clock", AWS
/// Lambda's reserved environment variables, `TZ`); Cognito's clock is not documented, so one
/// second is assumed either way. It costs latency, never safety: see [`SessionEnd`].
pub const ASSUMED_CLOCK_SKEW_SECONDS: u64 = 1;

/// The timing of a user's record written after Cognito made a change that ends sessions.
///
/// With `t` the moment Cognito answered (the writer's clock) and `S` the assumed skew, every
/// token Cognito issued before the change has `iat <= floor(t + S)`, which is the record's
/// second: it is refused. A sign-in that reaches Cognito when the writer's clock reads at least
/// `floor(t) + 1 + 2S` has `iat > floor(t) + S`: it passes. The writer answers then, so a client
/// that waits for the answer and signs in gets tokens every route accepts; the added latency is
/// under `1 + 2S` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    answered_second: u64,
}

impl SessionEnd {
    /// For a change Cognito answered at `answered` (since the Unix epoch, the writer's clock).
    pub fn after(answered: Duration) -> Self {
        Self {
            answered_second: answered.as_secs(),
        }
    }

    /// The record's second: every token issued up to it is refused.
    pub fn revoked_at(&self) -> u64 {
        self.answered_second.saturating_add(ASSUMED_CLOCK_SKEW_SECONDS)
    }

    /// The Unix second from which the writer may answer.
    pub fn answer_at(&self) -> u64 {
        self.revoked_at()
            .saturating_add(1)
            .saturating_add(ASSUMED_CLOCK_SKEW_SECONDS)
    }
}

impl Revocation {
    /// The record for `key`, refusing what was issued up to `revoked_at`.
    pub fn new(key: &RevocationKey, revoked_at: u64) -> Self {
        Self {
            key: key.partition_key(),
            revoked_at,
            expires_at: revoked_at.saturating_add(RECORD_LIFETIME_SECONDS),
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

    /// Stores a record, unless one with the same key and a later (or the same) second stands:
    /// of two writers racing on one key, the later second wins.
    fn write<'a>(&'a self, record: &'a Revocation) -> BoxFuture<'a, Result<(), StoreError>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::MemoryStore;

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
    fn a_record_outlives_the_longest_token_cognito_issues_with_the_largest_leeway() {
        let r = Revocation::new(&RevocationKey::user(ISSUER, "u"), 10_000);
        assert_eq!((r.revoked_at, r.expires_at), (10_000, 10_000 + 86_400 + 300));
        // The last token it covers was issued at 10_000 and lives a day, accepted 300 s past
        // that with the largest leeway: the record is still live then.
        let user = RevocationKey::user(ISSUER, "u").partition_key();
        let last_accepted = 10_000 + 86_400 + 300 - 1;
        assert!(is_revoked(
            std::slice::from_ref(&r),
            &user,
            None,
            Some(10_000),
            last_accepted
        ));
        assert!(
            !is_revoked(std::slice::from_ref(&r), &user, None, Some(10_000), last_accepted + 1),
            "expired records are ignored"
        );
        let far = Revocation::new(&RevocationKey::user(ISSUER, "u"), u64::MAX - 1);
        assert_eq!(far.expires_at, u64::MAX, "no overflow");
    }

    #[test]
    fn the_record_second_and_sessions_are_refused_whatever_their_age() {
        let user = RevocationKey::user(ISSUER, "u").partition_key();
        let session = RevocationKey::session(ISSUER, "o").partition_key();
        let records = [Revocation::new(&RevocationKey::user(ISSUER, "u"), 100)];
        assert!(is_revoked(&records, &user, Some(&session), Some(100), 101));
        assert!(!is_revoked(&records, &user, Some(&session), Some(101), 101));
        assert!(
            is_revoked(&records, &user, None, None, 101),
            "no iat, no proof it is newer"
        );
        let other_user = RevocationKey::user(ISSUER, "v").partition_key();
        assert!(!is_revoked(&records, &other_user, None, Some(50), 101));
        let records = [Revocation::new(&RevocationKey::session(ISSUER, "o"), 100)];
        assert!(is_revoked(&records, &user, Some(&session), Some(150), 120));
        let other_session = RevocationKey::session(ISSUER, "p").partition_key();
        assert!(!is_revoked(&records, &user, Some(&other_session), Some(50), 120));
        assert!(
            !is_revoked(&records, &user, None, Some(50), 120),
            "no origin_jti: only the user record counts"
        );
    }

    /// Every moment Cognito may answer within one second, and every skew up to the assumed one
    /// in either direction: a token Cognito issued before its answer is refused, and a sign-in
    /// started once the writer answers passes.
    #[test]
    fn a_session_end_refuses_the_old_state_and_admits_the_next_sign_in_under_any_assumed_skew() {
        let user = RevocationKey::user(ISSUER, "u");
        let skew = ASSUMED_CLOCK_SKEW_SECONDS as i64 * 1000;
        for answered_ms in (1_000_000_i64..1_001_000).step_by(50) {
            let end = SessionEnd::after(Duration::from_millis(answered_ms as u64));
            let records = [Revocation::new(&user, end.revoked_at())];
            for cognito_ahead_ms in (-skew..=skew).step_by(250) {
                // Cognito's clock reading at a moment the writer reads `writer_ms`, as an `iat`.
                let iat_at = |writer_ms: i64| ((writer_ms + cognito_ahead_ms).div_euclid(1000)) as u64;
                let refreshed_before_the_answer = iat_at(answered_ms);
                assert!(
                    is_revoked(
                        &records,
                        &user.partition_key(),
                        None,
                        Some(refreshed_before_the_answer),
                        0
                    ),
                    "answered at {answered_ms} ms, Cognito {cognito_ahead_ms} ms ahead"
                );
                let signed_in_after_the_answer = iat_at(end.answer_at() as i64 * 1000);
                assert!(
                    !is_revoked(
                        &records,
                        &user.partition_key(),
                        None,
                        Some(signed_in_after_the_answer),
                        0
                    ),
                    "answered at {answered_ms} ms, Cognito {cognito_ahead_ms} ms ahead"
                );
            }
            let wait_ms = end.answer_at() as i64 * 1000 - answered_ms;
            assert!(
                wait_ms <= (1 + 2 * ASSUMED_CLOCK_SKEW_SECONDS as i64) * 1000,
                "{wait_ms}"
            );
        }
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
        assert_eq!(store.read(&keys).await.unwrap(), vec![record.clone()]);
        let earlier = Revocation {
            key: "k".into(),
            revoked_at: 0,
            expires_at: 9,
        };
        store.write(&earlier).await.unwrap();
        assert_eq!(
            store.get("k"),
            Some(record),
            "an earlier second never replaces a later one"
        );
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
