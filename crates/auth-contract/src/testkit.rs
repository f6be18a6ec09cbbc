//! Test doubles for the ports this crate defines, behind the `testkit` feature (a
//! dev-dependency feature: no Lambda binary carries them).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::revocation::{BoxFuture, Revocation, RevocationStore, StoreError};

/// A revocation store in memory. It can be told to fail or to answer slowly.
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
            let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
            match records.get(&record.key) {
                Some(stored) if stored.revoked_at >= record.revoked_at => {}
                _ => {
                    records.insert(record.key.clone(), record.clone());
                }
            }
            Ok(())
        })
    }
}
