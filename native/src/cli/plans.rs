//! `gatehouse plans`: what a product's subscribers get (limits, quotas, scopes, approval).

use clap::Subcommand;
use serde_json::Value;

use super::body::{changes, object, string, yaml};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List a product's plans.
    List {
        /// The product's id.
        #[arg(long)]
        product: String,
    },
    /// Show one plan.
    Get { id: String },
    /// Create a plan in a product.
    Create {
        /// The product's id.
        #[arg(long)]
        product: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        fields: PlanFields,
    },
    /// Change the fields given; the others stay as they are.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: PlanFields,
    },
    /// Delete a plan (refused while an app subscribes under it).
    Delete { id: String },
}

#[derive(Debug, clap::Args)]
pub struct PlanFields {
    /// The limits as a YAML or JSON list, e.g.
    /// `[{name: burst, scope: app, type: rate, limit: 10, period_secs: 1, burst: 20}]`.
    #[arg(long)]
    limits: Option<String>,
    /// Scopes the plan grants, comma-separated (`''` for none).
    #[arg(long, value_delimiter = ',')]
    scopes: Option<Vec<String>>,
    /// Whether a subscription needs an owner's approval: true or false.
    #[arg(long)]
    requires_approval: Option<bool>,
}

impl PlanFields {
    fn into_fields(self) -> Result<Vec<(&'static str, Option<Value>)>, CliError> {
        let scopes = self.scopes.map(|s| Value::from(s.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>()));
        Ok(vec![
            ("limits", yaml("limits", self.limits)?),
            ("scopes", scopes),
            ("requires_approval", self.requires_approval.map(Value::Bool)),
        ])
    }
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("PRODUCT", Cell::Field("/product_id")),
    ("APPROVAL", Cell::With(approval)),
    ("LIMITS", Cell::With(limits)),
    ("NAME", Cell::Field("/name")),
];

fn approval(plan: &Value) -> String {
    if plan["requires_approval"] == Value::Bool(true) { "required" } else { "no" }.to_string()
}

/// `burst,daily`: the limits' names (`-o yaml` shows them whole).
fn limits(plan: &Value) -> String {
    output::items(&plan["limits"]).iter().map(|l| output::text(&l["name"])).collect::<Vec<_>>().join(",")
}

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let one = |answer: Value| output::one(&answer, COLUMNS, format);
    match action {
        Action::List { product } => {
            output::list(&client.get(&format!("/v1/products/{}/plans", seg(&product))).await?, COLUMNS, format)
        }
        Action::Get { id } => one(client.get(&format!("/v1/plans/{}", seg(&id))).await?),
        Action::Create { product, name, fields } => {
            let mut all = vec![("product_id", string(Some(product))), ("name", string(Some(name)))];
            all.extend(fields.into_fields()?);
            one(client.post("/v1/plans", &object(all)).await?)
        }
        Action::Update { id, name, fields } => {
            let mut all = vec![("name", string(name))];
            all.extend(fields.into_fields()?);
            one(client.patch(&format!("/v1/plans/{}", seg(&id)), &changes(all)?).await?)
        }
        Action::Delete { id } => {
            client.delete(&format!("/v1/plans/{}", seg(&id))).await?;
            println!("deleted {id}");
            Ok(())
        }
    }
}
