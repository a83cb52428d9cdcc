//! Memory the rules keep per database, held by the store so that it lives
//! exactly as long as the pool (tests open many databases in one process).
//! What is cached, under which key and for how long is the rules' decision
//! (`billing::month_to_date`); this is only the container.

use std::any::Any;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::records::Usage;

/// Values under a key, each stamped with what it was computed from (a
/// version number, or a [`Freshness`]). Bounded: when full it starts over.
pub struct VersionedCache<K, V: ?Sized, S = i64> {
    entries: Mutex<HashMap<K, (S, Arc<V>)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: ?Sized, S> VersionedCache<K, V, S> {
    pub fn with_capacity(capacity: usize) -> Self {
        VersionedCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The value under `key` if its stamp says it is still current.
    pub fn get_if(&self, key: &K, current: impl FnOnce(&S) -> bool) -> Option<Arc<V>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(stamp, _)| current(stamp))
            .map(|(_, value)| value.clone())
    }

    pub fn put(&self, key: K, version: S, value: Arc<V>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                entries.clear();
            }
            entries.insert(key, (version, value));
        }
    }
}

impl<K: Eq + Hash, V: ?Sized> VersionedCache<K, V, i64> {
    /// The value under `key` if it was stored for `version`.
    pub fn get(&self, key: &K, version: i64) -> Option<Arc<V>> {
        self.get_if(key, |stored| *stored == version)
    }
}

/// When a computed value holds: for one version of its inputs, from the
/// moment it was computed until (and including) `until`, when the
/// computation would first give another answer (None: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub version: i64,
    pub from: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl Freshness {
    pub fn covers(&self, version: i64, now: DateTime<Utc>) -> bool {
        self.version == version && self.from <= now && self.until.is_none_or(|until| now <= until)
    }
}

/// (billing group, first instant of the month).
pub type GroupMonth = (String, DateTime<Utc>);

pub struct Caches {
    /// A month of usage per group.
    pub usage: VersionedCache<GroupMonth, Usage>,
    /// What the rules computed of a group's month up to a moment (their
    /// own type, which this container does not need to know).
    pub month_figures: VersionedCache<GroupMonth, dyn Any + Send + Sync, Freshness>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            usage: VersionedCache::with_capacity(4096),
            month_figures: VersionedCache::with_capacity(4096),
        }
    }
}
