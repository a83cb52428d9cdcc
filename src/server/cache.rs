//! Memory the rules keep per database, held by the store so that it lives
//! exactly as long as the pool (tests open many databases in one process).
//! What is cached, under which key and for how long is the rules' decision
//! (`billing::month_to_date`); this is only the container.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::server::store::records::Usage;

/// Values under a key, each valid for one version of what it was computed
/// from. Bounded: when full it starts over.
pub struct VersionedCache<K, V> {
    entries: Mutex<HashMap<K, (i64, Arc<V>)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> VersionedCache<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        VersionedCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value under `key` if it was stored for `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(stored, _)| *stored == version)
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, key: K, version: i64, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (version, value));
        }
    }
}

/// (billing group, first instant of the month).
pub type GroupMonth = (String, DateTime<Utc>);

pub struct Caches {
    /// A month of usage per group.
    pub usage: VersionedCache<GroupMonth, Usage>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            usage: VersionedCache::with_capacity(4096),
        }
    }
}
