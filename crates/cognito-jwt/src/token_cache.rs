//! A bounded cache of verified tokens so a repeated token skips the RSA check.
//!
//! Keyed by the SHA-256 of the token (the token itself is not kept), an entry lives until the
//! token's `exp` or until its key set is due for refresh, whichever comes first, and is ignored
//! once any key set has changed since it was stored.

use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};

use crate::VerifiedToken;

/// SHA-256 of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheKey([u8; 32]);

impl CacheKey {
    pub(crate) fn of(token: &str) -> Self {
        let d = digest(&SHA256, token.as_bytes());
        let mut k = [0u8; 32];
        k.copy_from_slice(d.as_ref());
        Self(k)
    }
}

impl Hash for CacheKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already uniformly distributed: eight bytes of it are a fine bucket hash.
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

/// Passes the pre-computed hash through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Clone)]
struct Entry {
    token: Arc<VerifiedToken>,
    /// Unix seconds; the entry is used only while `now < valid_until`.
    valid_until: u64,
    generation: u64,
}

type Map = quick_cache::sync::Cache<CacheKey, Entry, quick_cache::UnitWeighter, BuildHasherDefault<PassThrough>>;

/// Bounded with O(1) insert and eviction (quick_cache's CLOCK-PRO variant): a full cache never
/// scans its entries. A stale entry is dropped when it is looked up; until then it only takes
/// a slot that eviction reclaims like any other.
pub(crate) struct VerifiedTokenCache {
    map: Map,
}

impl VerifiedTokenCache {
    /// `None` when `capacity` is 0 (cache disabled).
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| Self {
            map: Map::with(
                capacity,
                capacity as u64,
                quick_cache::UnitWeighter,
                BuildHasherDefault::default(),
                quick_cache::sync::DefaultLifecycle::default(),
            ),
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, key: &CacheKey, now: u64, generation: u64) -> Option<Arc<VerifiedToken>> {
        let entry = self.map.get(key)?;
        if now < entry.valid_until && entry.generation == generation {
            return Some(entry.token);
        }
        self.map.remove(key);
        None
    }

    pub(crate) fn insert(&self, key: CacheKey, token: Arc<VerifiedToken>, valid_until: u64, generation: u64, now: u64) {
        if valid_until <= now {
            return;
        }
        self.map.insert(
            key,
            Entry {
                token,
                valid_until,
                generation,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenUse;

    fn token(sub: &str) -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            sub: sub.into(),
            username: None,
            token_use: TokenUse::Access,
            client_id: Arc::from("c"),
            issuer: Arc::from("i"),
            pool: 0,
            expires_at: 100,
            issued_at: None,
            auth_time: None,
            origin_jti: None,
            groups: Vec::new(),
            scopes: Vec::new(),
            extra_claims: Default::default(),
        })
    }

    #[test]
    fn zero_capacity_disables() {
        assert!(VerifiedTokenCache::new(0).is_none());
    }

    #[test]
    fn entries_expire_and_follow_the_key_generation() {
        let c = VerifiedTokenCache::new(4).unwrap();
        let k = CacheKey::of("t1");
        c.insert(k, token("a"), 100, 7, 50);
        assert_eq!(c.get(&k, 99, 7).unwrap().sub, "a");
        assert!(c.get(&CacheKey::of("t2"), 99, 7).is_none());
        assert!(c.get(&k, 99, 8).is_none(), "a key-set change invalidates");
        assert!(c.is_empty(), "stale entry removed on lookup");
        c.insert(k, token("a"), 100, 7, 50);
        assert!(c.get(&k, 100, 7).is_none(), "dropped at exp");
        c.insert(k, token("a"), 100, 7, 100);
        assert!(c.is_empty(), "already expired entries are not stored");
    }

    #[test]
    fn stays_bounded_however_many_tokens_arrive() {
        let c = VerifiedTokenCache::new(64).unwrap();
        for i in 0..10_000 {
            c.insert(CacheKey::of(&format!("t{i}")), token("x"), 1_000, 1, 0);
            assert!(c.len() <= 64, "{} entries after {i} inserts", c.len());
        }
        // Recent tokens are found; whatever was evicted is a miss, never a wrong answer.
        let hits = (9_900..10_000)
            .filter(|i| c.get(&CacheKey::of(&format!("t{i}")), 10, 1).is_some())
            .count();
        assert!(hits > 0);
    }

    #[test]
    fn keys_differ_per_token() {
        assert_ne!(CacheKey::of("a.b.c"), CacheKey::of("a.b.d"));
        assert_eq!(CacheKey::of("a.b.c"), CacheKey::of("a.b.c"));
    }
}
