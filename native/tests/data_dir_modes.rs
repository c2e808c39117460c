//! `gatehouse dev` on a fresh data dir keeps what it writes private: the directory is 0700 and
//! the SQLite database (with its -wal and -shm), the admin token, the demo key and the
//! identity secret are 0600, whatever the umask would have given them.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::Dev;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn a_fresh_start_creates_the_data_dir_0700_and_its_files_0600() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = root.path().join("new").join("data");
    // `Dev::start` runs it under umask 022, and returns once the admin address is printed:
    // the store is open, the demo seeded and both ports listen, so every file exists by then.
    let dev = Dev::start(&data_dir);

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

    assert!(dev.stop().success());
}
