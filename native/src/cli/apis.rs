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
    /// Who still calls the API: developers whose apps called it lately, with call counts.
    Callers {
        id: String,
        /// The last this many days (1 to 400).
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
}

/// One row per (developer, app) that called the API.
const CALLER_COLUMNS: &[Column] = &[
    ("DEVELOPER", Cell::Field("/developer_id")),
    ("EMAIL", Cell::Field("/email")),
    ("CALLS", Cell::Field("/requests")),
    ("APP", Cell::Field("/app")),
];

/// The callers answer as a table: one row per app, under its developer.
fn callers(answer: &Value, format: Format) -> Result<(), CliError> {
    if format != Format::Table {
        return output::raw(answer, format);
    }
    let rows: Vec<Value> = output::items(answer)
        .iter()
        .flat_map(|dev| {
            output::items(&dev["apps"]).into_iter().map(move |app| {
                let app_name = format!("{} ({})", output::text(&app["name"]), output::text(&app["id"]));
                serde_json::json!({"developer_id": dev["developer_id"], "email": dev["email"],
                    "requests": app["requests"], "app": app_name})
            })
        })
        .collect();
    output::list(&Value::Array(rows), CALLER_COLUMNS, format)
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
        Action::Callers { id, days } => {
            callers(&client.get(&format!("/v1/apis/{}/callers?days={days}", seg(&id))).await?, format)
        }
    }
}
