//! Cache keys: which stored response a request may be answered with.
//!
//! A key is `gatehouse:v1:<api id>:<sha-256 hex>` over a length-prefixed encoding of the
//! method class, the normalised path and query, and the identity. Length prefixes make the
//! encoding injective (no choice of path or identity can imitate another's), hashing keeps keys
//! short and free of caller data (store-safe, log-safe), and the clear API id lets a store
//! that can list by prefix purge an API cheaply.
//!
//! **Identity.** RFC 9111 §3.5 only keeps shared caches away from responses to requests with
//! `Authorization`; a key in `X-API-Key` or `?api_key=` is invisible to it. So for any
//! authenticated request the caller's identity is part of the key, unless the API owner has
//! declared the API's responses identical for everyone (`CacheSettings::public`).

use std::borrow::Cow;
use std::cell::RefCell;

use http::Method;
use sha2::{Digest, Sha256};

use crate::model::{Api, KeyLocation};
use crate::recent::Recent;

/// `gatehouse:<version of the key layout>:`; bump the version to orphan every stored entry
/// after a layout change.
const PREFIX: &str = "gatehouse:v1:";

/// The cache key for a request to `api`.
///
/// `identity` is the authenticated app id (None for anonymous calls). `path_and_query` is the
/// request target below the gateway; query parameters named as key locations are left out,
/// so a credential never reaches a key and rotating keys does not split the cache.
pub fn cache_key(api: &Api, method: &Method, path_and_query: &str, identity: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(api.id.as_bytes());
    field(method_class(method).as_bytes());
    field(normalise_target(path_and_query, &credential_params(api)).as_bytes());
    match identity.filter(|_| !api.cache.public) {
        Some(id) => {
            field(b"identity");
            field(id.as_bytes());
        }
        None => field(b"shared"),
    }
    // One allocation: the digest's hex is written straight after the prefix.
    let mut key = String::with_capacity(PREFIX.len() + api.id.len() + 1 + 64);
    for part in [PREFIX, api.id.as_str(), ":"] {
        key.push_str(part);
    }
    crate::hex::push(&mut key, &hasher.finalize());
    key
}

/// A cache key as [`cache_key`] computes it, and whether it came from this thread's memory of
/// the keys of entries served lately ([`remember_served`]) rather than being computed. A hot
/// entry is hit many times a second; remembering its key spares each hit the SHA-256 (about
/// 160 ns, a tenth of a hit's pipeline). The memory is only used for exactly the inputs the key
/// was computed from, so it can never hand one caller's key to another.
pub(super) fn served_key(api: &Api, method: &Method, path_and_query: &str, identity: Option<&str>) -> (String, bool) {
    let remembered = RECENT_SERVED.try_with(|recent| {
        let recent = recent.borrow();
        let slot = served_slot(&recent, api, path_and_query, identity);
        let entry = recent.find(slot, |served| served.is_for(api, method, path_and_query, identity));
        entry.map(|served| served.key.clone())
    });
    match remembered {
        Ok(Some(key)) => (key, true),
        _ => (cache_key(api, method, path_and_query, identity), false),
    }
}

/// Remembers `key`, computed by [`cache_key`] from these inputs, as the key of an entry just
/// served from the cache.
pub(super) fn remember_served(api: &Api, method: &Method, path_and_query: &str, identity: Option<&str>, key: &str) {
    let served = ServedKey {
        api_id: api.id.clone(),
        public: api.cache.public,
        credential_params: credential_params(api).into_iter().map(str::to_owned).collect(),
        method_class: method_class(method).to_owned(),
        path_and_query: path_and_query.to_owned(),
        identity: identity.map(str::to_owned),
        key: key.to_owned(),
    };
    let _ = RECENT_SERVED.try_with(|recent| {
        let mut recent = recent.borrow_mut();
        let slot = served_slot(&recent, api, path_and_query, identity);
        recent.remember(slot, served);
    });
}

/// The one slot a served key can be in, the same for finding and remembering it.
fn served_slot(recent: &Recent<ServedKey>, api: &Api, path_and_query: &str, identity: Option<&str>) -> usize {
    recent.slot((api.id.as_str(), path_and_query, identity))
}

/// How many served keys a thread remembers.
const SERVED_SLOTS: usize = 256;

thread_local! {
    static RECENT_SERVED: RefCell<Recent<ServedKey>> = RefCell::new(Recent::with_slots(SERVED_SLOTS));
}

/// A key and everything [`cache_key`] computed it from.
struct ServedKey {
    api_id: String,
    public: bool,
    credential_params: Vec<String>,
    method_class: String,
    path_and_query: String,
    identity: Option<String>,
    key: String,
}

impl ServedKey {
    fn is_for(&self, api: &Api, method: &Method, path_and_query: &str, identity: Option<&str>) -> bool {
        self.api_id == api.id
            && self.public == api.cache.public
            && self.method_class == method_class(method)
            && self.path_and_query == path_and_query
            && self.identity.as_deref() == identity
            && self.credential_params.iter().map(String::as_str).eq(credential_params(api))
    }
}

/// GET and HEAD share entries: a HEAD is answered from the stored GET response.
fn method_class(method: &Method) -> &str {
    if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    }
}

fn credential_params(api: &Api) -> Vec<&str> {
    let locations = api.auth.key_locations.iter();
    locations.filter_map(|l| if let KeyLocation::Query { name } = l { Some(name.as_str()) } else { None }).collect()
}

/// Sorts query parameters (so `?b=2&a=1` and `?a=1&b=2` share an entry), drops empty members
/// and credential parameters, and drops any fragment. Values are compared as sent: decoding
/// percent-escapes could merge targets the upstream treats as different. A target without
/// query parameters is returned as is, without a copy: it is the common case on every request.
pub fn normalise_target<'t>(path_and_query: &'t str, drop_params: &[&str]) -> Cow<'t, str> {
    let without_fragment = path_and_query.split('#').next().unwrap_or_default();
    let (path, query) = without_fragment.split_once('?').unwrap_or((without_fragment, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !drop_params.contains(&p.split('=').next().unwrap_or_default()))
        .collect();
    params.sort_unstable();
    if params.is_empty() {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("{path}?{}", params.join("&")))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use crate::cache::testkit::api;

    proptest::proptest! {
        /// Any printable identities (key separators and non-ASCII included) and any target.
        #[test]
        fn authenticated_responses_never_cross_identities(
            a in "\\PC{0,16}", b in "\\PC{0,16}", target in "/[a-z0-9/?&=:|%]{0,16}", head: bool,
        ) {
            proptest::prop_assume!(a != b);
            let api = api(false);
            let method = if head { Method::HEAD } else { Method::GET };
            let key_a = cache_key(&api, &method, &target, Some(&a));
            proptest::prop_assert_ne!(&key_a, &cache_key(&api, &Method::GET, &target, Some(&b)));
            proptest::prop_assert_ne!(&key_a, &cache_key(&api, &method, &target, None), "identity vs anonymous");
        }
    }

    /// The layout is what stored entries are found by, so it is pinned: these are SHA-256 of
    /// the length-prefixed fields, computed outside Rust. A change here needs a new `PREFIX`.
    #[test]
    fn keys_are_the_documented_layout() {
        let api = api(false);
        assert_eq!(
            cache_key(&api, &Method::HEAD, "/a?x=1", Some("app_1")),
            "gatehouse:v1:api_pets:08f70b7e4d7c795e80165d7fc6b0ce16a2ee1461f9c84cfab2608af0e5b4accf"
        );
        assert_eq!(
            cache_key(&api, &Method::GET, "/a", None),
            "gatehouse:v1:api_pets:15ca58aef908df6936102059159b46d3d2b76be2cdda5f69ff46ee9b7fd6bf1c"
        );
    }

    proptest::proptest! {
        /// Whatever was remembered before, a served key is the key computed from scratch.
        #[test]
        fn a_remembered_key_is_only_used_for_exactly_its_inputs(
            calls in proptest::collection::vec(
                (0..2usize, proptest::bool::ANY, proptest::bool::ANY, 0..3usize, 0..3usize, 0..3usize), 1..40),
        ) {
            let mut apis = [api(false), api(false)];
            apis[1].id = "api_other".into();
            let paths = ["/a", "/a?x=1", "/b"];
            let identities = [None, Some("app_1"), Some("app_2")];
            for (a, public, head, p, i, query_credential) in calls {
                let api = &mut apis[a];
                api.cache.public = public;
                api.auth.key_locations = match query_credential {
                    0 => vec![],
                    1 => vec![KeyLocation::Query { name: "x".into() }],
                    _ => vec![KeyLocation::Query { name: "y".into() }],
                };
                let method = if head { Method::HEAD } else { Method::GET };
                let (key, _) = served_key(api, &method, paths[p], identities[i]);
                proptest::prop_assert_eq!(&key, &cache_key(api, &method, paths[p], identities[i]));
                remember_served(api, &method, paths[p], identities[i], &key);
            }
        }
    }

    #[test]
    fn a_served_key_is_remembered() {
        let api = api(false);
        let (key, remembered) = served_key(&api, &Method::GET, "/remembered", Some("app_1"));
        assert!(!remembered);
        remember_served(&api, &Method::GET, "/remembered", Some("app_1"), &key);
        assert_eq!(served_key(&api, &Method::GET, "/remembered", Some("app_1")), (key, true));
        assert!(!served_key(&api, &Method::GET, "/remembered", Some("app_2")).1);
    }

    #[test]
    fn public_api_shares_one_entry_across_identities() {
        let api = api(true);
        assert_eq!(cache_key(&api, &Method::GET, "/a", Some("app_1")), cache_key(&api, &Method::GET, "/a", None));
    }

    #[test]
    fn head_and_get_share_a_key_but_other_methods_do_not() {
        let api = api(false);
        let get = cache_key(&api, &Method::GET, "/a", Some("app_1"));
        assert_eq!(get, cache_key(&api, &Method::HEAD, "/a", Some("app_1")));
        assert_ne!(get, cache_key(&api, &Method::POST, "/a", Some("app_1")));
    }

    #[test]
    fn query_order_does_not_split_the_cache_but_values_do() {
        let api = api(false);
        let key = |t: &str| cache_key(&api, &Method::GET, t, None);
        assert_eq!(key("/a?b=2&a=1"), key("/a?a=1&&b=2"));
        assert_ne!(key("/a?a=1"), key("/a?a=2"));
        assert_ne!(key("/a?a=1"), key("/b?a=1"));
    }

    #[test]
    fn credential_query_parameters_never_enter_the_key() {
        let mut api = api(false);
        api.auth.key_locations = vec![KeyLocation::Query { name: "api_key".into() }];
        let with = cache_key(&api, &Method::GET, "/a?x=1&api_key=gh_live_secret", Some("app_1"));
        assert_eq!(with, cache_key(&api, &Method::GET, "/a?x=1", Some("app_1")));
        assert!(!with.contains("secret"));
    }

    #[test]
    fn keys_of_different_apis_differ_and_name_their_api() {
        let (a, mut b) = (api(false), api(false));
        b.id = "api_other".into();
        let key_a = cache_key(&a, &Method::GET, "/x", None);
        assert!(key_a.starts_with("gatehouse:v1:api_pets:"));
        assert_ne!(key_a, cache_key(&b, &Method::GET, "/x", None));
    }
}
