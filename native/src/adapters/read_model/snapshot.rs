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
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::routing::RouteTable;
use gatehouse_core::time::UnixMillis;
use imbl::shared_ptr::DefaultSharedPtr;

/// Keyed by SHA-256 digests and our own ids, so a fast hasher is safe from crafted collisions.
type Map<K, V> = imbl::GenericHashMap<K, V, foldhash::fast::RandomState, DefaultSharedPtr>;

/// SHA-256 digest bytes: half the size of the hex the rest of the system uses.
type Digest = [u8; 32];

fn digest(hash: &KeyHash) -> Digest {
    fn nibble(c: u8) -> u8 {
        // `KeyHash` holds only lowercase hex digits.
        if c >= b'a' {
            c - b'a' + 10
        } else {
            c.wrapping_sub(b'0')
        }
    }
    let hex = hash.as_hex().as_bytes();
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]);
    }
    out
}

/// A key as the snapshot keeps it: only what the request path reads (id, app, status, times,
/// limits), in about a third of a `Key`'s memory — a million keys are most of the process's
/// memory, and a `Key` is ~300 bytes before its strings. Display fields (name, prefix, last
/// four), rotation links and usage stamps stay in the store, which the admin API reads.
struct StoredKey {
    digest: Digest,
    id: Box<str>,
    app_id: Box<str>,
    status: KeyStatus,
    created_at: UnixMillis,
    expires_at: Option<UnixMillis>,
    grace_until: Option<UnixMillis>,
    limits: Box<[LimitPolicy]>,
}

impl StoredKey {
    fn of(key: Key) -> StoredKey {
        StoredKey {
            digest: digest(&key.hash),
            id: key.id.into_boxed_str(),
            app_id: key.app_id.into_boxed_str(),
            status: key.status,
            created_at: key.created_at,
            expires_at: key.expires_at,
            grace_until: key.grace_until,
            limits: key.limits.into_boxed_slice(),
        }
    }

    /// The `Key` the read-model port answers with, display fields empty.
    fn to_key(&self, hash: &KeyHash) -> Key {
        Key {
            id: self.id.to_string(),
            app_id: self.app_id.to_string(),
            name: String::new(),
            hash: hash.clone(),
            display_prefix: String::new(),
            last4: String::new(),
            status: self.status,
            created_at: self.created_at,
            expires_at: self.expires_at,
            grace_until: self.grace_until,
            replaced_by: None,
            last_used_at: None,
            limits: self.limits.to_vec(),
        }
    }
}

/// The map holds only a pointer per key: the digest it is found by is read from the key.
#[derive(Clone)]
struct KeyEntry(Arc<StoredKey>);

impl Borrow<Digest> for KeyEntry {
    fn borrow(&self) -> &Digest {
        &self.0.digest
    }
}

/// Must hash as the digest it borrows as, so a lookup by digest finds it.
impl Hash for KeyEntry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.digest.hash(state)
    }
}

impl PartialEq for KeyEntry {
    fn eq(&self, other: &Self) -> bool {
        self.0.digest == other.0.digest
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
        self.keys.get_key_value(&digest(hash)).map(|(entry, ())| Arc::new(entry.0.to_key(hash)))
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

    /// Adds or replaces a key, keeping only what the request path reads (see [`StoredKey`]).
    pub fn put_key(&mut self, key: Key) {
        let entry = KeyEntry(Arc::new(StoredKey::of(key)));
        // Remove first: an insert over an equal entry could keep the old entry as the key.
        self.keys.remove(&entry.0.digest);
        self.keys.insert(entry, ());
    }

    pub fn remove_key(&mut self, hash: &KeyHash) {
        self.keys.remove(&digest(hash));
    }

    /// Removes the key with this id wherever it is: O(n), for the rare change that does not
    /// tell its hash (a deleted record, or one that cannot be decoded).
    pub fn remove_key_by_id(&mut self, id: &str) {
        self.keys.retain(|entry, ()| &*entry.0.id != id);
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
