//! Who still calls an API, from stored usage: the list the retirement banners and the
//! deprecation email are built from.
#![allow(clippy::unwrap_used)]

mod common;

use common::{assert_problem, text, Harness, START};
use gatehouse_core::store::Repo;
use gatehouse_core::time::DAY;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::json;

fn calls(minute: i64, api: &str, app: &str, developer: &str, requests: u64) -> Rollup {
    let key = RollupKey {
        minute: minute - minute.rem_euclid(60_000),
        api_id: api.into(),
        operation_id: "op".into(),
        key_id: format!("key_{app}"),
        app_id: app.into(),
        developer_id: developer.into(),
    };
    Rollup { key, values: RollupValues { requests, ..RollupValues::default() } }
}

/// A developer with one app; returns (developer id, app id).
async fn developer(h: &Harness, email: &str, app: &str) -> (String, String) {
    let dev = h.call("POST", "/v1/developers", Some(json!({"email": email, "name": email}))).await;
    let dev = text(&dev.body["id"]);
    let app = h.call("POST", &format!("/v1/developers/{dev}/apps"), Some(json!({"name": app}))).await;
    (dev, text(&app.body["id"]))
}

#[tokio::test]
async fn callers_are_the_developers_whose_apps_called_the_api_in_the_window_most_calls_first() {
    let h = Harness::new();
    let api = text(&h.pets_api().await.body["id"]);
    let (ann, ann_app) = developer(&h, "ann@x.io", "Ann's dashboard").await;
    let (bob, bob_app) = developer(&h, "bob@x.io", "Bob's bot").await;
    let (cid, cid_app) = developer(&h, "cid@x.io", "Cid's old app").await;
    h.repo
        .add_rollups(&[
            calls(START - DAY, &api, &ann_app, &ann, 1_200),
            calls(START, &api, &ann_app, &ann, 34),
            calls(START - 2 * DAY, &api, &bob_app, &bob, 5_000),
            calls(START - DAY, "api_other", &bob_app, &bob, 9),
            calls(START - 40 * DAY, &api, &cid_app, &cid, 7),
        ])
        .await
        .unwrap();
    let week = h.call("GET", &format!("/v1/apis/{api}/callers?days=7"), None).await;
    assert_eq!(week.status, 200, "{:?}", week.body);
    let items = week.body["items"].as_array().unwrap();
    let got: Vec<(&str, &str, u64)> = items
        .iter()
        .map(|c| {
            (c["email"].as_str().unwrap(), c["apps"][0]["name"].as_str().unwrap(), c["requests"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, [("bob@x.io", "Bob's bot", 5_000), ("ann@x.io", "Ann's dashboard", 1_234)]);
    assert_eq!(week.body["days"], 7);
    let default = h.call("GET", &format!("/v1/apis/{api}/callers"), None).await;
    assert_eq!(default.body["days"], 30);
    assert_eq!(default.body["items"].as_array().unwrap().len(), 2, "Cid's calls are 40 days old");
    let long = h.call("GET", &format!("/v1/apis/{api}/callers?days=60"), None).await;
    assert_eq!(long.body["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn callers_take_a_bounded_window_of_a_known_api() {
    let h = Harness::new();
    let api = text(&h.pets_api().await.body["id"]);
    for days in ["0", "401", "x"] {
        assert_problem(
            &h.call("GET", &format!("/v1/apis/{api}/callers?days={days}"), None).await,
            422,
            "validation-failed",
        );
    }
    assert_problem(&h.call("GET", "/v1/apis/api_nope/callers", None).await, 404, "not-found");
}
