//! `gatehouse keys`: issue (the secret is shown once), list, show, rotate, disable, enable and
//! revoke API keys. Keys are not edited: a key's name and limits are set when it is issued.

use clap::Subcommand;
use serde_json::{json, Value};

use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create a key for an app; the secret is printed once, alone on stdout.
    Create {
        /// The app's id.
        #[arg(long)]
        app: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an app's keys (never their secrets).
    List {
        /// The app's id.
        #[arg(long)]
        app: String,
    },
    /// Show one key (never its secret).
    Get { key_id: String },
    /// Revoke a key at once; revocation is final.
    Revoke { key_id: String },
    /// Stop a key until it is enabled again.
    Disable { key_id: String },
    /// Let a disabled key work again.
    Enable { key_id: String },
    /// Issue a new key; the old one keeps working for the grace period.
    Rotate {
        key_id: String,
        /// Seconds the old key stays valid.
        #[arg(long, default_value_t = 86_400)]
        grace_secs: u64,
    },
}

/// The id comes first: scripts take it with `awk 'NR==2 {print $1}'`.
pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("STATUS", Cell::Field("/status")),
    ("KEY", Cell::With(masked)),
    ("LAST USED", Cell::With(last_used)),
    ("NAME", Cell::Field("/name")),
];

fn masked(key: &Value) -> String {
    format!("{}…{}", output::text(&key["prefix"]), output::text(&key["last4"]))
}

fn last_used(key: &Value) -> String {
    key.get("last_used_at").filter(|v| !v.is_null()).map_or("never".to_string(), output::text)
}

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let one = |answer: Value| output::one(&answer, COLUMNS, format);
    match action {
        Action::Create { app, name } => {
            let created = client.post(&format!("/v1/apps/{}/keys", seg(&app)), &json!({ "name": name })).await?;
            new_key(&created, format)
        }
        Action::List { app } => {
            output::list(&client.get(&format!("/v1/apps/{}/keys", seg(&app))).await?, COLUMNS, format)
        }
        Action::Get { key_id } => one(client.get(&format!("/v1/keys/{}", seg(&key_id))).await?),
        Action::Revoke { key_id } => status(client, &key_id, "revoke", "revoked", format).await,
        Action::Disable { key_id } => status(client, &key_id, "disable", "disabled", format).await,
        Action::Enable { key_id } => status(client, &key_id, "enable", "enabled", format).await,
        Action::Rotate { key_id, grace_secs } => {
            let path = format!("/v1/keys/{}/rotate", seg(&key_id));
            let rotated = client.post(&path, &json!({ "grace_secs": grace_secs })).await?;
            new_key(&rotated, format)?;
            eprintln!("the old key {key_id} keeps working for {grace_secs} s");
            Ok(())
        }
    }
}

async fn status(client: &AdminClient, key_id: &str, action: &str, done: &str, format: Format) -> Result<(), CliError> {
    let key = client.post(&format!("/v1/keys/{}/{action}", seg(key_id)), &Value::Null).await?;
    match format {
        Format::Table => println!("{done} {key_id}"),
        _ => output::raw(&key, format)?,
    }
    Ok(())
}

/// In a table the secret goes to stdout once, alone on its line, so a script can capture it;
/// JSON and YAML print the whole answer, secret included.
fn new_key(created: &Value, format: Format) -> Result<(), CliError> {
    if format != Format::Table {
        return output::raw(created, format);
    }
    eprintln!("key {} created; store the secret now, it is not shown again:", output::text(&created["key"]["id"]));
    println!("{}", output::text(&created["secret"]));
    Ok(())
}
