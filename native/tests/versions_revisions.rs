//! Versions and revisions end to end over real HTTP on the native product (SQLite store):
//! a re-import that breaks live callers is refused with the apps that called the affected
//! operations and their counts, goes live only when forced, and every revision is kept;
//! versions of one API are served side by side by path and by header, each from its own
//! upstream.
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{assert_problem, onboard, Harness};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Pets v1: `GET /pets` (a list of `Pet`) and `GET /pets/{id}` (a `Pet` of id and name).
/// `pet_fields` replaces the `Pet` properties; `extra` is added to `paths`.
fn pets(pet_fields: Value, required: Value, extra: Value) -> Value {
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1.0.0"},
        "security": [{"key": []}],
        "paths": {
            "/pets": {"get": {"operationId": "listPets", "responses": {"200": {"description": "ok",
                "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}}},
            "/pets/{id}": {"get": {"operationId": "getPet",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}}}
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {"Pet": {"type": "object", "required": required, "properties": pet_fields}}
        }
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        doc["paths"][k] = v.clone();
    }
    doc
}

/// An affected operation as the refusal lists it: (operation id, calls, [(app id, calls)]).
type Affected = (String, u64, Vec<(String, u64)>);

fn pet_fields() -> Value {
    json!({"id": {"type": "integer"}, "name": {"type": "string"}})
}

async fn revisions(h: &Harness, api: &str) -> Vec<Value> {
    h.admin_ok("GET", &format!("/v1/apis/{api}/revisions"), Value::Null).await["items"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaking_reimport_is_refused_with_the_apps_that_called_it_and_goes_live_only_when_forced() {
    let up = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&up)
        .await;
    let h = Harness::start(false).await;
    let v1 = pets(pet_fields(), json!(["id", "name"]), json!({}));
    let body = json!({"openapi": v1, "base_path": "/pets", "upstream": {"url": up.uri()}});
    let api = h.admin_ok("POST", "/v1/apis", body).await["id"].as_str().unwrap().to_string();
    h.admin_ok("POST", &format!("/v1/apis/{api}/lifecycle"), json!({"action": "publish"})).await;
    let (app_a, _, key_a) = onboard(&h, &api, "a@example.com", json!([])).await;
    let (app_b, _, key_b) = onboard(&h, &api, "b@example.com", json!([])).await;
    for (key, gets, lists) in [(&key_a, 3, 1), (&key_b, 2, 0)] {
        for _ in 0..gets {
            assert_eq!(h.call("GET", "/pets/pets/7", Some(key)).await.status, 200);
        }
        for _ in 0..lists {
            assert_eq!(h.call("GET", "/pets/pets", Some(key)).await.status, 200);
        }
    }
    h.app.flush_usage().await;

    // `name` removed from every Pet: both operations break.
    let v2 = pets(json!({"id": {"type": "integer"}}), json!(["id"]), json!({}));
    let refused = h.admin("PATCH", &format!("/v1/apis/{api}"), Some(json!({"openapi": v2}))).await;
    let problem = assert_problem(&refused, 409, "/breaking-change");
    let codes: Vec<(&str, &str)> = problem["breaking_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["code"].as_str().unwrap(), c["path"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("response-property-removed", "/pets/{id}")), "{problem}");
    assert!(codes.contains(&("response-property-removed", "/pets")), "{problem}");
    let affected: Vec<Affected> = problem["affected_operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let apps = o["apps"].as_array().unwrap();
            let apps =
                apps.iter().map(|a| (a["app_id"].as_str().unwrap().to_string(), a["requests"].as_u64().unwrap()));
            (o["operation_id"].as_str().unwrap().to_string(), o["requests"].as_u64().unwrap(), apps.collect())
        })
        .collect();
    assert_eq!(
        affected,
        [
            ("listPets".to_string(), 1, vec![(app_a.clone(), 1)]),
            ("getPet".to_string(), 5, vec![(app_a.clone(), 3), (app_b.clone(), 2)]),
        ]
    );
    assert_eq!(problem["days"], 30);
    let stored = h.admin_ok("GET", &format!("/v1/apis/{api}"), Value::Null).await;
    assert!(stored["openapi"]["components"]["schemas"]["Pet"]["properties"]["name"].is_object(), "nothing changed");
    assert_eq!(revisions(&h, &api).await.len(), 1);

    // Forced: live, and recorded as revision 2 with its breaking changes.
    let body = json!({"openapi": v2, "note": "name moved to /pets/{id}/profile"});
    h.admin_ok("PATCH", &format!("/v1/apis/{api}?force=true"), body).await;
    let stored = h.admin_ok("GET", &format!("/v1/apis/{api}"), Value::Null).await;
    assert!(stored["openapi"]["components"]["schemas"]["Pet"]["properties"]["name"].is_null());
    let listed = revisions(&h, &api).await;
    assert_eq!(
        (listed[0]["number"].as_u64(), listed[0]["live"].as_bool(), listed[0]["forced"].as_bool()),
        (Some(2), Some(true), Some(true))
    );
    assert!(listed[0]["breaking"].as_u64().unwrap() >= 2);
    assert_eq!(listed[0]["note"], "name moved to /pets/{id}/profile");
    assert_eq!(listed[1]["live"], false);

    // A non-breaking re-import needs no force.
    let extra = json!({"/pets/{id}/profile": {"get": {"operationId": "getProfile",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "ok"}}}}});
    let v3 = pets(json!({"id": {"type": "integer"}}), json!(["id"]), extra);
    h.admin_ok("PATCH", &format!("/v1/apis/{api}"), json!({"openapi": v3})).await;
    assert_eq!(h.call("GET", "/pets/pets/7/profile", Some(&key_a)).await.status, 200, "the new operation is served");

    // Proposed, then published: the same guard.
    let v4 = pets(json!({"id": {"type": "integer"}}), json!(["id"]), json!({}));
    let proposed = h.admin_ok("POST", &format!("/v1/apis/{api}/revisions"), json!({"openapi": v4})).await;
    assert_eq!(proposed["revision"]["number"], 4);
    assert_eq!(proposed["against_live"]["changes"][0]["code"], "api-removed");
    assert_eq!(h.call("GET", "/pets/pets/7/profile", Some(&key_a)).await.status, 200, "a proposal is not served");
    let refused = h.admin("POST", &format!("/v1/apis/{api}/revisions/4/publish"), None).await;
    assert_problem(&refused, 409, "/breaking-change");
    h.admin_ok("POST", &format!("/v1/apis/{api}/revisions/4/publish?force=true"), Value::Null).await;
    assert_eq!(h.call("GET", "/pets/pets/7/profile", Some(&key_a)).await.status, 404);

    // Kept in the SQLite file across a restart.
    let h = h.restart().await;
    let numbers: Vec<u64> = revisions(&h, &api).await.iter().map(|r| r["number"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [4, 3, 2, 1]);
    let one = h.admin_ok("GET", &format!("/v1/apis/{api}/revisions/1"), Value::Null).await;
    assert!(one["revision"]["openapi"]["components"]["schemas"]["Pet"]["properties"]["name"].is_object());
}

/// A public `GET /pets` document, so calls need no key.
fn public_pets(version: &str) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": version},
        "paths": {"/pets": {"get": {"operationId": "listPets", "security": [], "responses": {"200": {"description": "ok"}}}}}
    })
}

async fn upstream(answer: &str) -> MockServer {
    let up = MockServer::start().await;
    let reply = ResponseTemplate::new(200).set_body_string(answer);
    Mock::given(method("GET")).and(path("/pets")).respond_with(reply).mount(&up).await;
    Mock::given(path_regex(".*")).respond_with(ResponseTemplate::new(599)).mount(&up).await;
    up
}

async fn version(h: &Harness, base: &str, up: &MockServer, label: &str, scheme: Value, publish: bool) -> Value {
    let versioning = json!({"set": "pets", "label": label, "scheme": scheme});
    let body = json!({"name": format!("Pets {label} {base}"), "openapi": public_pets(label), "base_path": base,
        "upstream": {"url": up.uri()}, "versioning": versioning});
    let reply = h.admin("POST", "/v1/apis", Some(body)).await;
    if reply.status == 201 && publish {
        let id = reply.json()["id"].as_str().unwrap().to_string();
        h.admin_ok("POST", &format!("/v1/apis/{id}/lifecycle"), json!({"action": "publish"})).await;
    }
    reply.json()
}

async fn get(h: &Harness, path: &str, version: Option<&str>) -> (u16, String) {
    let url = format!("http://{}{path}", h.app.gateway_addr);
    let headers: Vec<(&str, &str)> = version.map(|v| vec![("api-version", v)]).unwrap_or_default();
    let reply = h.send("GET", &url, &headers, Bytes::new()).await;
    (reply.status, String::from_utf8_lossy(&reply.body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_served_side_by_side_by_path_and_by_header_each_from_its_own_upstream() {
    let (up1, up2) = (upstream("from v1").await, upstream("from v2").await);
    let h = Harness::start(false).await;

    version(&h, "/by-path/v1", &up1, "v1", json!({"by": "path"}), true).await;
    version(&h, "/by-path/v2", &up2, "v2", json!({"by": "path"}), true).await;
    assert_eq!(get(&h, "/by-path/v1/pets", None).await, (200, "from v1".into()));
    assert_eq!(get(&h, "/by-path/v2/pets", Some("v1")).await, (200, "from v2".into()), "the path decides");

    let header = |default: bool| json!({"by": "header", "header": "api-version", "default": default});
    version(&h, "/by-header", &up1, "v1", header(true), true).await;
    version(&h, "/by-header", &up2, "v2", header(false), true).await;
    assert_eq!(get(&h, "/by-header/pets", Some("v2")).await, (200, "from v2".into()));
    assert_eq!(get(&h, "/by-header/pets", Some("v1")).await, (200, "from v1".into()));
    assert_eq!(get(&h, "/by-header/pets", None).await, (200, "from v1".into()), "the default answers without it");
    let (status, body) = get(&h, "/by-header/pets", Some("v9")).await;
    assert_eq!(status, 404);
    assert!(body.contains("version header"), "{body}");

    // A draft version is not served; a second default or a label taken twice is refused.
    version(&h, "/by-header", &up2, "v3", header(false), false).await;
    assert_eq!(get(&h, "/by-header/pets", Some("v3")).await.0, 404);
    let clash = version(&h, "/by-header", &up2, "v4", header(true), false).await;
    assert_eq!(clash["status"], 409, "{clash}");
    let clash = version(&h, "/by-header", &up2, "v2", header(false), false).await;
    assert_eq!(clash["status"], 409, "{clash}");
    let bad = version(&h, "/by-header", &up2, "v 5", json!({"by": "header", "header": "Api Version"}), false).await;
    let pointers: Vec<&str> =
        bad["errors"].as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/versioning/label", "/versioning/scheme/header"]);
}
