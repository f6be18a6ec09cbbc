//! A bounded cache of verified tokens so a repeated token skips the RSA check.
//!
//! Keyed by the SHA-256 of the token (the token itself is not kept), an entry lives until the
//! token's `exp` or until its key set is due for refresh, whichever comes first, and is ignored
//! once any key set has changed since it was stored.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

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

struct Entry {
    token: Arc<VerifiedToken>,
    /// Unix seconds; the entry is used only while `now < valid_until`.
    valid_until: u64,
    generation: u64,
}

pub(crate) struct VerifiedTokenCache {
    capacity: usize,
    map: Mutex<HashMap<CacheKey, Entry, BuildHasherDefault<PassThrough>>>,
}

impl VerifiedTokenCache {
    /// `None` when `capacity` is 0 (cache disabled).
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| Self {
            capacity,
            map: Mutex::new(HashMap::with_capacity_and_hasher(
                capacity,
                BuildHasherDefault::default(),
            )),
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, key: &CacheKey, now: u64, generation: u64) -> Option<Arc<VerifiedToken>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get(key)?;
        if now < entry.valid_until && entry.generation == generation {
            return Some(Arc::clone(&entry.token));
        }
        map.remove(key);
        None
    }

    pub(crate) fn insert(&self, key: CacheKey, token: Arc<VerifiedToken>, valid_until: u64, generation: u64, now: u64) {
        if valid_until <= now {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, e| now < e.valid_until && e.generation == generation);
            if map.len() >= self.capacity {
                // Still full of live entries: drop the one that would expire first.
                let soonest = map.iter().min_by_key(|(_, e)| e.valid_until).map(|(k, _)| *k);
                if let Some(k) = soonest {
                    map.remove(&k);
                }
            }
        }
        map.insert(
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
            expires_at: 100,
            issued_at: None,
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
    fn stays_bounded_evicting_expired_then_soonest() {
        let c = VerifiedTokenCache::new(3).unwrap();
        c.insert(CacheKey::of("a"), token("a"), 20, 1, 0);
        c.insert(CacheKey::of("b"), token("b"), 300, 1, 0);
        c.insert(CacheKey::of("c"), token("c"), 200, 1, 0);
        c.insert(CacheKey::of("d"), token("d"), 400, 1, 0);
        assert_eq!(c.len(), 3);
        assert!(c.get(&CacheKey::of("a"), 10, 1).is_none(), "soonest-expiring evicted");
        // At t=250 "c" has expired: it goes first, and nothing live is evicted.
        c.insert(CacheKey::of("e"), token("e"), 500, 1, 250);
        assert_eq!(c.len(), 3);
        for live in ["b", "d", "e"] {
            assert!(c.get(&CacheKey::of(live), 260, 1).is_some(), "{live}");
        }
    }

    #[test]
    fn keys_differ_per_token() {
        assert_ne!(CacheKey::of("a.b.c"), CacheKey::of("a.b.d"));
        assert_eq!(CacheKey::of("a.b.c"), CacheKey::of("a.b.c"));
    }
}
