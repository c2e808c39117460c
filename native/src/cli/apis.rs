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
    /// Validation at the gateway (docs/validation.md): check requests against the API's
    /// document before the upstream sees them, log responses that do not match. Prints the
    /// API's validation settings after the change.
    Validation {
        id: String,
        /// Check requests: `on` or `off`.
        #[arg(long, value_parser = ["on", "off"])]
        requests: Option<String>,
        /// Response schema mismatches: `off` or `log`.
        #[arg(long, value_parser = ["off", "log"])]
        responses: Option<String>,
        /// Change this operation's override (its operationId) rather than the API's default.
        #[arg(long)]
        operation: Option<String>,
        /// With --operation: drop its override, so it follows the API again.
        #[arg(long, requires = "operation")]
        inherit: bool,
    },
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
        Action::Validation { id, requests, responses, operation, inherit } => {
            let path = format!("/v1/apis/{}", seg(&id));
            let api = client.get(&path).await?;
            let mut settings = api.get("validation").cloned().unwrap_or_else(|| serde_json::json!({}));
            let target = match &operation {
                Some(op) if inherit => {
                    if let Some(ops) = settings.get_mut("operations").and_then(Value::as_object_mut) {
                        ops.remove(op);
                    }
                    None
                }
                Some(op) => Some(&mut settings["operations"][op.as_str()]),
                None => Some(&mut settings),
            };
            if let Some(target) = target {
                if let Some(requests) = requests {
                    target["requests"] = Value::Bool(requests == "on");
                }
                if let Some(responses) = responses {
                    target["responses"] = Value::String(responses);
                }
            }
            let answer = client.patch(&path, &serde_json::json!({ "validation": settings })).await?;
            let settings = answer.get("validation").cloned().unwrap_or_else(|| serde_json::json!({}));
            output::raw(&settings, if format == Format::Table { Format::Yaml } else { format })
        }
        Action::Callers { id, days } => {
            callers(&client.get(&format!("/v1/apis/{}/callers?days={days}", seg(&id))).await?, format)
        }
    }
}
