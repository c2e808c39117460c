//! Revocation notices: the control plane's fast path to the edge. Workers KV can take 60 s or
//! more to show a change everywhere, so a revoked or disabled key is also announced in a
//! signed notice ([`crate::signing`]) that the edge keeps in a strongly consistent place and
//! checks before trusting its KV copy of the key.

use serde::{Deserialize, Serialize};

use crate::keys::KeyHash;
use crate::time::UnixMillis;

/// Keys that must be refused from now on, whatever the read model still says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationNotice {
    /// Unique per notice; receivers apply each id once.
    pub notice_id: String,
    pub key_hashes: Vec<KeyHash>,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub at: UnixMillis,
    /// The edge may forget an entry after this time: by then the KV read model has caught up
    /// (control planes set it to `at` plus a generous multiple of KV's propagation delay).
    #[serde(with = "crate::time::serde_rfc3339")]
    pub keep_until: UnixMillis,
}
