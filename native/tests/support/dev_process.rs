//! `gatehouse dev` as a real process on ephemeral ports, and the CLI run against it, for the
//! tests of what a user types. (Included by path, so the in-process harness in `mod.rs` is not
//! compiled into these tests.)
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

pub struct Dev {
    child: Child,
    pub gateway: String,
    pub admin: String,
    pub data: PathBuf,
    /// Everything the process logged (at info), to check that no secret ever appears in it.
    pub log: Arc<Mutex<String>>,
}

/// What one CLI run printed.
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Dev {
    /// Starts `gatehouse dev` with its data in `data` and waits for the addresses it prints.
    pub fn start(data: &Path) -> Dev {
        Dev::start_with(data, &[])
    }

    /// [`Dev::start`] with more `dev` flags. The flush intervals are the defaults unless
    /// `extra` sets them (the environment's are removed).
    pub fn start_with(data: &Path, extra: &[&str]) -> Dev {
        // Under the usual umask (new files 0644, directories 0755), whatever this process has,
        // so a test of file modes sees what a user's shell would give.
        let mut child = Command::new("sh")
            .args(["-c", "umask 022 && exec \"$0\" \"$@\"", BIN])
            .args(["dev", "--gateway-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"])
            .args(["--demo-upstream-addr", "127.0.0.1:0"])
            .args(extra)
            .arg("--data-dir")
            .arg(data)
            .env("RUST_LOG", "info")
            .env_remove("GATEHOUSE_USAGE_FLUSH_SECS")
            .env_remove("GATEHOUSE_QUOTA_FLUSH_MS")
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
        // Keep draining stderr, so the child never blocks on a full pipe.
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        Dev { child, gateway: gateway.unwrap(), admin: admin.unwrap(), data: data.to_path_buf(), log }
    }

    /// The process id of `gatehouse dev` itself (the shell `exec`s it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// An admin API call with the token from the data dir, over curl; returns its JSON.
    pub fn admin_call(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
        let token = std::fs::read_to_string(self.data.join("admin-token")).unwrap();
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-H", &format!("Authorization: Bearer {}", token.trim())]);
        if let Some(body) = body {
            cmd.args(["-H", "content-type: application/json", "-d", &body.to_string()]);
        }
        let out = cmd.arg(format!("{}{path}", self.admin)).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{method} {path}: {out:?}"))
    }

    /// Runs `gatehouse <args>` against this instance.
    pub fn cli(&self, args: &[&str]) -> Ran {
        let out = Command::new(BIN)
            .args(args)
            .args(["--admin-url", &self.admin, "--data-dir"])
            .arg(&self.data)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Ran {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> Ran {
        let ran = self.cli(args);
        assert!(ran.ok, "gatehouse {args:?} failed: {}", ran.stderr);
        ran
    }

    /// Runs a command that must fail with a one-line error.
    pub fn fails(&self, args: &[&str]) -> String {
        let ran = self.cli(args);
        assert!(!ran.ok, "gatehouse {args:?} should fail: {}", ran.stdout);
        let err = ran.stderr.trim().to_string();
        assert!(err.starts_with("error: ") && err.lines().count() == 1, "one line on stderr: {err}");
        err
    }

    /// SIGTERM, as a service manager stops it; returns the exit status.
    pub fn stop(mut self) -> ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.child.kill().unwrap();
        panic!("gatehouse dev did not stop within 30 s of SIGTERM");
    }

    /// SIGKILL: the process gets no chance to save anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The status of a GET through the gateway, with an optional API key.
pub fn status_of(url: &str, key: Option<&str>) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url]);
    if let Some(k) = key {
        cmd.args(["-H", &format!("X-API-Key: {k}")]);
    }
    String::from_utf8_lossy(&cmd.output().unwrap().stdout).parse().unwrap_or(0)
}

impl Drop for Dev {
    /// A failed test must not leave the process running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
