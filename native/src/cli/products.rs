//! `gatehouse products`: bundles of APIs (or some of their operations) that apps subscribe to.

use clap::Subcommand;
use serde_json::{json, Value};

use super::body::{changes, object, string};
use super::client::{seg, AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Subcommand)]
pub enum Action {
    /// List every product.
    List,
    /// Show one product.
    Get { id: String },
    /// Create a product.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// An API in the product: `API_ID` for all its operations, `API_ID:opA,opB` for some.
        /// Repeat for several APIs.
        #[arg(long = "api", value_name = "API_ID[:OPERATIONS]")]
        apis: Vec<String>,
        /// Who may see the product: `public` (default), `registered`, `internal`, or partners
        /// as `group:NAME` and `org:NAME` separated by commas (`org:org_acme,group:gold`).
        #[arg(long)]
        audience: Option<String>,
    },
    /// Change the fields given; `--api` replaces the whole list of APIs.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long = "api", value_name = "API_ID[:OPERATIONS]")]
        apis: Vec<String>,
        /// Who may see the product: `public` (default), `registered`, `internal`, or partners
        /// as `group:NAME` and `org:NAME` separated by commas (`org:org_acme,group:gold`).
        #[arg(long)]
        audience: Option<String>,
    },
    /// Delete a product and its plans (refused while an app subscribes to it).
    Delete { id: String },
}

pub const COLUMNS: &[Column] = &[
    ("ID", Cell::Field("/id")),
    ("APIS", Cell::With(api_ids)),
    ("AUDIENCE", Cell::With(audience_of)),
    ("CREATED", Cell::Field("/created_at")),
    ("NAME", Cell::Field("/name")),
];

fn api_ids(product: &Value) -> String {
    let ids: Vec<String> = output::items(&product["items"]).iter().map(|i| output::text(&i["api_id"])).collect();
    ids.join(",")
}

fn audience_of(product: &Value) -> String {
    match &product["audience"] {
        Value::String(word) => word.clone(),
        Value::Null => "public".to_owned(),
        partners => {
            let names = |field: &str, prefix: &str| -> Vec<String> {
                output::items(&partners[field]).iter().map(|n| format!("{prefix}:{}", output::text(n))).collect()
            };
            [names("groups", "group"), names("organisations", "org")].concat().join(",")
        }
    }
}

/// `--audience`: a word as it is (the admin API says what words there are), or partners as
/// `group:NAME` and `org:NAME` items.
fn audience(arg: Option<String>) -> Option<Value> {
    let arg = arg?;
    if !arg.contains(':') {
        return Some(Value::String(arg));
    }
    let (mut groups, mut organisations, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for item in arg.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once(':') {
            Some(("group", name)) => groups.push(name.to_owned()),
            Some(("org", name)) => organisations.push(name.to_owned()),
            _ => other.push(item.to_owned()),
        }
    }
    // An item that is neither is sent as a field the API refuses with its own message.
    let mut partners = json!({ "groups": groups, "organisations": organisations });
    if !other.is_empty() {
        partners["unknown"] = json!(other);
    }
    Some(partners)
}

/// `api_1` → `{"api_id": "api_1"}`; `api_1:a,b` → `{"api_id": "api_1", "operations": ["a", "b"]}`.
fn item(arg: &str) -> Value {
    match arg.split_once(':') {
        None => json!({ "api_id": arg }),
        Some((api, ops)) => {
            json!({ "api_id": api, "operations": ops.split(',').filter(|o| !o.is_empty()).collect::<Vec<_>>() })
        }
    }
}

fn items(apis: &[String]) -> Option<Value> {
    (!apis.is_empty()).then(|| Value::Array(apis.iter().map(|a| item(a)).collect()))
}

pub async fn run(client: &AdminClient, action: Action, format: Format) -> Result<(), CliError> {
    let one = |answer: Value| output::one(&answer, COLUMNS, format);
    match action {
        Action::List => output::list(&client.get("/v1/products").await?, COLUMNS, format),
        Action::Get { id } => one(client.get(&format!("/v1/products/{}", seg(&id))).await?),
        Action::Create { name, description, apis, audience: who } => {
            let body = object(vec![
                ("name", string(Some(name))),
                ("description", string(description)),
                ("items", items(&apis)),
                ("audience", audience(who)),
            ]);
            one(client.post("/v1/products", &body).await?)
        }
        Action::Update { id, name, description, apis, audience: who } => {
            let body = changes(vec![
                ("name", string(name)),
                ("description", string(description)),
                ("api", items(&apis)),
                ("audience", audience(who)),
            ])?;
            let body = rename(body, "api", "items");
            one(client.patch(&format!("/v1/products/{}", seg(&id)), &body).await?)
        }
        Action::Delete { id } => {
            client.delete(&format!("/v1/products/{}", seg(&id))).await?;
            println!("deleted {id}");
            Ok(())
        }
    }
}

/// The flag is `--api`, the field `items`; the update's error message names the flag.
fn rename(mut body: Value, from: &str, to: &str) -> Value {
    if let Some(map) = body.as_object_mut() {
        if let Some(v) = map.remove(from) {
            map.insert(to.to_string(), v);
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_flag_names_all_or_some_operations() {
        assert_eq!(item("api_1"), json!({"api_id": "api_1"}));
        assert_eq!(item("api_1:listPets,getPet"), json!({"api_id": "api_1", "operations": ["listPets", "getPet"]}));
        assert_eq!(items(&[]), None);
    }

    #[test]
    fn an_audience_flag_is_a_word_or_partner_names() {
        assert_eq!(audience(Some("internal".into())), Some(json!("internal")));
        assert_eq!(
            audience(Some("org:org_acme, group:gold,org:org_bolt".into())),
            Some(json!({"groups": ["gold"], "organisations": ["org_acme", "org_bolt"]}))
        );
        assert_eq!(audience(None), None);
        let shown = json!({"audience": {"groups": ["gold"], "organisations": ["org_acme"]}});
        assert_eq!(audience_of(&shown), "group:gold,org:org_acme");
        assert_eq!(audience_of(&json!({})), "public");
    }
}
