//! A cache of parsed files bounded by (estimated) bytes: the least recently
//! used entries leave when a new one would go over the budget. Each process
//! keeps its own; a file is parsed again when it is needed after leaving.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Parsed definitions take about this many times their file's size.
pub const PARSED_PER_SOURCE_BYTE: usize = 10;

struct Entry<V> {
    value: Arc<V>,
    bytes: usize,
    used: u64,
}

struct Inner<V> {
    entries: HashMap<i64, Entry<V>>,
    bytes: usize,
    clock: u64,
}

/// Parsed files by id, within a byte budget.
pub struct ParsedCache<V> {
    budget: usize,
    inner: Mutex<Inner<V>>,
}

impl<V> ParsedCache<V> {
    pub fn new(budget: usize) -> ParsedCache<V> {
        ParsedCache {
            budget,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                bytes: 0,
                clock: 0,
            }),
        }
    }

    pub fn get(&self, id: i64) -> Option<Arc<V>> {
        let mut inner = self.inner.lock().ok()?;
        inner.clock += 1;
        let now = inner.clock;
        let e = inner.entries.get_mut(&id)?;
        e.used = now;
        Some(e.value.clone())
    }

    /// Keeps `value` (estimated at `bytes`), letting the least recently used
    /// entries go to stay within the budget. A value larger than the whole
    /// budget is not kept (it is parsed again when needed).
    pub fn put(&self, id: i64, value: Arc<V>, bytes: usize) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if bytes > self.budget {
            return;
        }
        if let Some(old) = inner.entries.remove(&id) {
            inner.bytes -= old.bytes;
        }
        while inner.bytes + bytes > self.budget {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| *k)
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes -= e.bytes;
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.bytes += bytes;
        inner.entries.insert(id, Entry { value, bytes, used });
    }

    /// Estimated bytes kept now.
    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|i| i.bytes).unwrap_or(0)
    }
}
