//! `Snapshot`: everything the data plane reads, kept in persistent maps so that a change
//! makes a new snapshot by copying only the map nodes on its path.
//!
//! Why persistent maps (`imbl`'s HAMT) and not plain hash maps swapped whole: a snapshot
//! with a million keys is tens of megabytes; copying it for every admin write costs tens of
//! milliseconds and doubles memory while both copies live. Structural sharing makes a new
//! snapshot O(log n) in time and memory: readers keep the old one until they next look, and
//! the writer never waits for them. Lookups stay a handful of pointer hops.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use gatehouse_core::entitlements::Identity;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::Key;
use gatehouse_core::routing::RouteTable;
use imbl::shared_ptr::DefaultSharedPtr;

/// Keyed by SHA-256 digests and our own ids, so a fast hasher is safe from crafted collisions.
type Map<K, V> = imbl::GenericHashMap<K, V, foldhash::fast::RandomState, DefaultSharedPtr>;

/// A key in the snapshot, found by its hash. The map holds only this pointer: the hash it is
/// found by is read from the key itself, so a million keys cost no second copy of their hashes.
#[derive(Clone)]
struct KeyEntry(Arc<Key>);

impl Borrow<str> for KeyEntry {
    fn borrow(&self) -> &str {
        self.0.hash.as_hex()
    }
}

/// Must hash as the `str` it borrows as, so a lookup by `&str` finds it.
impl Hash for KeyEntry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash.as_hex().hash(state)
    }
}

impl PartialEq for KeyEntry {
    fn eq(&self, other: &Self) -> bool {
        self.0.hash == other.0.hash
    }
}

impl Eq for KeyEntry {}

/// What the gateway reads. Cloning is O(1): clones share every node until one changes.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub(super) routes: Arc<RouteTable>,
    keys: Map<KeyEntry, ()>,
    identities: Map<String, Arc<Identity>>,
}

impl Snapshot {
    pub fn with_routes(routes: Arc<RouteTable>) -> Snapshot {
        Snapshot { routes, ..Snapshot::default() }
    }

    pub(super) fn key(&self, hash: &KeyHash) -> Option<Arc<Key>> {
        self.keys.get_key_value(hash.as_hex()).map(|(entry, ())| Arc::clone(&entry.0))
    }

    pub(super) fn identity(&self, app_id: &str) -> Option<Arc<Identity>> {
        self.identities.get(app_id).cloned()
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    pub fn set_routes(&mut self, routes: RouteTable) {
        self.routes = Arc::new(routes);
    }

    /// Adds or replaces a key, keeping only what the request path reads: id, app, status,
    /// expiry, grace and limits. Display fields (name, prefix, last four) and usage stamps
    /// stay in the store, which the admin API reads.
    pub fn put_key(&mut self, mut key: Key) {
        key.name = String::new();
        key.display_prefix = String::new();
        key.last4 = String::new();
        key.replaced_by = None;
        key.last_used_at = None;
        let entry = KeyEntry(Arc::new(key));
        // Remove first: an insert over an equal entry could keep the old entry as the key.
        self.keys.remove(entry.0.hash.as_hex());
        self.keys.insert(entry, ());
    }

    pub fn remove_key(&mut self, hash: &KeyHash) {
        self.keys.remove(hash.as_hex());
    }

    /// Removes the key with this id wherever it is: O(n), for the rare change that does not
    /// tell its hash (a deleted record, or one that cannot be decoded).
    pub fn remove_key_by_id(&mut self, id: &str) {
        self.keys.retain(|entry, ()| entry.0.id != id);
    }

    /// Sets an app's identity; `None` removes it, so its keys authorise nothing.
    pub fn set_identity(&mut self, app_id: &str, identity: Option<Identity>) {
        match identity {
            Some(identity) => {
                self.identities.insert(app_id.to_owned(), Arc::new(identity));
            }
            None => {
                self.identities.remove(app_id);
            }
        }
    }
}
