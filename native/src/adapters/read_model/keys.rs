//! The read model's keys: a flat hash table built at start-up, under a small persistent
//! overlay of the keys changed since.
//!
//! Why two layers: a lookup in a persistent map (`imbl`'s HAMT) of a million keys walks about
//! four nodes, measured at 650–770 ns on CPU on this project's machine, over the 300 ns goal;
//! a flat table is about one cache miss. But a flat table cannot be shared between snapshots,
//! and copying a million entries on every admin write costs milliseconds. So the table is
//! shared (`Arc`) and never changed once readers hold it; a write lands in the overlay, which
//! is persistent (O(log n) to copy) and small, and a lookup that misses it (nearly all of
//! them) costs one probe of an empty or shallow overlay plus the table. When the overlay grows
//! past a sixteenth of the table (at least 4,096 entries), the next write folds it into a new
//! table: a copy of the table once per that many writes, amortised O(1) per write.

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use super::snapshot::{Digest, StoredKey};

/// Keyed by SHA-256 digests, so a fast hasher is safe from crafted collisions.
type Hasher = foldhash::fast::RandomState;
type Overlay = imbl::GenericHashMap<Digest, Option<Arc<StoredKey>>, Hasher, imbl::shared_ptr::DefaultSharedPtr>;

/// Overlay entries that trigger a fold into a new table, at the least.
const MIN_FOLD: usize = 4_096;

#[derive(Clone, Default)]
pub(super) struct Keys {
    hasher: Hasher,
    /// Entries are found by their `digest`; 8 bytes each (the digest lives in the entry).
    table: Arc<HashTable<Arc<StoredKey>>>,
    /// Changes since `table` was built: `Some` put, `None` removed.
    overlay: Overlay,
}

impl Keys {
    pub(super) fn get(&self, digest: &Digest) -> Option<&Arc<StoredKey>> {
        if !self.overlay.is_empty() {
            if let Some(changed) = self.overlay.get(digest) {
                return changed.as_ref();
            }
        }
        self.table.find(self.hasher.hash_one(digest), |k| k.digest == *digest)
    }

    pub(super) fn put(&mut self, key: Arc<StoredKey>) {
        let digest = key.digest;
        // The writer's own table (nothing else holds it yet, e.g. at start-up): change it in place.
        if let Some(table) = self.overlay.is_empty().then(|| Arc::get_mut(&mut self.table)).flatten() {
            put_into(table, &self.hasher, key);
            return;
        }
        self.overlay.insert(digest, Some(key));
        self.fold_if_large();
    }

    pub(super) fn remove(&mut self, digest: &Digest) {
        let hash = self.hasher.hash_one(digest);
        if let Some(table) = self.overlay.is_empty().then(|| Arc::get_mut(&mut self.table)).flatten() {
            if let Ok(found) = table.find_entry(hash, |k| k.digest == *digest) {
                found.remove();
            }
            return;
        }
        match self.table.find(hash, |k| k.digest == *digest) {
            Some(_) => drop(self.overlay.insert(*digest, None)),
            None => drop(self.overlay.remove(digest)),
        }
        self.fold_if_large();
    }

    /// The digest of the key with this id, wherever it is: O(n), for the rare change that does
    /// not tell its hash (a deleted record, or one that cannot be decoded).
    pub(super) fn digest_of_id(&self, id: &str) -> Option<Digest> {
        let changed = self.overlay.iter().filter_map(|(_, k)| k.as_ref()).find(|k| &*k.id == id);
        let found = changed.or_else(|| self.table.iter().find(|k| &*k.id == id && self.get(&k.digest).is_some()));
        found.map(|k| k.digest)
    }

    pub(super) fn len(&self) -> usize {
        let in_table = |d: &Digest| self.table.find(self.hasher.hash_one(d), |k| k.digest == *d).is_some();
        let delta: isize = self
            .overlay
            .iter()
            .map(|(d, k)| match (k.is_some(), in_table(d)) {
                (true, false) => 1,
                (false, true) => -1,
                _ => 0,
            })
            .sum();
        self.table.len().saturating_add_signed(delta)
    }

    fn fold_if_large(&mut self) {
        if self.overlay.len() <= (self.table.len() / 16).max(MIN_FOLD) {
            return;
        }
        let mut table = (*self.table).clone();
        for (digest, changed) in self.overlay.iter() {
            let hash = self.hasher.hash_one(digest);
            if let Ok(found) = table.find_entry(hash, |k| k.digest == *digest) {
                found.remove();
            }
            if let Some(key) = changed {
                put_into(&mut table, &self.hasher, Arc::clone(key));
            }
        }
        self.table = Arc::new(table);
        self.overlay = Overlay::default();
    }
}

fn put_into(table: &mut HashTable<Arc<StoredKey>>, hasher: &Hasher, key: Arc<StoredKey>) {
    let hash = hasher.hash_one(key.digest);
    match table.find_mut(hash, |k| k.digest == key.digest) {
        Some(slot) => *slot = key,
        None => drop(table.insert_unique(hash, key, |k| hasher.hash_one(k.digest))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use gatehouse_core::store::contract;

    use super::*;

    fn key(n: usize) -> Arc<StoredKey> {
        let key = contract::key(&format!("key_{n}"), "app_1", &format!("secret {n}"));
        Arc::new(StoredKey::of(key, Arc::from("app_1")))
    }

    /// Puts and removes through the table (unshared), the overlay (a reader holds the table)
    /// and folds, checked against a plain map after every step; readers' clones never change.
    #[test]
    fn keys_answer_as_a_plain_map_would_through_overlay_and_folds() {
        let mut keys = Keys::default();
        let mut expected: HashMap<Digest, String> = HashMap::new();
        for n in 0..5_000 {
            let k = key(n);
            expected.insert(k.digest, k.id.to_string());
            keys.put(k);
        }
        let reader = keys.clone();
        let before = reader.len();
        for step in 0..20_000 {
            let n = (step * 7_919) % 9_000;
            let k = key(n);
            if step % 3 == 0 {
                keys.remove(&k.digest);
                expected.remove(&k.digest);
            } else {
                expected.insert(k.digest, k.id.to_string());
                keys.put(k);
            }
            if step % 997 == 0 {
                assert_eq!(keys.len(), expected.len(), "step {step}");
            }
        }
        for n in 0..9_000 {
            let d = key(n).digest;
            assert_eq!(keys.get(&d).map(|k| k.id.to_string()), expected.get(&d).cloned(), "key {n}");
        }
        assert_eq!(keys.len(), expected.len());
        assert_eq!(reader.len(), before, "a reader's snapshot never changes");
        let removed = expected.keys().next().copied().expect("some key left");
        let id = expected[&removed].clone();
        assert_eq!(keys.digest_of_id(&id), Some(removed));
    }
}
