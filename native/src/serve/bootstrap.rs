//! `gatehouse admin bootstrap`: issues the first owner token of a `gatehouse serve` install.
//! The token is printed once; only its SHA-256 is stored, as the `owner` principal's admin
//! token (the same record `POST /v1/admin-tokens` writes, so it is listed and revocable
//! there), so nothing on disk can be replayed as a credential. Refused once an owner token
//! exists (or a hash from before named principals is in the store's `admin_tokens` table).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use gatehouse_core::ids::{new_id, IdKind};
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{valid_principal_name, AdminToken, Role};
use gatehouse_core::store::{AuditEntry, Repo, Write};
use rand::RngCore;

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
    /// The owner's name, as the audit trail will show it.
    #[arg(long, default_value = "owner")]
    pub name: String,
}

pub async fn run(action: AdminAction) -> Result<(), CliError> {
    let AdminAction::Bootstrap(args) = action;
    let config = super::load(&args.config)?;
    let dir = &config.store.dir;
    crate::secrets::create_data_dir(dir)
        .map_err(|e| CliError::Usage(format!("cannot create the store dir {}: {e}", dir.display())))?;
    let repo = SqliteRepo::open(dir.join("gatehouse.db"))
        .map_err(|e| CliError::Usage(format!("cannot open the store in {}: {e}", dir.display())))?;
    if !valid_principal_name(&args.name) {
        return Err(CliError::Usage("--name: 1 to 64 letters, digits, '.', '-', '_' or '@'".into()));
    }
    let fail = |e: gatehouse_core::store::StoreError| CliError::Usage(format!("cannot store the token's hash: {e}"));
    let legacy = repo.admin_token_hashes().await.map_err(fail)?;
    let owners = repo.list::<AdminToken>(None).await.map_err(fail)?;
    if !legacy.is_empty() || owners.iter().any(|t| t.live() && t.role == Role::Owner) {
        return Err(CliError::Usage("an owner token was already issued for this store; bootstrap runs once".into()));
    }
    let token = crate::secrets::new_admin_token();
    let record = owner_token(&args.name, &token);
    let entry = AuditEntry::new(now_millis(), "bootstrap", "admin_token.create", vec![record.id.clone()]);
    repo.transact(vec![Write::insert(&record).map_err(fail)?]).await.map_err(fail)?;
    repo.append_audit(&entry).await.map_err(fail)?;
    println!("{token}");
    eprintln!("This owner token is shown once and not stored; keep it in your secret store.");
    Ok(())
}

/// The owner token record for `secret`: its hash and last four characters only.
fn owner_token(name: &str, secret: &str) -> AdminToken {
    let mut random = [0u8; 16];
    rand::rng().fill_bytes(&mut random);
    AdminToken {
        id: new_id(IdKind::AdminToken, &random),
        name: name.to_owned(),
        role: Role::Owner,
        hash: hash_secret(secret).as_hex().to_owned(),
        last4: secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect(),
        created_at: now_millis(),
        created_by: "bootstrap".into(),
        revoked_at: None,
    }
}
