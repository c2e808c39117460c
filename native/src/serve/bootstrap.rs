//! `gatehouse admin bootstrap`: issues the first owner token of a `gatehouse serve` install.
//! The token is printed once; only its SHA-256 is stored (in the store's `admin_tokens`), so
//! nothing on disk can be replayed as a credential. Refused once a token has been issued.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_core::keys::hash_secret;

use crate::adapters::clock::now_millis;
use crate::cli::CliError;
use crate::store::SqliteRepo;

#[derive(Debug, Subcommand)]
pub enum AdminAction {
    /// Issue the first owner token: printed once on stdout, only its hash is stored.
    Bootstrap(BootstrapArgs),
}

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// The `gatehouse serve` config file; its `[store] dir` is where the hash goes.
    #[arg(long, short, env = "GATEHOUSE_CONFIG")]
    pub config: PathBuf,
}

pub async fn run(action: AdminAction) -> Result<(), CliError> {
    let AdminAction::Bootstrap(args) = action;
    let config = super::load(&args.config)?;
    let dir = &config.store.dir;
    crate::secrets::create_data_dir(dir)
        .map_err(|e| CliError::Usage(format!("cannot create the store dir {}: {e}", dir.display())))?;
    let repo = SqliteRepo::open(dir.join("gatehouse.db"))
        .map_err(|e| CliError::Usage(format!("cannot open the store in {}: {e}", dir.display())))?;
    let token = crate::secrets::new_admin_token();
    let hash = hash_secret(&token).as_hex().to_owned();
    let added = repo
        .add_first_admin_token_hash(hash, now_millis())
        .await
        .map_err(|e| CliError::Usage(format!("cannot store the token's hash: {e}")))?;
    if !added {
        return Err(CliError::Usage("an owner token was already issued for this store; bootstrap runs once".into()));
    }
    println!("{token}");
    eprintln!("This owner token is shown once and not stored; keep it in your secret store.");
    Ok(())
}
