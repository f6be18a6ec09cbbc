//! The JWKS cache: keys are parsed into aws-lc-rs public keys once per fetch and shared by
//! reference afterwards, so a warm verification allocates no key material.
//!
//! Policy, per pool:
//! - hydrated at init ([`JwksCache::hydrate`]);
//! - an unknown `kid` triggers a refetch, at most once per back-off window (any fetch, hydration
//!   included, opens the window: keys fetched seconds ago will not have gained the kid);
//! - concurrent fetches for one pool are merged into one;
//! - after `max_age` the keys are refreshed before use, so rotated-out keys stop working;
//! - if that refresh fails, the old keys are still served until `max_age + max_stale`, then
//!   dropped (verification then fails as "JWKS unavailable", never as an allow);
//! - a fetch is bounded by `fetch_timeout` and `max_bytes`;
//! - keys that are not RSA, not for signatures, not RS256, or shorter than 2048 bits are ignored.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::time::Instant;

use crate::VerifyError;

/// Keys below this size are ignored.
pub const MIN_RSA_BITS: usize = 2048;
/// Keys above this size are ignored: they only cost time, and Cognito uses 2048.
pub const MAX_RSA_BITS: usize = 4096;

/// A boxed future, for the object-safe [`JwksFetcher`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a fetch failed. Messages carry no token content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// Transport error: ….
    #[error("transport error: {0}")]
    Transport(String),
    /// Unexpected HTTP status ….
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// Response larger than … bytes.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// Timed out after ….
    #[error("timed out after {0:?}")]
    Timeout(Duration),
}

/// The port through which the cache gets a JWKS document. The real one is
/// [`super::HttpJwksFetcher`]; tests use a fake.
pub trait JwksFetcher: Send + Sync {
    /// The raw document at `url`. Implementations should stop reading past `max_bytes`; the cache
    /// enforces the cap and the timeout regardless.
    fn fetch<'a>(&'a self, url: &'a str, max_bytes: usize) -> BoxFuture<'a, Result<Vec<u8>, FetchError>>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
/// Why a JWKS could not be loaded.
pub enum JwksError {
    /// JWKS fetch failed: ….
    #[error("JWKS fetch failed: {0}")]
    Fetch(#[from] FetchError),
    /// JWKS document is not valid: ….
    #[error("JWKS document is not valid: {0}")]
    Invalid(String),
    /// JWKS has no usable RS256 signing key.
    #[error("JWKS has no usable RS256 signing key")]
    NoUsableKeys,
}

/// Tuning of the cache; the defaults suit Cognito.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksSettings {
    /// At most one fetch per pool per window after an unknown `kid` or a failure.
    pub backoff: Duration,
    /// Keys older than this are refreshed before use.
    pub max_age: Duration,
    /// How long past `max_age` old keys are still served while refreshes fail.
    pub max_stale: Duration,
    /// Longest wait for one fetch.
    pub fetch_timeout: Duration,
    /// Largest document read.
    pub max_bytes: usize,
    /// Keys beyond this count in one document are ignored.
    pub max_keys: usize,
}

impl Default for JwksSettings {
    fn default() -> Self {
        Self {
            backoff: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
            max_stale: Duration::from_secs(3600),
            fetch_timeout: Duration::from_secs(3),
            max_bytes: 64 * 1024,
            max_keys: 16,
        }
    }
}

/// One RSA verification key, parsed once.
pub(crate) struct RsaKey {
    kid: Box<str>,
    bits: usize,
    key: ParsedPublicKey,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey")
            .field("kid", &self.kid)
            .field("bits", &self.bits)
            .finish()
    }
}

impl RsaKey {
    /// From the JWK's base64url `n` and `e`, already decoded.
    pub(crate) fn from_components(kid: &str, n: &[u8], e: &[u8]) -> Result<Self, String> {
        // Leading zero octets are not allowed by RFC 7518 but are harmless; aws-lc rejects them.
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        let bits = bit_len(n);
        if bits < MIN_RSA_BITS {
            return Err(format!("{bits}-bit modulus is below {MIN_RSA_BITS}"));
        }
        if bits > MAX_RSA_BITS {
            return Err(format!("{bits}-bit modulus is above {MAX_RSA_BITS}"));
        }
        if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) || e == [1] {
            return Err("unusable public exponent".into());
        }
        let key = RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .map_err(|e| format!("rejected by aws-lc: {e}"))?;
        Ok(Self {
            kid: kid.into(),
            bits,
            key,
        })
    }

    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    #[cfg(test)]
    pub(crate) fn bits(&self) -> usize {
        self.bits
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    #[inline]
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    fn same_key(&self, other: &RsaKey) -> bool {
        self.kid == other.kid && self.key.as_ref() == other.key.as_ref()
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// The usable keys of one JWKS document. Few keys, so a linear scan beats hashing.
#[derive(Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<Arc<RsaKey>>,
}

impl KeySet {
    pub(crate) fn get(&self, kid: &str) -> Option<&Arc<RsaKey>> {
        self.keys.iter().find(|k| &*k.kid == kid)
    }

    pub(crate) fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid())
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    fn same_keys(&self, other: &KeySet) -> bool {
        self.keys.len() == other.keys.len() && self.keys.iter().zip(&other.keys).all(|(a, b)| a.same_key(b))
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
}

/// A key left out of the set, and why (logged, never fatal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SkippedKey {
    pub(crate) kid: Option<String>,
    pub(crate) reason: String,
}

/// Parses a JWKS document, keeping only usable RS256 signing keys. A repeated `kid` is
/// ambiguous, so every key with that `kid` is dropped.
pub(crate) fn parse_jwks(bytes: &[u8], max_keys: usize) -> Result<(KeySet, Vec<SkippedKey>), JwksError> {
    let raw: RawJwks = serde_json::from_slice(bytes).map_err(|e| JwksError::Invalid(e.to_string()))?;
    let mut keys: Vec<Arc<RsaKey>> = Vec::new();
    let mut skipped = Vec::new();
    let mut duplicated: Vec<String> = Vec::new();
    for value in raw.keys {
        let jwk: RawJwk = match serde_json::from_value(value) {
            Ok(j) => j,
            Err(e) => {
                skipped.push(SkippedKey {
                    kid: None,
                    reason: format!("not a JWK: {e}"),
                });
                continue;
            }
        };
        let kid = jwk.kid.clone();
        match usable_key(jwk) {
            Ok(key) => {
                if keys.len() >= max_keys {
                    skipped.push(SkippedKey {
                        kid,
                        reason: format!("more than {max_keys} keys"),
                    });
                } else if keys.iter().any(|k| k.kid == key.kid) {
                    duplicated.push(key.kid.to_string());
                } else {
                    keys.push(Arc::new(key));
                }
            }
            Err(reason) => skipped.push(SkippedKey { kid, reason }),
        }
    }
    if !duplicated.is_empty() {
        keys.retain(|k| !duplicated.iter().any(|d| **d == *k.kid));
        for kid in duplicated {
            skipped.push(SkippedKey {
                kid: Some(kid),
                reason: "kid appears more than once".into(),
            });
        }
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKeys);
    }
    Ok((KeySet { keys }, skipped))
}

fn usable_key(jwk: RawJwk) -> Result<RsaKey, String> {
    if jwk.kty.as_deref() != Some("RSA") {
        return Err(format!("kty {:?} is not RSA", jwk.kty));
    }
    if let Some(u) = jwk.use_.as_deref()
        && u != "sig"
    {
        return Err(format!("use `{u}` is not sig"));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|o| o == "verify")
    {
        return Err("key_ops does not include verify".into());
    }
    if let Some(alg) = jwk.alg.as_deref()
        && alg != "RS256"
    {
        return Err(format!("alg `{alg}` is not RS256"));
    }
    let kid = jwk.kid.filter(|k| !k.is_empty()).ok_or("no kid")?;
    let decode = |name: &str, v: Option<String>| {
        v.ok_or_else(|| format!("no {name}")).and_then(|s| {
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| format!("{name} is not base64url"))
        })
    };
    let n = decode("n", jwk.n)?;
    let e = decode("e", jwk.e)?;
    RsaKey::from_components(&kid, &n, &e)
}

#[derive(Default)]
struct SlotState {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    /// Completed fetch attempts; lets a waiter see that a fetch it queued behind already ran.
    attempts: u64,
    last_failed: bool,
}

struct Slot {
    url: String,
    state: RwLock<SlotState>,
    fetch_lock: tokio::sync::Mutex<()>,
}

/// The answer of [`JwksCache::lookup`].
pub(crate) enum Lookup {
    /// The key, and until when the key set counts as fresh.
    Found(Arc<RsaKey>, Instant),
    /// A fetch is due first; pass `seen` to [`JwksCache::refresh`].
    Fetch {
        seen: u64,
    },
    Missing(VerifyError),
}

/// Key sets for every configured pool.
pub struct JwksCache {
    fetcher: Arc<dyn JwksFetcher>,
    settings: JwksSettings,
    slots: Vec<Slot>,
    /// Bumped whenever a key set changes, so verified-token cache entries from before go stale.
    generation: AtomicU64,
}

impl JwksCache {
    /// One slot per JWKS URL, in pool order.
    pub fn new(urls: Vec<String>, settings: JwksSettings, fetcher: Arc<dyn JwksFetcher>) -> Self {
        Self {
            fetcher,
            settings,
            slots: urls
                .into_iter()
                .map(|url| Slot {
                    url,
                    state: RwLock::new(SlotState::default()),
                    fetch_lock: tokio::sync::Mutex::new(()),
                })
                .collect(),
            generation: AtomicU64::new(0),
        }
    }

    /// The tuning in force.
    pub fn settings(&self) -> &JwksSettings {
        &self.settings
    }

    /// Bumped whenever a key set changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Fetches every pool's keys; used at cold start. Failures are returned (and logged) but
    /// leave the cache usable: later verifications retry after the back-off window.
    pub async fn hydrate(&self) -> Result<(), JwksError> {
        let mut first_err = None;
        for pool in 0..self.slots.len() {
            let seen = self.attempts(pool);
            if let Err(e) = self.refresh(pool, seen).await {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// The key ids currently held for a pool (for diagnostics and tests).
    pub fn kids(&self, pool: usize) -> Vec<String> {
        self.slots
            .get(pool)
            .and_then(|s| {
                read(&s.state)
                    .keys
                    .as_ref()
                    .map(|k| k.kids().map(str::to_owned).collect())
            })
            .unwrap_or_default()
    }

    fn attempts(&self, pool: usize) -> u64 {
        self.slots.get(pool).map_or(0, |s| read(&s.state).attempts)
    }

    /// Finds `kid` for `pool` without waiting. `may_fetch` is false on the second look after a
    /// refresh, so one verification triggers at most one fetch.
    pub(crate) fn lookup(&self, pool: usize, kid: &str, now: Instant, may_fetch: bool) -> Lookup {
        let Some(slot) = self.slots.get(pool) else {
            return Lookup::Missing(VerifyError::JwksUnavailable);
        };
        let st = read(&slot.state);
        let s = &self.settings;
        let age = st.fetched_at.map(|t| now.saturating_duration_since(t));
        let fresh = age.is_some_and(|a| a < s.max_age);
        let usable = age.is_some_and(|a| a < s.max_age.saturating_add(s.max_stale));
        let may_attempt = may_fetch
            && st
                .last_attempt
                .is_none_or(|t| now.saturating_duration_since(t) >= s.backoff);
        let key = if usable {
            st.keys.as_ref().and_then(|k| k.get(kid))
        } else {
            None
        };
        // checked: a huge max_age must not overflow the clock (a year out is "forever" here).
        let fresh_until = st.fetched_at.and_then(|t| t.checked_add(s.max_age)).unwrap_or_else(|| {
            if fresh {
                now + Duration::from_secs(365 * 86_400)
            } else {
                now
            }
        });
        match key {
            Some(k) if fresh => Lookup::Found(Arc::clone(k), fresh_until),
            _ if may_attempt => Lookup::Fetch { seen: st.attempts },
            Some(k) => Lookup::Found(Arc::clone(k), fresh_until),
            None if usable && !st.last_failed => Lookup::Missing(VerifyError::UnknownKid),
            None => Lookup::Missing(VerifyError::JwksUnavailable),
        }
    }

    /// Fetches `pool`'s keys unless another fetch completed since `seen` (then that one's result
    /// stands: concurrent callers share one fetch).
    pub async fn refresh(&self, pool: usize, seen: u64) -> Result<(), JwksError> {
        let Some(slot) = self.slots.get(pool) else {
            return Err(JwksError::Invalid(format!("no pool {pool}")));
        };
        let _guard = slot.fetch_lock.lock().await;
        {
            let st = read(&slot.state);
            if st.attempts != seen {
                return if st.last_failed {
                    Err(JwksError::Fetch(FetchError::Transport(
                        "a concurrent fetch failed".into(),
                    )))
                } else {
                    Ok(())
                };
            }
        }
        let s = self.settings;
        let result = match tokio::time::timeout(s.fetch_timeout, self.fetcher.fetch(&slot.url, s.max_bytes)).await {
            Err(_) => Err(JwksError::Fetch(FetchError::Timeout(s.fetch_timeout))),
            Ok(Err(e)) => Err(JwksError::Fetch(e)),
            Ok(Ok(bytes)) if bytes.len() > s.max_bytes => Err(JwksError::Fetch(FetchError::TooLarge(s.max_bytes))),
            Ok(Ok(bytes)) => parse_jwks(&bytes, s.max_keys),
        };
        let now = Instant::now();
        let mut st = slot.state.write().unwrap_or_else(PoisonError::into_inner);
        st.attempts += 1;
        st.last_attempt = Some(now);
        match result {
            Ok((set, skipped)) => {
                for k in &skipped {
                    tracing::warn!(url = %slot.url, kid = ?k.kid, reason = %k.reason, "JWKS key ignored");
                }
                let changed = st.keys.as_ref().is_none_or(|old| !old.same_keys(&set));
                tracing::info!(url = %slot.url, keys = set.len(), kids = ?set.kids().collect::<Vec<_>>(), changed, "JWKS loaded");
                st.keys = Some(Arc::new(set));
                st.fetched_at = Some(now);
                st.last_failed = false;
                if changed {
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                Ok(())
            }
            Err(e) => {
                st.last_failed = true;
                let expired = st
                    .fetched_at
                    .is_some_and(|t| now.saturating_duration_since(t) >= s.max_age.saturating_add(s.max_stale));
                if expired {
                    st.keys = None;
                    st.fetched_at = None;
                    self.generation.fetch_add(1, Ordering::AcqRel);
                }
                tracing::warn!(url = %slot.url, error = %e, keys_dropped = expired, "JWKS fetch failed");
                Err(e)
            }
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}
