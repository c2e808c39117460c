//! `gatehouse apis validation` against a running `gatehouse dev`: turns request checks on for
//! an API, off for one operation, back to the API's setting, and refuses an operation the
//! document does not have with a one-line message and a non-zero exit.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::Dev;
use serde_json::json;

#[test]
fn the_cli_sets_validation_per_api_and_per_operation() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));
    let apis = dev.ok(&["apis", "list", "-o", "json"]).json();
    let demo = apis["items"][0]["id"].as_str().unwrap().to_string();
    let api = dev.ok(&["apis", "get", &demo, "-o", "json"]).json();
    assert_eq!(api.get("validation"), None, "off by default");
    let op = api["operations"][0]["id"].as_str().unwrap().to_string();

    let on = dev.ok(&["apis", "validation", &demo, "--requests", "on", "--responses", "log", "-o", "json"]).json();
    assert_eq!(on, json!({"requests": true, "responses": "log"}));
    let off = dev.ok(&["apis", "validation", &demo, "--operation", &op, "--requests", "off", "-o", "json"]).json();
    assert_eq!(off["operations"][&op], json!({"requests": false}), "{off}");
    assert_eq!(off["requests"], true, "the API's own setting is kept");
    let shown = dev.ok(&["apis", "validation", &demo]).stdout;
    assert!(shown.contains("requests: true") && shown.contains(&op), "YAML by default: {shown}");

    let refused = dev.fails(&["apis", "validation", &demo, "--operation", "noSuchOperation", "--requests", "on"]);
    assert!(refused.contains("/validation/operations/noSuchOperation"), "{refused}");
    assert_eq!(refused.trim().lines().count(), 1, "{refused}");

    let inherited = dev.ok(&["apis", "validation", &demo, "--operation", &op, "--inherit", "-o", "json"]).json();
    assert_eq!(inherited, json!({"requests": true, "responses": "log"}));
    let stored = dev.ok(&["apis", "get", &demo, "-o", "json"]).json();
    assert_eq!(stored["validation"], inherited, "what the CLI printed is what the API holds");
    dev.stop();
}
