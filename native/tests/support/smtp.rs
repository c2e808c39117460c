//! A real SMTP server on 127.0.0.1 for tests that receive mail: Python's aiosmtpd running
//! `portal-tests/smtp_server.py` (the server the portal's browser tests use), which stores
//! each message as decoded JSON in a mailbox folder. aiosmtpd comes from the venv that
//! `scripts/aiosmtpd-venv.sh` installs (`scripts/test.sh` runs it and passes its python in
//! `GATEHOUSE_AIOSMTPD_PYTHON`); a missing one fails the test with the command that installs
//! it, never skips it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    mailbox: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("GATEHOUSE_AIOSMTPD_PYTHON") {
        return PathBuf::from(p);
    }
    let cache = PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/gatehouse");
    let found = std::fs::read_dir(&cache).ok().into_iter().flatten().flatten().map(|e| e.path()).find(|p| {
        p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("aiosmtpd-")) && p.join("bin/python").exists()
    });
    found.map(|p| p.join("bin/python")).unwrap_or_else(|| {
        panic!("aiosmtpd is not installed: run scripts/aiosmtpd-venv.sh, or set GATEHOUSE_AIOSMTPD_PYTHON")
    })
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let (mailbox, port_file) = (dir.path().join("mailbox"), dir.path().join("smtp.port"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../portal-tests/smtp_server.py");
        let child = Command::new(python())
            .arg(script)
            .arg(&mailbox)
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let started = Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&port_file).ok().and_then(|p| p.trim().parse().ok()) {
                break port;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        };
        SmtpServer { child, port, mailbox, _dir: dir }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first: `{to, from, subject, text}`.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.mailbox)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().map(|f| serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
