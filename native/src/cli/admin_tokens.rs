//! `gatehouse admin-tokens`: the admin tokens of named principals, each with a role (owners
//! only): create (the secret printed once), list (never secrets or hashes), revoke.

use clap::Subcommand;
use serde_json::Value;

use super::body::{object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every admin token (revoked ones too, marked).
    List,
    /// Create a token for a principal; the secret is printed once, alone on stdout.
    Create {
        /// The principal, as the audit trail names it (letters, digits, '.', '-', '_', '@').
        #[arg(long)]
        name: String,
        /// owner, api-admin, approver or viewer.
        #[arg(long)]
        role: String,
    },
    /// Revoke a token (final); the reason goes to the audit trail.
    Revoke {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("NAME", Cell::Field("/name")),
    ("ROLE", Cell::Field("/role")),
    ("LAST4", Cell::Field("/last4")),
    ("CREATED", Cell::Field("/created_at")),
    ("REVOKED", Cell::Field("/revoked_at")),
];

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    match action {
        Action::List => output::list(&client.get("/v1/admin-tokens").await?, COLUMNS, format),
        Action::Create { name, role } => {
            let body = object(vec![("name", string(Some(name))), ("role", string(Some(role)))]);
            new_token(&client.post("/v1/admin-tokens", &body).await?, format)
        }
        Action::Revoke { id, reason } => {
            let body = object(vec![("reason", string(reason))]);
            let revoked = client.post(&format!("/v1/admin-tokens/{}/revoke", seg(&id)), &body).await?;
            output::one(&revoked, COLUMNS, format)
        }
    }
}

/// In a table the secret goes to stdout once, alone on its line, so a script can capture it;
/// JSON and YAML print the whole answer, secret included.
fn new_token(created: &Value, format: Format) -> Result<(), CliError> {
    if format != Format::Table {
        return output::raw(created, format);
    }
    let token = &created["token"];
    let (id, name, role) = (output::text(&token["id"]), output::text(&token["name"]), output::text(&token["role"]));
    eprintln!("token {id} for {name} ({role}) created; store the secret now, it is not shown again:");
    println!("{}", output::text(&created["secret"]));
    Ok(())
}
