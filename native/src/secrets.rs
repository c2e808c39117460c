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
    read_or_create(&data_dir.join(ADMIN_TOKEN_FILE), || format!("gha_{}", random_base62()))
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
        Ok(existing) if !existing.trim().is_empty() => return Ok(existing.trim().to_string()),
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
/// already exists is left as it is: it may be one the user chose and shares on purpose.
pub fn create_data_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes `path` an owner-only file, creating it empty when missing, without touching what it
/// holds. SQLite gives the `-wal` and `-shm` files it creates the database file's mode, so
/// calling this on the database before SQLite opens it keeps all three private.
pub fn private_file(path: &Path) -> io::Result<()> {
    restrict(&private_options().append(true).open(path)?)
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

    #[test]
    fn admin_token_is_created_once_and_kept_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = admin_token(dir.path()).expect("create");
        assert!(first.starts_with("gha_") && first.len() > 40);
        assert_eq!(admin_token(dir.path()).expect("read"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ADMIN_TOKEN_FILE)).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "token file must not be readable by others");
        }
    }
}
