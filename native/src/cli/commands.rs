//! The CLI's commands: each reads its input, makes admin API calls and prints a result.

use std::path::Path;

use serde_json::Value;

use super::client::{AdminClient, CliError};
use super::{KeysAction, UsageFilter};

/// Applies a declarative config file. An API entry may name its OpenAPI document with
/// `openapi_file:` (relative to the config file); it is read and sent inline.
pub async fn apply(client: &AdminClient, file: &Path) -> Result<(), CliError> {
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let mut config: Value = serde_yaml_ng::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{} is not valid YAML or JSON: {e}", file.display())))?;
    let base = file.parent().unwrap_or(Path::new("."));
    if let Some(apis) = config.get_mut("apis").and_then(Value::as_array_mut) {
        for api in apis {
            inline_openapi_file(api, base)?;
        }
    }
    let report = client.put("/v1/config", &config).await?;
    println!("{}", summary(&report));
    Ok(())
}

fn inline_openapi_file(api: &mut Value, base: &Path) -> Result<(), CliError> {
    let Some(obj) = api.as_object_mut() else { return Ok(()) };
    let Some(rel) = obj.remove("openapi_file") else { return Ok(()) };
    let rel = rel.as_str().ok_or_else(|| CliError::Usage("openapi_file must be a path".into()))?;
    let path = base.join(rel);
    let doc = std::fs::read_to_string(&path)
        .map_err(|e| CliError::Usage(format!("cannot read OpenAPI document {}: {e}", path.display())))?;
    obj.insert("openapi".into(), Value::String(doc));
    Ok(())
}

/// One line per kind: `apis: 1 created, 0 updated, 2 unchanged`.
fn summary(report: &Value) -> String {
    match report.as_object() {
        Some(kinds) => kinds
            .iter()
            .map(|(kind, counts)| {
                let n = |k: &str| counts[k].as_u64().unwrap_or(0);
                format!("{kind}: {} created, {} updated, {} unchanged", n("created"), n("updated"), n("unchanged"))
            })
            .collect::<Vec<_>>()
            .join("\n"),
        None => report.to_string(),
    }
}

pub async fn export(client: &AdminClient, output: Option<&Path>) -> Result<(), CliError> {
    let config = client.get("/v1/config").await?;
    let yaml = serde_yaml_ng::to_string(&config).map_err(|e| CliError::Refused(format!("cannot render YAML: {e}")))?;
    match output {
        Some(path) => {
            std::fs::write(path, yaml).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))
        }
        None => {
            print!("{yaml}");
            Ok(())
        }
    }
}

pub async fn keys(client: &AdminClient, action: KeysAction) -> Result<(), CliError> {
    match action {
        KeysAction::Create { app, name } => {
            let created = client.post(&format!("/v1/apps/{app}/keys"), &serde_json::json!({ "name": name })).await?;
            print_new_key(&created);
        }
        KeysAction::List { app } => {
            let listed = client.get(&format!("/v1/apps/{app}/keys")).await?;
            println!("{:<28} {:<10} {:<14} {:<9} LAST USED", "ID", "STATUS", "KEY", "NAME");
            for key in items(&listed) {
                println!(
                    "{:<28} {:<10} {:<14} {:<9} {}",
                    text(&key["id"]),
                    text(&key["status"]),
                    format!("{}…{}", text(&key["prefix"]), text(&key["last4"])),
                    text(&key["name"]),
                    key.get("last_used_at").filter(|v| !v.is_null()).map_or("never".to_string(), text),
                );
            }
        }
        KeysAction::Revoke { key_id } => {
            client.post(&format!("/v1/keys/{key_id}/revoke"), &Value::Null).await?;
            println!("revoked {key_id}");
        }
        KeysAction::Rotate { key_id, grace_secs } => {
            let rotated = client
                .post(&format!("/v1/keys/{key_id}/rotate"), &serde_json::json!({ "grace_secs": grace_secs }))
                .await?;
            print_new_key(&rotated);
            println!("the old key {key_id} keeps working for {grace_secs} s");
        }
    }
    Ok(())
}

/// The secret goes to stdout once, alone on its line, so a script can capture it.
fn print_new_key(created: &Value) {
    eprintln!("key {} created; store the secret now, it is not shown again:", text(&created["key"]["id"]));
    println!("{}", text(&created["secret"]));
}

pub async fn usage(client: &AdminClient, f: &UsageFilter) -> Result<(), CliError> {
    let mut query = vec![format!("group_by={}", f.group_by)];
    let params =
        [("api_id", &f.api_id), ("key_id", &f.key_id), ("app_id", &f.app_id), ("from", &f.from), ("to", &f.to)];
    for (name, value) in params {
        if let Some(v) = value {
            query.push(format!("{name}={v}"));
        }
    }
    let report = client.get(&format!("/v1/usage?{}", query.join("&"))).await?;
    println!(
        "{:<22} {:>9} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "PERIOD", "REQUESTS", "2XX", "4XX", "5XX", "P50 MS", "P95 MS", "P99 MS", "CACHED"
    );
    for row in items(&report) {
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let ms = |v: &Value| v.as_f64().map_or("-".to_string(), |us| format!("{:.1}", us / 1000.0));
        println!(
            "{:<22} {:>9} {:>7} {:>7} {:>7} {:>9} {:>9} {:>9} {:>7}",
            row["bucket"].as_str().unwrap_or("total"),
            n(&row["requests"]),
            n(&row["status_classes"][1]),
            n(&row["status_classes"][3]),
            n(&row["status_classes"][4]),
            ms(&row["p50_us"]),
            ms(&row["p95_us"]),
            ms(&row["p99_us"]),
            n(&row["cache_hits"]),
        );
    }
    Ok(())
}

fn items(list: &Value) -> Vec<Value> {
    list.get("items").or(Some(list)).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}
