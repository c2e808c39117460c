//! `gatehouse apis`: the imported APIs and their lifecycle (draft → published → deprecated →
//! retired). APIs are imported and edited with `gatehouse apply`; these commands list them,
//! move them through the lifecycle and delete drafts.

use clap::Subcommand;
use serde_json::Value;

use super::body::{object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every API.
    List,
    /// Show one API (`-o yaml` for its operations and document).
    Get { id: String },
    /// Serve a draft API at the gateway.
    Publish { id: String },
    /// Keep serving it, with `Deprecation`, `Sunset` and `Link` headers on every answer.
    Deprecate {
        id: String,
        /// RFC 3339 time from which the API is gone.
        #[arg(long)]
        sunset_at: Option<String>,
        /// URL of the version that replaces it.
        #[arg(long)]
        successor: Option<String>,
    },
    /// Answer `410 Gone` from now on.
    Retire {
        id: String,
        #[arg(long)]
        successor: Option<String>,
    },
    /// Delete a draft (a published API is retired instead).
    Delete { id: String },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("STATE", Cell::Field("/lifecycle/state")),
    ("BASE PATH", Cell::Field("/base_path")),
    ("OPERATIONS", Cell::With(|api| output::items(&api["operations"]).len().to_string())),
    ("NAME", Cell::Field("/name")),
];

async fn lifecycle(client: &AdminClient, id: &str, body: Value) -> Result<Value, CliError> {
    client.post(&format!("/v1/apis/{}/lifecycle", seg(id)), &body).await
}

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let one = |answer: Value| output::one(&answer, COLUMNS, format);
    match action {
        Action::List => output::list(&client.get("/v1/apis").await?, COLUMNS, format),
        Action::Get { id } => one(client.get(&format!("/v1/apis/{}", seg(&id))).await?),
        Action::Publish { id } => {
            one(lifecycle(client, &id, object(vec![("action", string(Some("publish".into())))])).await?)
        }
        Action::Deprecate { id, sunset_at, successor } => {
            let body = object(vec![
                ("action", string(Some("deprecate".into()))),
                ("sunset_at", string(sunset_at)),
                ("successor", string(successor)),
            ]);
            one(lifecycle(client, &id, body).await?)
        }
        Action::Retire { id, successor } => {
            let body = object(vec![("action", string(Some("retire".into()))), ("successor", string(successor))]);
            one(lifecycle(client, &id, body).await?)
        }
        Action::Delete { id } => {
            client.delete(&format!("/v1/apis/{}", seg(&id))).await?;
            println!("deleted {id}");
            Ok(())
        }
    }
}
