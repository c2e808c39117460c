//! `gatehouse organisations`: partner organisations, their members and roles, invitations
//! by mail, and the apps they own.

use clap::Subcommand;
use serde_json::json;

use super::body::{changes, object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every organisation.
    List,
    /// Show one organisation.
    Get { id: String },
    /// Create an organisation (the name is unique, compared without case).
    Create {
        #[arg(long)]
        name: String,
        /// The tier its apps' group limits count in.
        #[arg(long)]
        tier: Option<String>,
    },
    /// Rename it or change its tier (`--tier ""` removes the tier).
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        tier: Option<String>,
    },
    /// List its members and their roles.
    Members { id: String },
    /// Add a developer as a member, or change their role.
    AddMember {
        id: String,
        developer_id: String,
        #[arg(long, value_parser = ["member", "org-admin"], default_value = "member")]
        role: String,
    },
    /// Remove a member: they lose its apps at once; the apps and their keys keep working.
    RemoveMember { id: String, developer_id: String },
    /// Mail an invitation (the link works once, for 7 days).
    Invite {
        id: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = ["member", "org-admin"], default_value = "member")]
        role: String,
    },
    /// List its apps.
    Apps { id: String },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("NAME", Cell::Field("/name")),
    ("TIER", Cell::Field("/tier")),
    ("CREATED", Cell::Field("/created_at")),
];

const MEMBERS: &[Column] = &[
    ("DEVELOPER", Cell::Field("/developer_id")),
    ("EMAIL", Cell::Field("/email")),
    ("ROLE", Cell::Field("/role")),
    ("SINCE", Cell::Field("/created_at")),
];

const INVITATIONS: &[Column] =
    &[("EMAIL", Cell::Field("/email")), ("ROLE", Cell::Field("/role")), ("EXPIRES", Cell::Field("/expires_at"))];

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let at = |id: &str, rest: &str| format!("/v1/organisations/{}{rest}", seg(id));
    match action {
        Action::List => output::list(&client.get("/v1/organisations").await?, COLUMNS, format),
        Action::Get { id } => output::one(&client.get(&at(&id, "")).await?, COLUMNS, format),
        Action::Create { name, tier } => {
            let body = object(vec![("name", string(Some(name))), ("tier", string(tier))]);
            output::one(&client.post("/v1/organisations", &body).await?, COLUMNS, format)
        }
        Action::Update { id, name, tier } => {
            let body = changes(vec![("name", string(name)), ("tier", string(tier))])?;
            output::one(&client.patch(&at(&id, ""), &body).await?, COLUMNS, format)
        }
        Action::Members { id } => output::list(&client.get(&at(&id, "/members")).await?, MEMBERS, format),
        Action::AddMember { id, developer_id, role } => {
            let path = at(&id, &format!("/members/{}", seg(&developer_id)));
            output::one(&client.put(&path, &json!({ "role": role })).await?, MEMBERS, format)
        }
        Action::RemoveMember { id, developer_id } => {
            client.delete(&at(&id, &format!("/members/{}", seg(&developer_id)))).await?;
            Ok(())
        }
        Action::Invite { id, email, role } => {
            let sent = client.post(&at(&id, "/invitations"), &json!({ "email": email, "role": role })).await?;
            output::one(&sent, INVITATIONS, format)
        }
        Action::Apps { id } => output::list(&client.get(&at(&id, "/apps")).await?, super::apps::COLUMNS, format),
    }
}
