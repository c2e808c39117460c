//! Versions of one API side by side: by base path, and by header on a shared base path.

use http::{HeaderMap, HeaderValue};

use super::*;
use crate::model::{UpstreamSettings, VersionScheme, Versioning};

fn version(id: &str, base: &str, label: &str, scheme: VersionScheme, lifecycle: Lifecycle) -> Api {
    let value = serde_json::json!({
        "id": id, "name": "pets", "version": "1", "base_path": base,
        "upstream": {"url": "http://127.0.0.1:1"},
        "lifecycle": {"state": "draft"},
        "operations": [{"id": "list", "method": "GET", "path": "/pets"}],
        "openapi": null, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
    });
    let mut api: Api = serde_json::from_value(value).expect("an API");
    api.upstream = UpstreamSettings { url: format!("http://{id}.internal"), ..api.upstream };
    api.versioning = Some(Versioning { set: "pets".into(), label: label.into(), scheme });
    api.lifecycle = lifecycle;
    api
}

fn by_header(default: bool) -> VersionScheme {
    VersionScheme::Header { header: "api-version".into(), default }
}

fn headers(version: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("api-version", HeaderValue::from_str(version).expect("value"));
    h
}

fn resolved(t: &RouteTable, h: Option<&HeaderMap>) -> Result<String, NoMatch> {
    let extras = Extras { query: None, headers: h };
    t.resolve_with("h", "GET", "/pets/pets", extras).map(|r| r.api.id.clone())
}

const LIVE: Lifecycle = Lifecycle::Published { published_at: 0 };

#[test]
fn versions_by_header_share_a_base_path_and_the_default_answers_without_it() {
    let t = RouteTable::new([
        version("api_v1", "/pets", "v1", by_header(true), LIVE),
        version("api_v2", "/pets", "v2", by_header(false), LIVE),
    ]);
    assert_eq!(resolved(&t, Some(&headers("v2"))), Ok("api_v2".into()));
    assert_eq!(resolved(&t, Some(&headers("v1"))), Ok("api_v1".into()));
    assert_eq!(resolved(&t, None), Ok("api_v1".into()));
    assert_eq!(resolved(&t, Some(&HeaderMap::new())), Ok("api_v1".into()));
    assert_eq!(resolved(&t, Some(&headers("v3"))), Err(NoMatch::NoVersion));
    assert_eq!(t.api_for("h", "/pets/x").map(|(a, _)| a.id.clone()), Some("api_v1".into()));
}

#[test]
fn without_a_default_a_request_that_names_no_version_is_refused() {
    let t = RouteTable::new([version("api_v2", "/pets", "v2", by_header(false), LIVE)]);
    assert_eq!(resolved(&t, None), Err(NoMatch::NoVersion));
    assert_eq!(resolved(&t, Some(&headers("v2"))), Ok("api_v2".into()));
}

#[test]
fn a_draft_version_takes_no_requests_even_when_named() {
    let t = RouteTable::new([
        version("api_v1", "/pets", "v1", by_header(true), LIVE),
        version("api_v2", "/pets", "v2", by_header(false), Lifecycle::Draft),
    ]);
    assert_eq!(resolved(&t, Some(&headers("v2"))), Err(NoMatch::NoVersion));
}

#[test]
fn versions_by_path_are_routed_by_their_base_paths() {
    let t = RouteTable::new([
        version("api_v1", "/v1", "v1", VersionScheme::Path, LIVE),
        version("api_v2", "/v2", "v2", VersionScheme::Path, LIVE),
    ]);
    let route = |path| t.resolve_with("h", "GET", path, Extras { query: None, headers: Some(&headers("v1")) });
    assert_eq!(route("/v2/pets").map(|r| r.api.id.clone()), Ok("api_v2".into()), "the header means nothing here");
    assert_eq!(route("/v1/pets").map(|r| r.api.id.clone()), Ok("api_v1".into()));
}

#[test]
fn the_store_lets_no_two_versions_claim_one_label_or_the_default() {
    use crate::store::Entity;
    let claims = |api: &Api| api.uniques().into_iter().map(|u| u.value).collect::<Vec<_>>();
    let v1 = claims(&version("api_v1", "/pets", "v1", by_header(true), LIVE));
    let v2 = claims(&version("api_v2", "/pets", "v2", by_header(false), LIVE));
    let v2_default = claims(&version("api_v3", "/pets", "v2", by_header(true), LIVE));
    assert!(v1.iter().all(|c| !v2.contains(c)), "{v1:?} {v2:?}: two labels coexist");
    assert!(v2_default.iter().any(|c| v2.contains(c)), "the same label twice clashes");
    assert!(v2_default.iter().any(|c| v1.contains(c)), "two defaults clash");
    let plain = claims(&version("api_p", "/pets", "v1", VersionScheme::Path, LIVE));
    assert_eq!(plain, ["route:/pets@*"], "a version by path claims its base path as any API");
}
