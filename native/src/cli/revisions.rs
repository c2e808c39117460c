//! `gatehouse revisions`: every document imported for an API (the changelog), what a revision
//! changes against the live one, proposing one, and publishing it. A refusal for breaking
//! changes lists each change and the apps that called the affected operations, one per line
//! on stderr, before the usual one-line error.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{json, Value};

use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// The API's revisions, newest first, with their breaking and other changes.
    List { api: String },
    /// What revision NUMBER changes against the API's live document.
    Diff { api: String, number: u32 },
    /// Import a document as a new revision without serving it; shows what it would change.
    Propose {
        api: String,
        /// The OpenAPI document (JSON or YAML).
        #[arg(long, short)]
        file: PathBuf,
        /// What changed, for the changelog.
        #[arg(long)]
        note: Option<String>,
    },
    /// Serve revision NUMBER's document; refused when it breaks callers of a live API.
    Publish {
        api: String,
        number: u32,
        /// Publish even though it breaks callers.
        #[arg(long)]
        force: bool,
    },
}

const REVISION_COLUMNS: &[Column] = &[
    ("REVISION", Cell::Field("/number")),
    ("VERSION", Cell::Field("/version")),
    ("LIVE", Cell::Field("/live")),
    ("BREAKING", Cell::Field("/breaking")),
    ("OTHER", Cell::Field("/non_breaking")),
    ("CREATED", Cell::Field("/created_at")),
    ("NOTE", Cell::Field("/note")),
];

const CHANGE_COLUMNS: &[Column] = &[
    ("SEVERITY", Cell::Field("/severity")),
    ("OPERATION", Cell::With(|c| format!("{} {}", output::text(&c["method"]), output::text(&c["path"])))),
    ("WHERE", Cell::Field("/location")),
    ("CHANGE", Cell::Field("/message")),
];

/// The changes of a diff as a table (or the whole answer with `-o json|yaml`).
fn changes(answer: &Value, diff: &Value, format: Format) -> Result<(), CliError> {
    if format != Format::Table {
        return output::raw(answer, format);
    }
    let rows = diff["changes"].as_array().cloned().unwrap_or_default();
    if rows.is_empty() {
        println!("no changes against the live document");
        return Ok(());
    }
    output::list(&json!({"items": rows}), CHANGE_COLUMNS, format)
}

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    match action {
        Action::List { api } => {
            let answer = client.get(&format!("/v1/apis/{}/revisions", seg(&api))).await?;
            output::list(&answer, REVISION_COLUMNS, format)
        }
        Action::Diff { api, number } => {
            let answer = client.get(&format!("/v1/apis/{}/revisions/{number}", seg(&api))).await?;
            changes(&answer, &answer["against_live"], format)
        }
        Action::Propose { api, file, note } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
            let body = json!({"openapi": text, "note": note});
            let answer = client.post(&format!("/v1/apis/{}/revisions", seg(&api)), &body).await?;
            if format == Format::Table {
                println!("proposed revision {}", output::text(&answer["revision"]["number"]));
            }
            changes(&answer, &answer["against_live"], format)
        }
        Action::Publish { api, number, force } => {
            let path = format!("/v1/apis/{}/revisions/{number}/publish?force={force}", seg(&api));
            let answer = client.post(&path, &Value::Null).await.map_err(explain_breaking)?;
            if format == Format::Table {
                println!("revision {number} of {api} is live");
                return Ok(());
            }
            output::raw(&answer, format)
        }
    }
}

/// For a `breaking-change` refusal: each breaking change and each affected operation's
/// callers on stderr, then a one-line error that says how to go ahead. Other errors pass.
pub fn explain_breaking(error: CliError) -> CliError {
    let CliError::Rejected { problem, line } = error else { return error };
    if !problem["type"].as_str().is_some_and(|t| t.ends_with("/breaking-change")) {
        return CliError::Rejected { problem, line };
    }
    for c in problem["breaking_changes"].as_array().into_iter().flatten() {
        let (method, path) = (output::text(&c["method"]), output::text(&c["path"]));
        eprintln!("breaking: {method} {path}: {}: {}", output::text(&c["location"]), output::text(&c["message"]));
    }
    let days = output::text(&problem["days"]);
    for o in problem["affected_operations"].as_array().into_iter().flatten() {
        let apps: Vec<String> = o["apps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                format!("{} {} ({} calls)", output::text(&a["app_id"]), output::text(&a["app_name"]), a["requests"])
            })
            .collect();
        let callers = if apps.is_empty() { "no app".to_string() } else { apps.join(", ") };
        let (method, path) = (output::text(&o["method"]), output::text(&o["path"]));
        eprintln!("called in the last {days} days: {method} {path}: {callers}");
    }
    CliError::Refused(format!("{line}; nothing was changed (--force to publish anyway)"))
}
