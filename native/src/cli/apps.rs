//! `gatehouse apps`: a developer's applications; keys and subscriptions hang off an app.

use clap::Subcommand;

use super::body::{changes, object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every app, or one developer's.
    List {
        /// Only this developer's apps (the developer's id).
        #[arg(long)]
        developer: Option<String>,
    },
    /// Show one app.
    Get { id: String },
    /// Create an app for a developer.
    Create {
        /// The owner's developer id.
        #[arg(long)]
        developer: String,
        #[arg(long)]
        name: String,
    },
    /// Rename an app (an app never changes owner).
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
    },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("DEVELOPER", Cell::Field("/developer_id")),
    ("CREATED", Cell::Field("/created_at")),
    ("NAME", Cell::Field("/name")),
];

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    match action {
        Action::List { developer: None } => output::list(&client.get("/v1/apps").await?, COLUMNS, format),
        Action::List { developer: Some(d) } => {
            output::list(&client.get(&format!("/v1/developers/{}/apps", seg(&d))).await?, COLUMNS, format)
        }
        Action::Get { id } => output::one(&client.get(&format!("/v1/apps/{}", seg(&id))).await?, COLUMNS, format),
        Action::Create { developer, name } => {
            let body = object(vec![("developer_id", string(Some(developer))), ("name", string(Some(name)))]);
            output::one(&client.post("/v1/apps", &body).await?, COLUMNS, format)
        }
        Action::Update { id, name } => {
            let body = changes(vec![("name", string(name))])?;
            output::one(&client.patch(&format!("/v1/apps/{}", seg(&id)), &body).await?, COLUMNS, format)
        }
    }
}
