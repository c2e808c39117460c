//! The `gatehouse` binary as a user runs it: `gatehouse dev` as a real process, the CLI
//! commands against its admin API, and a clean shutdown by SIGTERM that loses no usage.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::{status_of as get, Dev};

/// Starts `gatehouse dev` with the timer flush an hour away, so only a shutdown flushes usage.
fn start_dev(data: &Path) -> Dev {
    Dev::start_with(data, &["--usage-flush-secs", "3600"])
}

fn run(dev: &Dev, args: &[&str]) -> (bool, String, String) {
    let ran = dev.cli(args);
    (ran.ok, ran.stdout, ran.stderr)
}

#[test]
fn cli_manages_config_and_keys_and_usage_survives_a_clean_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let dev = start_dev(&data);

    // First run: the demo answers with the key written to the data dir.
    let demo_key = std::fs::read_to_string(data.join("demo-key")).unwrap().trim().to_string();
    for _ in 0..3 {
        assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&demo_key)), 200);
    }

    // apply is an idempotent upsert; export round-trips.
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/petstore/gatehouse.yaml");
    let config = config.to_str().unwrap();
    let (ok, out, err) = run(&dev, &["apply", "-f", config]);
    assert!(ok, "{err}");
    assert!(out.contains("apis: 1 created"), "{out}");
    let (ok, out, _) = run(&dev, &["apply", "-f", config]);
    assert!(ok && out.contains("apis: 0 created, 0 updated, 1 unchanged"), "{out}");
    let (ok, out, _) = run(&dev, &["export"]);
    assert!(ok && out.contains("name: Petstore") && out.contains("base_path: /petstore"), "{out}");

    // Keys: create prints the secret once on stdout; rotate keeps the old key for the grace
    // period; revoke stops a key at once.
    let apps = dev.admin_call("GET", "/v1/apps", None);
    let app = apps["items"][0]["id"].as_str().unwrap().to_string();
    let (ok, secret, err) = run(&dev, &["keys", "create", "--app", &app, "--name", "ci"]);
    assert!(ok, "{err}");
    let secret = secret.trim().to_string();
    assert!(secret.starts_with("gh_live_"), "{secret}");
    assert!(!err.contains(&secret), "the secret goes to stdout only");
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 200);
    let (ok, listing, _) = run(&dev, &["keys", "list", "--app", &app]);
    assert!(ok && listing.contains("gh_live_") && !listing.contains(&secret), "{listing}");
    let key_id = dev.admin_call("GET", &format!("/v1/apps/{app}/keys"), None)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap();
    let (ok, rotated, err) = run(&dev, &["keys", "rotate", &key_id, "--grace-secs", "60"]);
    assert!(ok, "{err}");
    let rotated = rotated.lines().next().unwrap().trim().to_string();
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&rotated)), 200);
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 200, "old key works during grace");
    let (ok, _, err) = run(&dev, &["keys", "revoke", &key_id]);
    assert!(ok, "{err}");
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 401);

    // Bad input: one line on stderr and a non-zero exit.
    let (ok, _, err) = run(&dev, &["keys", "revoke", "key_doesnotexist"]);
    assert!(!ok && err.trim().lines().count() == 1 && err.starts_with("error: "), "{err}");
    let (ok, _, err) = run(&dev, &["apply", "-f", "/nonexistent.yaml"]);
    assert!(!ok && err.contains("cannot read /nonexistent.yaml"), "{err}");
    let (ok, _, err) = run(&dev, &["export", "--token", "wrong"]);
    assert!(!ok && err.trim().lines().count() == 1, "{err}");

    // SIGTERM: a clean exit that flushes usage (the timer flush is an hour away).
    let log = std::sync::Arc::clone(&dev.log);
    let status = dev.stop();
    std::thread::sleep(Duration::from_millis(200));
    let log = log.lock().unwrap().clone();
    assert!(log.contains("gatehouse stopped; usage flushed"), "{log}");
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap();
    for secret in [demo_key.as_str(), secret.as_str(), rotated.as_str(), token.trim()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    assert!(status.success(), "{status:?}");
    let dev = start_dev(&data);
    let (ok, report, err) = run(&dev, &["usage", "--group-by", "total"]);
    assert!(ok, "{err}");
    let total: u64 = report.lines().nth(1).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap();
    assert_eq!(total, 7, "3 demo calls + 2 new key + 1 rotated + 1 revoked:\n{report}");
    assert!(dev.stop().success());
}
