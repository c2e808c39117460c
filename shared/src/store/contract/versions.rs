//! Contract scenario for versions and revisions: what the admin API relies on from every
//! store (a label or a default claimed once per base path; revisions listed under their API,
//! a revision number taken once).

use super::api;
use crate::model::{Api, Revision, VersionScheme, Versioning};
use crate::openapi::diff::ApiDiff;
use crate::store::{Repo, StoreError};

fn version(id: &str, label: &str, default: bool) -> Api {
    let mut api = api(id, "/pets", &[]);
    let scheme = VersionScheme::Header { header: "api-version".into(), default };
    api.versioning = Some(Versioning { set: "pets".into(), label: label.into(), scheme });
    api
}

fn revision(api_id: &str, number: u32) -> Revision {
    Revision {
        id: Revision::id_for(api_id, number),
        api_id: api_id.into(),
        number,
        version: format!("1.{number}"),
        note: None,
        openapi: serde_json::json!({"openapi": "3.1.0", "paths": {}}),
        diff: ApiDiff::default(),
        forced: false,
        created_by: "admin:test".into(),
        created_at: i64::from(number),
        published_at: Some(i64::from(number)),
    }
}

pub async fn versions_claim_their_label_and_revisions_list_under_their_api(repo: impl Repo) {
    repo.insert(&version("api_v1", "v1", true)).await.expect("v1, the default");
    repo.insert(&version("api_v2", "v2", false)).await.expect("v2 shares the base path");
    let twice = repo.insert(&version("api_v2b", "v2", false)).await;
    assert!(matches!(twice, Err(StoreError::Conflict(ref w)) if w.contains("v2")), "{twice:?}");
    let second_default = repo.insert(&version("api_v3", "v3", true)).await;
    assert!(matches!(second_default, Err(StoreError::Conflict(ref w)) if w.contains("default")), "{second_default:?}");

    for number in [1, 2, 3] {
        repo.insert(&revision("api_v1", number)).await.expect("a revision");
    }
    repo.insert(&revision("api_v2", 1)).await.expect("another API's revision 1");
    let taken = repo.insert(&revision("api_v1", 2)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "a number is taken once: {taken:?}");
    let listed: Vec<Revision> = repo.list(Some("api_v1")).await.expect("list");
    assert_eq!(listed.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(listed[1], revision("api_v1", 2), "a revision round-trips whole");
}
