//! The caller's identity as told to the upstream: `gatehouse-identity: app=…;dev=…;key=…;ts=…`
//! (plus `;sub=…`, percent-encoded, for a bearer token's end user)
//! and `gatehouse-signature`, its hex HMAC-SHA256 under the gateway's identity secret, so an
//! upstream can trust the identity without trusting the network path.
//!
//! The pair only changes when the second (`ts`) does, so each thread keeps the pairs it signed
//! last ([`Recent`]), one per recent key: a busy key is signed once a second rather than on
//! every call (the MAC, its hex and the two field values were 0.25 µs of every proxied
//! request).

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue};
use sha2::Sha256;

use crate::entitlements::Identity;
use crate::field_value::from_string;
use crate::recent::{recall, Recent};
use crate::time::{UnixMillis, SECOND};

/// Header carrying `app=…;dev=…;key=…;ts=…` to the upstream.
pub const IDENTITY_HEADER: &str = "gatehouse-identity";
/// Hex HMAC-SHA256 of the identity header's value under the gateway's identity secret.
pub const SIGNATURE_HEADER: &str = "gatehouse-signature";

/// The header names above, made once: a `&str` name is parsed again on every use.
pub(super) const IDENTITY: HeaderName = HeaderName::from_static(IDENTITY_HEADER);
pub(super) const SIGNATURE: HeaderName = HeaderName::from_static(SIGNATURE_HEADER);

/// Who is calling, as told to the upstream.
pub struct Caller<'a> {
    pub identity: &'a Identity,
    pub key_id: &'a str,
    /// A bearer token's `sub`.
    pub subject: Option<&'a str>,
}

/// The two header values for one caller in one second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIdentity {
    pub identity: HeaderValue,
    pub signature: HeaderValue,
}

/// Signs identity headers with the gateway's identity secret. The MAC is keyed once, at
/// start: keying hashes the secret's two pads, which would double the work of every request.
#[derive(Clone)]
pub struct IdentitySigner {
    mac: Hmac<Sha256>,
    /// Unique per secret, so one signer's remembered pairs are never served for another's
    /// (tests run several gateways on one thread).
    id: u64,
}

static NEXT_SIGNER_ID: AtomicU64 = AtomicU64::new(1);

impl IdentitySigner {
    pub fn new(secret: &[u8]) -> IdentitySigner {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
        IdentitySigner { mac, id: NEXT_SIGNER_ID.fetch_add(1, Ordering::Relaxed) }
    }

    /// Hex HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(message.as_bytes());
        crate::hex::encode(&mac.finalize().into_bytes())
    }

    /// The signed pair for `caller` at `now`: the one signed earlier this second on this
    /// thread when there is one, else newly signed. `None` if an id is not a valid field
    /// value (ids are ours, so only a corrupt record gets there).
    pub fn headers(&self, caller: &Caller<'_>, now: UnixMillis) -> Option<SignedIdentity> {
        let second = now.div_euclid(SECOND);
        let make = || {
            let value = identity_value(caller, second);
            let signature = self.sign(&value);
            let headers = SignedIdentity { identity: from_string(value)?, signature: from_string(signature)? };
            Some(Remembered::new(self.id, caller, second, headers))
        };
        let matches = |entry: &Remembered| entry.is_for(self.id, caller, second);
        recall(&RECENT, caller.key_id, matches, |entry| entry.headers.clone(), || make().ok_or(())).ok()
    }
}

/// How many keys a thread remembers a signed pair for. Two busy keys share a slot only by
/// chance, and then merely take turns being signed.
const SLOTS: usize = 64;

thread_local! {
    static RECENT: RefCell<Recent<Remembered>> = RefCell::new(Recent::with_slots(SLOTS));
}

/// A pair signed earlier, with everything it was signed for.
struct Remembered {
    signer: u64,
    second: i64,
    key_id: String,
    app_id: String,
    developer_id: String,
    subject: Option<String>,
    headers: SignedIdentity,
}

impl Remembered {
    fn new(signer: u64, caller: &Caller<'_>, second: i64, headers: SignedIdentity) -> Remembered {
        Remembered {
            signer,
            second,
            key_id: caller.key_id.to_owned(),
            app_id: caller.identity.app_id.clone(),
            developer_id: caller.identity.developer_id.clone(),
            subject: caller.subject.map(str::to_owned),
            headers,
        }
    }

    fn is_for(&self, signer: u64, caller: &Caller<'_>, second: i64) -> bool {
        self.signer == signer
            && self.second == second
            && self.key_id == caller.key_id
            && self.app_id == caller.identity.app_id
            && self.developer_id == caller.identity.developer_id
            && self.subject.as_deref() == caller.subject
    }
}

/// `app=…;dev=…;key=…;ts=…` (`ts` in Unix seconds), with plain pushes rather than the
/// formatting machinery.
fn identity_value(caller: &Caller<'_>, second: i64) -> String {
    let (identity, key_id) = (caller.identity, caller.key_id);
    let mut value = String::with_capacity(32 + identity.app_id.len() + identity.developer_id.len() + key_id.len());
    for part in ["app=", &identity.app_id, ";dev=", &identity.developer_id, ";key=", key_id, ";ts="] {
        value.push_str(part);
    }
    crate::decimal::push_signed(&mut value, second);
    if let Some(subject) = caller.subject {
        value.push_str(";sub=");
        push_encoded(&mut value, subject);
    }
    value
}

/// Percent-encodes all but unreserved characters (RFC 3986 §2.3), so a `sub` holding `;`,
/// `=` or non-ASCII cannot forge another field or break the header.
fn push_encoded(into: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            into.push(char::from(byte));
        } else {
            into.push('%');
            into.push_str(&crate::hex::encode(&[byte]).to_ascii_uppercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(app: &str, dev: &str) -> Identity {
        Identity {
            app_id: app.into(),
            developer_id: dev.into(),
            organisation_id: None,
            group: None,
            grants: vec![],
            classes: vec![],
        }
    }

    /// What a signer with `secret` must send, computed from scratch.
    fn expected(secret: &[u8], app: &str, dev: &str, key: &str, now: UnixMillis) -> (String, String) {
        let value = format!("app={app};dev={dev};key={key};ts={}", now.div_euclid(SECOND));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key");
        mac.update(value.as_bytes());
        let signature = crate::hex::encode(&mac.finalize().into_bytes());
        (value, signature)
    }

    fn sent(signer: &IdentitySigner, app: &str, dev: &str, key: &str, now: UnixMillis) -> (String, String) {
        let identity = identity(app, dev);
        let headers =
            signer.headers(&Caller { identity: &identity, key_id: key, subject: None }, now).expect("valid ids");
        let text = |v: &HeaderValue| v.to_str().expect("ascii").to_owned();
        (text(&headers.identity), text(&headers.signature))
    }

    #[test]
    fn identity_value_reads_as_its_format_says() {
        let identity = identity("app_1", "dev_1");
        let caller = Caller { identity: &identity, key_id: "key_1", subject: None };
        for now in [0, 1_800_000_123_456, -1, -1_000, i64::MIN] {
            let expected = format!("app=app_1;dev=dev_1;key=key_1;ts={}", now.div_euclid(SECOND));
            assert_eq!(identity_value(&caller, now.div_euclid(SECOND)), expected);
        }
    }

    #[test]
    fn identity_signature_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            IdentitySigner::new(b"Jefe").sign("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_remembered_pair_is_only_served_for_its_signer_caller_and_second() {
        let (a, b) = (IdentitySigner::new(b"secret-a"), IdentitySigner::new(b"secret-b"));
        let t = 1_800_000_000_250;
        // Twice in a second: the second call is served from memory and must be identical.
        for _ in 0..2 {
            assert_eq!(sent(&a, "app_1", "dev_1", "key_1", t), expected(b"secret-a", "app_1", "dev_1", "key_1", t));
        }
        // Another signer on this thread, same caller and second: its own secret.
        assert_eq!(sent(&b, "app_1", "dev_1", "key_1", t), expected(b"secret-b", "app_1", "dev_1", "key_1", t));
        // A new second, and a changed app or developer for the same key id, are signed anew.
        let later = t + SECOND;
        assert_eq!(sent(&a, "app_1", "dev_1", "key_1", later), expected(b"secret-a", "app_1", "dev_1", "key_1", later));
        assert_eq!(sent(&a, "app_2", "dev_1", "key_1", later), expected(b"secret-a", "app_2", "dev_1", "key_1", later));
        assert_eq!(sent(&a, "app_2", "dev_2", "key_1", later), expected(b"secret-a", "app_2", "dev_2", "key_1", later));
        // More keys than slots: every one still gets its own pair.
        for round in 0..2 {
            for i in 0..(3 * SLOTS) {
                let key = format!("key_{i}");
                assert_eq!(
                    sent(&a, "app_1", "dev_1", &key, t),
                    expected(b"secret-a", "app_1", "dev_1", &key, t),
                    "round {round}, {key}"
                );
            }
        }
    }
}
