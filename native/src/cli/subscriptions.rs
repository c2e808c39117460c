//! `gatehouse subscriptions`: an app's access to a product under a plan. A plan that requires
//! approval starts `pending` until an owner approves or rejects it (with a reason the
//! developer sees).

use clap::Subcommand;
use serde_json::Value;

use super::body::{object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List an app's subscriptions.
    List {
        /// The app's id.
        #[arg(long)]
        app: String,
    },
    /// Show one subscription.
    Get { id: String },
    /// Subscribe an app to a product under one of its plans.
    Create {
        /// The app's id.
        #[arg(long)]
        app: String,
        /// The product's id.
        #[arg(long)]
        product: String,
        /// The id of one of the product's plans.
        #[arg(long)]
        plan: String,
    },
    /// Move a subscription to another plan of the same product (its keys stay).
    Update {
        id: String,
        /// The id of another plan of the same product.
        #[arg(long)]
        plan: String,
    },
    /// Approve a pending (or rejected) subscription.
    Approve { id: String },
    /// Reject a pending or active subscription; it then grants nothing.
    Reject {
        id: String,
        /// Why, in words the developer reads (1 to 500 characters).
        #[arg(long)]
        reason: String,
    },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("STATUS", Cell::Field("/status")),
    ("APP", Cell::Field("/app_id")),
    ("PRODUCT", Cell::Field("/product_id")),
    ("PLAN", Cell::Field("/plan_id")),
    ("CREATED", Cell::Field("/created_at")),
    ("WHY", Cell::Field("/status_reason")),
];

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let one = |answer: Value| output::one(&answer, COLUMNS, format);
    match action {
        Action::List { app } => {
            output::list(&client.get(&format!("/v1/apps/{}/subscriptions", seg(&app))).await?, COLUMNS, format)
        }
        Action::Get { id } => one(client.get(&format!("/v1/subscriptions/{}", seg(&id))).await?),
        Action::Create { app, product, plan } => {
            let body = object(vec![("product_id", string(Some(product))), ("plan_id", string(Some(plan)))]);
            one(client.post(&format!("/v1/apps/{}/subscriptions", seg(&app)), &body).await?)
        }
        Action::Update { id, plan } => {
            let body = object(vec![("plan_id", string(Some(plan)))]);
            one(client.patch(&format!("/v1/subscriptions/{}", seg(&id)), &body).await?)
        }
        Action::Approve { id } => {
            one(client.post(&format!("/v1/subscriptions/{}/approve", seg(&id)), &Value::Null).await?)
        }
        Action::Reject { id, reason } => {
            let body = object(vec![("reason", string(Some(reason)))]);
            one(client.post(&format!("/v1/subscriptions/{}/reject", seg(&id)), &body).await?)
        }
    }
}
