//! `gatehouse dev` on a fresh data dir keeps what it writes private: the directory is 0700 and
//! the SQLite database (with its -wal and -shm), the admin token, the demo key and the
//! identity secret are 0600, whatever the umask would have given them.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn a_fresh_start_creates_the_data_dir_0700_and_its_files_0600() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("new").join("data");
    // Under the usual umask, which would make new files 0644 and directories 0755.
    let mut child = Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\"", BIN])
        .args(["dev", "--gateway-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"])
        .args(["--demo-upstream-addr", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // The admin address is printed once the store is open, the demo seeded and both ports
    // listen: every file exists by then.
    while !lines.next().expect("gatehouse dev exited early").unwrap().starts_with("admin API ") {}

    assert_eq!(mode(&data_dir), 0o700, "data dir");
    for file in ["gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "admin-token", "demo-key", "identity-secret"] {
        assert_eq!(mode(&data_dir.join(file)), 0o600, "{file}");
    }
    let mut others: Vec<String> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| mode(&e.path()) & 0o077 != 0)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    others.sort();
    assert_eq!(others, Vec::<String>::new(), "files others can read");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("gatehouse dev did not stop within 10 s of SIGTERM");
}
