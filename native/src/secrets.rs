//! Secrets the native binary keeps in its data dir: the admin token and the identity-signing
//! secret. Files are created once with owner-only permissions; only hashes of admin tokens are
//! given to the admin API, and nothing here is ever logged.
//!
//! The data dir itself is created owner-only (0700), and the SQLite files are made 0600 before
//! SQLite opens them ([`private_file`]): the store holds key hashes, the audit trail and usage,
//! which other local users have no business reading.

use std::io::{self, Write};
use std::path::Path;

use rand::RngCore;

pub const ADMIN_TOKEN_FILE: &str = "admin-token";
pub const IDENTITY_SECRET_FILE: &str = "identity-secret";
pub const DEMO_KEY_FILE: &str = "demo-key";

/// The admin token from the data dir, created on first use.
pub fn admin_token(data_dir: &Path) -> io::Result<String> {
    read_or_create(&data_dir.join(ADMIN_TOKEN_FILE), new_admin_token)
}

/// A fresh admin token: `gha_` and 256 random bits in base62.
pub fn new_admin_token() -> String {
    format!("gha_{}", random_base62())
}

/// The secret that signs the identity header sent upstream, created on first use.
pub fn identity_secret(data_dir: &Path) -> io::Result<String> {
    read_or_create(&data_dir.join(IDENTITY_SECRET_FILE), random_base62)
}

fn random_base62() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    gatehouse_core::keys::base62(&bytes)
}

fn read_or_create(path: &Path, make: impl FnOnce() -> String) -> io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(existing) if !existing.trim().is_empty() => {
            restrict(&std::fs::File::open(path)?)?; // one an older version wrote 0644
            return Ok(existing.trim().to_string());
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let value = make();
    write_private(path, &value)?;
    Ok(value)
}

/// Writes `value` to a file only the owner can read.
pub fn write_private(path: &Path, value: &str) -> io::Result<()> {
    let mut file = private_options().write(true).truncate(true).open(path)?;
    restrict(&file)?;
    file.write_all(value.as_bytes())?;
    file.write_all(b"\n")
}

/// Creates the data dir (and missing parents) readable by the owner only. A directory that
/// already exists is left as it is (it may be one the user chose, such as the current one),
/// with a warning when other users can enter it.
pub fn create_data_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        if std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
            tracing::warn!(data_dir = %dir.display(), "other users can open the data dir; `chmod 700` it");
        }
    }
    builder.create(dir)
}

/// Makes the SQLite database at `path` owner-only before SQLite opens it, creating it empty
/// when missing, without touching what it holds. SQLite gives the `-wal` and `-shm` files it
/// creates the database file's mode, so all three stay private; ones left by an older version
/// (0644) are tightened too.
pub fn private_database(path: &Path) -> io::Result<()> {
    restrict(&private_options().append(true).open(path)?)?;
    for suffix in ["-wal", "-shm"] {
        let mut sibling = path.as_os_str().to_owned();
        sibling.push(suffix);
        match std::fs::OpenOptions::new().read(true).open(Path::new(&sibling)) {
            Ok(file) => restrict(&file)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Create-if-missing options whose new files are born 0600 (never briefly wider).
fn private_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// 0600 on a file that may predate this version (created with the umask's 0644).
fn restrict(file: &std::fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn database_files_left_readable_by_an_older_version_are_made_private_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("gatehouse.db");
        for (name, content) in [("gatehouse.db", "db"), ("gatehouse.db-wal", "wal"), ("gatehouse.db-shm", "shm")] {
            let path = dir.path().join(name);
            std::fs::write(&path, content).expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        private_database(&db).expect("restrict");
        for (name, content) in [("gatehouse.db", "db"), ("gatehouse.db-wal", "wal"), ("gatehouse.db-shm", "shm")] {
            let path = dir.path().join(name);
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600, "{name}");
            assert_eq!(std::fs::read_to_string(&path).expect("read"), content, "{name} keeps its content");
        }
        let fresh = dir.path().join("fresh.db");
        private_database(&fresh).expect("create");
        assert_eq!(std::fs::metadata(&fresh).expect("meta").permissions().mode() & 0o777, 0o600);
        assert!(!dir.path().join("fresh.db-wal").exists(), "no empty -wal is made up");
    }

    #[test]
    fn admin_token_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = admin_token(dir.path()).expect("create");
        assert!(first.starts_with("gha_") && first.len() > 40);
        assert_eq!(admin_token(dir.path()).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(ADMIN_TOKEN_FILE);
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "token file must not be readable by others");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert_eq!(admin_token(dir.path()).expect("read"), first);
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "a token file an older version left readable is made private");
        }
    }
}
