//! `gatehouse developers`: the people who build apps against the APIs.

use clap::Subcommand;

use super::body::{changes, object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every developer.
    List,
    /// Show one developer.
    Get { id: String },
    /// Register a developer (the email is unique, compared without case).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Group or tier; group limits are shared by everyone in it.
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Change the fields given; the others stay as they are.
    Update {
        id: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Print everything held about a developer as one JSON (or YAML) document.
    Export { id: String },
    /// Close the account: revoke every key now, erase email, name and organisation.
    Close { id: String },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("EMAIL", Cell::Field("/email")),
    ("GROUP", Cell::Field("/group")),
    ("ORGANISATION", Cell::Field("/organisation")),
    ("CREATED", Cell::Field("/created_at")),
    ("NAME", Cell::Field("/name")),
];

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    match action {
        Action::List => output::list(&client.get("/v1/developers").await?, COLUMNS, format),
        Action::Get { id } => output::one(&client.get(&format!("/v1/developers/{}", seg(&id))).await?, COLUMNS, format),
        Action::Create { email, name, group, organisation } => {
            let body = object(vec![
                ("email", string(Some(email))),
                ("name", string(Some(name))),
                ("group", string(group)),
                ("organisation", string(organisation)),
            ]);
            output::one(&client.post("/v1/developers", &body).await?, COLUMNS, format)
        }
        Action::Update { id, email, name, group, organisation } => {
            let body = changes(vec![
                ("email", string(email)),
                ("name", string(name)),
                ("group", string(group)),
                ("organisation", string(organisation)),
            ])?;
            output::one(&client.patch(&format!("/v1/developers/{}", seg(&id)), &body).await?, COLUMNS, format)
        }
        // A document, not a record: a table would hide most of it, so the table format is JSON.
        Action::Export { id } => {
            output::raw(&client.get(&format!("/v1/developers/{}/export", seg(&id))).await?, format)
        }
        Action::Close { id } => {
            let closed = client.post(&format!("/v1/developers/{}/close", seg(&id)), &serde_json::Value::Null).await?;
            output::one(&closed, COLUMNS, format)
        }
    }
}
