//! `gatehouse apply` and `gatehouse revisions` against a running `gatehouse dev`: re-applying a
//! document that breaks a live API's callers fails, listing the breaking change and the app
//! that called it with its count, and changes nothing; `--force` goes ahead, and the
//! revisions are listed and diffed.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use std::time::{Duration, Instant};

use dev_process::{status_of, Dev};
use serde_json::json;

/// A config of one API answered by the gateway's mock, whose `Pet` has `fields`.
fn config(fields: &str, required: &str) -> String {
    format!(
        r##"apis:
  - name: CLI pets
    base_path: /cli-pets
    upstream: {{ url: "mock:" }}
    openapi:
      openapi: 3.0.3
      info: {{ title: CLI pets, version: "1" }}
      security: [ {{ key: [] }} ]
      paths:
        /pets/{{id}}:
          get:
            operationId: getPet
            parameters: [ {{ name: id, in: path, required: true, schema: {{ type: integer }} }} ]
            responses:
              "200":
                description: ok
                content: {{ application/json: {{ schema: {{ $ref: "#/components/schemas/Pet" }} }} }}
      components:
        securitySchemes: {{ key: {{ type: apiKey, in: header, name: X-API-Key }} }}
        schemas:
          Pet: {{ type: object, required: {required}, properties: {fields} }}
"##
    )
}

#[test]
fn a_breaking_apply_lists_its_callers_and_applies_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));
    let file = dir.path().join("gatehouse.yaml");
    let file_arg = file.to_str().unwrap();
    std::fs::write(&file, config("{ id: { type: integer }, name: { type: string } }", "[id, name]")).unwrap();
    dev.ok(&["apply", "-f", file_arg]);
    let apis = dev.admin_call("GET", "/v1/apis", None);
    let api = apis["items"].as_array().unwrap().iter().find(|a| a["name"] == "CLI pets").unwrap()["id"].clone();
    let api = api.as_str().unwrap().to_string();
    dev.ok(&["apis", "publish", &api]);

    let product = dev.admin_call("POST", "/v1/products", Some(json!({"name": "Pets", "items": [{"api_id": api}]})));
    let plan = dev.admin_call("POST", "/v1/plans", Some(json!({"name": "free", "product_id": product["id"]})));
    let developer = dev.admin_call("POST", "/v1/developers", Some(json!({"email": "c@example.com", "name": "C"})));
    let app = dev.admin_call("POST", "/v1/apps", Some(json!({"developer_id": developer["id"], "name": "Kennel"})));
    let app_id = app["id"].as_str().unwrap();
    let subscribe = json!({"product_id": product["id"], "plan_id": plan["id"]});
    dev.admin_call("POST", &format!("/v1/apps/{app_id}/subscriptions"), Some(subscribe));
    let key = dev.admin_call("POST", &format!("/v1/apps/{app_id}/keys"), Some(json!({"name": "k"})));
    let secret = key["secret"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(status_of(&format!("{}/cli-pets/pets/7", dev.gateway), Some(secret)), 200);
    }
    // Usage is saved every second; wait until both calls are stored.
    let deadline = Instant::now() + Duration::from_secs(20);
    while dev.admin_call("GET", &format!("/v1/usage?api_id={api}&group_by=total"), None)["items"][0]["requests"] != 2 {
        assert!(Instant::now() < deadline, "usage never stored");
        std::thread::sleep(Duration::from_millis(200));
    }

    std::fs::write(&file, config("{ id: { type: integer } }", "[id]")).unwrap();
    let refused = dev.cli(&["apply", "-f", file_arg]);
    assert!(!refused.ok, "{}", refused.stdout);
    let lines: Vec<&str> = refused.stderr.lines().collect();
    assert!(
        lines.contains(&"breaking: GET /pets/{id}: response 200 application/json: name: property removed"),
        "{}",
        refused.stderr
    );
    let callers = format!("called in the last 30 days: GET /pets/{{id}}: {app_id} Kennel (2 calls)");
    assert!(lines.contains(&callers.as_str()), "{}", refused.stderr);
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("error: The revision breaks existing callers") && last.ends_with("--force to publish anyway)")
    );
    let stored = dev.admin_call("GET", &format!("/v1/apis/{api}"), None);
    assert!(stored["openapi"]["components"]["schemas"]["Pet"]["properties"]["name"].is_object(), "nothing applied");

    dev.ok(&["apply", "-f", file_arg, "--force"]);
    let listed = dev.ok(&["revisions", "list", &api, "-o", "json"]).json();
    let rows: Vec<(u64, bool)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["number"].as_u64().unwrap(), r["live"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [(2, true), (1, false)]);
    let table = dev.ok(&["revisions", "list", &api]).stdout;
    assert!(table.starts_with("REVISION") && table.lines().count() == 3, "{table}");
    let diff = dev.ok(&["revisions", "diff", &api, "1"]).stdout;
    assert!(diff.contains("non_breaking") && diff.contains("property added"), "{diff}");
}
