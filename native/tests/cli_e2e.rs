//! The `gatehouse` binary as a user runs it: `gatehouse dev` as a real process, the CLI
//! commands against its admin API, and a clean shutdown by SIGTERM that loses no usage.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

struct Dev {
    child: Child,
    gateway: String,
    admin: String,
    /// Everything the process logged, to check that no secret ever appears in it.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

/// Starts `gatehouse dev` on ephemeral ports and waits for the addresses it prints.
fn start_dev(data_dir: &Path) -> Dev {
    let mut child = Command::new(BIN)
        .args([
            "dev",
            "--gateway-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
            "--demo-upstream-addr",
            "127.0.0.1:0",
        ])
        .args(["--usage-flush-secs", "3600", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut gateway, mut admin) = (None, None);
    while gateway.is_none() || admin.is_none() {
        let line = lines.next().expect("gatehouse dev exited before printing its addresses").unwrap();
        let url =
            |prefix: &str| line.strip_prefix(prefix).map(|r| r.split_whitespace().next().unwrap_or("").to_string());
        gateway = gateway.or_else(|| url("gateway   "));
        admin = admin.or_else(|| url("admin API ").map(|u| u.trim_end_matches("/v1").to_string()));
    }
    // Keep draining stderr so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = std::sync::Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    Dev { child, gateway: gateway.unwrap(), admin: admin.unwrap(), log }
}

impl Dev {
    fn cli(&self, data_dir: &Path, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(BIN)
            .args(args)
            .args(["--admin-url", &self.admin, "--data-dir"])
            .arg(data_dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
    }

    /// Stops the process the way a service manager does and returns its exit status.
    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill().unwrap();
        panic!("gatehouse dev did not stop within 10 s of SIGTERM");
    }
}

fn get(url: &str, key: Option<&str>) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url]);
    if let Some(k) = key {
        cmd.args(["-H", &format!("X-API-Key: {k}")]);
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).parse().unwrap_or(0)
}

fn admin_json(dev: &Dev, data_dir: &Path, path: &str) -> serde_json::Value {
    let token = std::fs::read_to_string(data_dir.join("admin-token")).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-H", &format!("Authorization: Bearer {}", token.trim()), &format!("{}{path}", dev.admin)])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
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
    let (ok, out, err) = dev.cli(&data, &["apply", "-f", config]);
    assert!(ok, "{err}");
    assert!(out.contains("apis: 1 created"), "{out}");
    let (ok, out, _) = dev.cli(&data, &["apply", "-f", config]);
    assert!(ok && out.contains("apis: 0 created, 0 updated, 1 unchanged"), "{out}");
    let (ok, out, _) = dev.cli(&data, &["export"]);
    assert!(ok && out.contains("name: Petstore") && out.contains("base_path: /petstore"), "{out}");

    // Keys: create prints the secret once on stdout; rotate keeps the old key for the grace
    // period; revoke stops a key at once.
    let apps = admin_json(&dev, &data, "/v1/apps");
    let app = apps["items"][0]["id"].as_str().unwrap().to_string();
    let (ok, secret, err) = dev.cli(&data, &["keys", "create", "--app", &app, "--name", "ci"]);
    assert!(ok, "{err}");
    let secret = secret.trim().to_string();
    assert!(secret.starts_with("gh_live_"), "{secret}");
    assert!(!err.contains(&secret), "the secret goes to stdout only");
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 200);
    let (ok, listing, _) = dev.cli(&data, &["keys", "list", "--app", &app]);
    assert!(ok && listing.contains("gh_live_") && !listing.contains(&secret), "{listing}");
    let key_id = admin_json(&dev, &data, &format!("/v1/apps/{app}/keys"))["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "ci")
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap();
    let (ok, rotated, err) = dev.cli(&data, &["keys", "rotate", &key_id, "--grace-secs", "60"]);
    assert!(ok, "{err}");
    let rotated = rotated.lines().next().unwrap().trim().to_string();
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&rotated)), 200);
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 200, "old key works during grace");
    let (ok, _, err) = dev.cli(&data, &["keys", "revoke", &key_id]);
    assert!(ok, "{err}");
    assert_eq!(get(&format!("{}/demo/hello", dev.gateway), Some(&secret)), 401);

    // Bad input: one line on stderr and a non-zero exit.
    let (ok, _, err) = dev.cli(&data, &["keys", "revoke", "key_doesnotexist"]);
    assert!(!ok && err.trim().lines().count() == 1 && err.starts_with("error: "), "{err}");
    let (ok, _, err) = dev.cli(&data, &["apply", "-f", "/nonexistent.yaml"]);
    assert!(!ok && err.contains("cannot read /nonexistent.yaml"), "{err}");
    let (ok, _, err) = dev.cli(&data, &["export", "--token", "wrong"]);
    assert!(!ok && err.trim().lines().count() == 1, "{err}");

    // SIGTERM: a clean exit that flushes usage (the timer flush is an hour away).
    let log = std::sync::Arc::clone(&dev.log);
    let status = dev.terminate();
    std::thread::sleep(Duration::from_millis(200));
    let log = log.lock().unwrap().clone();
    assert!(log.contains("gatehouse stopped; usage flushed"), "{log}");
    let token = std::fs::read_to_string(data.join("admin-token")).unwrap();
    for secret in [demo_key.as_str(), secret.as_str(), rotated.as_str(), token.trim()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    assert!(status.success(), "{status:?}");
    let dev = start_dev(&data);
    let (ok, report, err) = dev.cli(&data, &["usage", "--group-by", "total"]);
    assert!(ok, "{err}");
    let total: u64 = report.lines().nth(1).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap();
    assert_eq!(total, 7, "3 demo calls + 2 new key + 1 rotated + 1 revoked:\n{report}");
    assert!(dev.terminate().success());
}
