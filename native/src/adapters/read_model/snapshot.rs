//! `Snapshot`: everything the data plane reads, kept in persistent maps so that a change
//! makes a new snapshot by copying only the map nodes on its path.
//!
//! Why persistent maps (`imbl`'s HAMT) and not plain hash maps swapped whole: a snapshot
//! with a million keys is tens of megabytes; copying it for every admin write costs tens of
//! milliseconds and doubles memory while both copies live. Structural sharing makes a new
//! snapshot O(log n) in time and memory: readers keep the old one until they next look, and
//! the writer never waits for them. Lookups stay a handful of pointer hops.

use std::sync::{Arc, OnceLock};

use gatehouse_core::entitlements::Identity;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{Key, KeyStatus};
use gatehouse_core::routing::RouteTable;
use gatehouse_core::time::UnixMillis;
use imbl::shared_ptr::DefaultSharedPtr;

use super::keys::Keys;

/// Keyed by SHA-256 digests and our own ids, so a fast hasher is safe from crafted collisions.
type Map<K, V> = imbl::GenericHashMap<K, V, foldhash::fast::RandomState, DefaultSharedPtr>;

/// SHA-256 digest bytes: half the size of the hex the rest of the system uses.
pub(super) type Digest = [u8; 32];

fn digest(hash: &KeyHash) -> Digest {
    // Branch-free: `KeyHash` holds only lowercase hex digits, and for those `c & 0x0f` is the
    // digit ('0'..'9') or one less than the letter's value minus 9 ('a'..'f', where bit 6 is
    // set). Random digits would mispredict a branch per nibble, most of a lookup's time.
    let nibble = |c: u8| (c & 0x0f) + 9 * (c >> 6);
    let hex = hash.as_hex().as_bytes();
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = nibble(pair[0]) << 4 | nibble(pair[1]);
    }
    out
}

/// A key as the snapshot keeps it: only what the request path reads (id, app, status, times,
/// limits) in about a third of a `Key`'s memory, because a million keys are most of the
/// process's memory and a `Key` is ~300 bytes before its strings. Display fields (name,
/// prefix, last four), rotation links and usage stamps stay in the store for the admin API.
///
/// The `Key` the port answers with is built on a key's first lookup and kept with it: building
/// one per request (three allocations, ~0.5 µs on a busy machine) would be most of a lookup's
/// cost, and only keys in use pay its memory. A change to the key replaces the whole entry.
pub(super) struct StoredKey {
    pub(super) digest: Digest,
    pub(super) id: Box<str>,
    /// Shared by every key of the app (see [`Snapshot::app_ids`]).
    app_id: Arc<str>,
    status: KeyStatus,
    created_at: UnixMillis,
    expires_at: Option<UnixMillis>,
    grace_until: Option<UnixMillis>,
    limits: Box<[LimitPolicy]>,
    in_use: OnceLock<Arc<Key>>,
}

impl StoredKey {
    pub(super) fn of(key: Key, app_id: Arc<str>) -> StoredKey {
        StoredKey {
            digest: digest(&key.hash),
            id: key.id.into_boxed_str(),
            app_id,
            status: key.status,
            created_at: key.created_at,
            expires_at: key.expires_at,
            grace_until: key.grace_until,
            limits: key.limits.into_boxed_slice(),
            in_use: OnceLock::new(),
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
            oauth_client: None,
            client_certificate: None,
        }
    }
}

/// What the gateway reads. Cloning is O(1): clones share every node until one changes.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub(super) routes: Arc<RouteTable>,
    keys: Keys,
    identities: Map<String, Arc<Identity>>,
    /// One copy of each app id that keys name, shared by those keys: apps have hundreds or
    /// thousands of keys, and a copy per key was 32 MB a million keys. Ids stay after their
    /// last key goes; apps are far fewer than keys.
    app_ids: Map<Arc<str>, ()>,
}

impl Snapshot {
    pub fn with_routes(routes: Arc<RouteTable>) -> Snapshot {
        Snapshot { routes, ..Snapshot::default() }
    }

    pub(super) fn key(&self, hash: &KeyHash) -> Option<Arc<Key>> {
        let stored = self.keys.get(&digest(hash))?;
        Some(Arc::clone(stored.in_use.get_or_init(|| Arc::new(stored.to_key(hash)))))
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
        let app_id = match self.app_ids.get_key_value(key.app_id.as_str()) {
            Some((shared, ())) => Arc::clone(shared),
            None => {
                let shared: Arc<str> = Arc::from(key.app_id.as_str());
                self.app_ids.insert(Arc::clone(&shared), ());
                shared
            }
        };
        self.keys.put(Arc::new(StoredKey::of(key, app_id)));
    }

    pub fn remove_key(&mut self, hash: &KeyHash) {
        self.keys.remove(&digest(hash));
    }

    /// Removes the key with this id wherever it is: O(n), for the rare change that does not
    /// tell its hash (a deleted record, or one that cannot be decoded).
    pub fn remove_key_by_id(&mut self, id: &str) {
        if let Some(digest) = self.keys.digest_of_id(id) {
            self.keys.remove(&digest);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_the_bytes_its_hex_spells() {
        let hash = gatehouse_core::keys::hash_secret("any secret");
        let hex: String = digest(&hash).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, hash.as_hex());
    }
}
