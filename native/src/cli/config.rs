//! `gatehouse apply` and `gatehouse export`: declarative config (APIs, products, plans).
//!
//! `apply` shows every problem the admin API finds, one line each, as
//! `file:line: /pointer: message`, then exits non-zero; nothing is applied unless all is well.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::client::{AdminClient, CliError};
use super::locate::line_of;

/// An OpenAPI document read from an `openapi_file:` and sent inline in its API entry.
struct Inlined {
    api: usize,
    path: PathBuf,
    text: String,
}

/// Applies a declarative config file. An API entry may name its OpenAPI document with
/// `openapi_file:` (relative to the config file); it is read and sent inline. A changed
/// document that breaks callers of a live API is refused (listing them) unless `force`.
pub async fn apply(client: &AdminClient, file: &Path, force: bool) -> Result<(), CliError> {
    let text = read(file)?;
    let mut config =
        parse(&text).map_err(|e| CliError::Usage(format!("{} is not valid YAML or JSON: {e}", file.display())))?;
    let inlined = inline_openapi_files(&mut config, file.parent().unwrap_or(Path::new(".")))?;
    for (pointer, warning) in super::upstream_check::warnings(&config).await {
        let (path, line) = place(file, &text, &inlined, &pointer);
        let at = line.map_or(path.clone(), |line| format!("{path}:{line}"));
        eprintln!("warning: {at}: {pointer}: {warning}");
    }
    let path = if force { "/v1/config?force=true" } else { "/v1/config" };
    match client.put(path, &config).await.map_err(super::revisions::explain_breaking) {
        Ok(report) => {
            println!("{}", summary(&report));
            Ok(())
        }
        Err(CliError::Rejected { line, problem }) => {
            let Some(errors) = problem["errors"].as_array().filter(|e| !e.is_empty()) else {
                return Err(CliError::Rejected { line, problem });
            };
            let mut lines: Vec<(String, Option<usize>, String)> = errors
                .iter()
                .map(|e| {
                    let (pointer, message) = (e["pointer"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or(""));
                    let (path, line) = place(file, &text, &inlined, pointer);
                    (path, line, format!("{}: {message}", shown(pointer)))
                })
                .collect();
            lines.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1))); // in file order, as an editor lists them
            for (path, line, problem) in lines {
                match line {
                    Some(line) => eprintln!("{path}:{line}: {problem}"),
                    None => eprintln!("{path}: {problem}"),
                }
            }
            let title = problem["title"].as_str().unwrap_or("invalid config");
            Err(CliError::Refused(format!(
                "{title}: {} in {}; nothing was applied",
                count(errors.len()),
                file.display()
            )))
        }
        Err(other) => Err(other),
    }
}

/// YAML (or JSON) text as JSON. Read through a YAML `Value` first, which refuses a key given
/// twice in one mapping; read straight into JSON, the last one would silently win.
fn parse(text: &str) -> Result<Value, serde_yaml_ng::Error> {
    serde_yaml_ng::from_value(serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)?)
}

fn read(file: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(file).map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 problem".to_string()
    } else {
        format!("{n} problems")
    }
}

fn shown(pointer: &str) -> &str {
    if pointer.is_empty() {
        "/"
    } else {
        pointer
    }
}

/// The file and line of a pointer into the document as sent. A pointer into an inlined
/// OpenAPI document is located in the file it came from.
fn place(file: &Path, text: &str, inlined: &[Inlined], pointer: &str) -> (String, Option<usize>) {
    let from_file = inlined.iter().find_map(|i| {
        let rest = pointer.strip_prefix(&format!("/apis/{}/openapi", i.api))?;
        (rest.is_empty() || rest.starts_with('/')).then_some((i, rest))
    });
    let (path, text, pointer) = match from_file {
        Some((i, rest)) => (i.path.as_path(), i.text.as_str(), rest),
        None => (file, text, pointer),
    };
    (path.display().to_string(), line_of(text, pointer))
}

fn inline_openapi_files(config: &mut Value, base: &Path) -> Result<Vec<Inlined>, CliError> {
    let mut inlined = Vec::new();
    let Some(apis) = config.get_mut("apis").and_then(Value::as_array_mut) else { return Ok(inlined) };
    for (i, api) in apis.iter_mut().enumerate() {
        let Some(obj) = api.as_object_mut() else { continue };
        let Some(rel) = obj.remove("openapi_file") else { continue };
        let rel = rel.as_str().ok_or_else(|| CliError::Usage(format!("/apis/{i}/openapi_file must be a path")))?;
        let path = base.join(rel);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::Usage(format!("cannot read OpenAPI document {}: {e}", path.display())))?;
        obj.insert("openapi".into(), with_files_inlined(&path, &text)?);
        inlined.push(Inlined { api: i, path, text });
    }
    Ok(inlined)
}

/// The document to send: its text as written, or, when its `$ref`s name other files, the
/// document with those files inlined (see `bundle`). Text that does not parse is sent as is,
/// for the admin API to report with its line.
fn with_files_inlined(path: &Path, text: &str) -> Result<Value, CliError> {
    let Ok(doc) = gatehouse_core::openapi::parse_document(text) else { return Ok(Value::String(text.to_owned())) };
    match super::bundle::bundle(path, doc) {
        Ok(None) => Ok(Value::String(text.to_owned())),
        Ok(Some(bundled)) => Ok(bundled),
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            let n = count(problems.len());
            Err(CliError::Refused(format!("{n} in the $refs of {}; nothing was applied", path.display())))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_given_twice_is_refused() {
        let err = parse("apis: []\nproducts: []\napis: []\n").map_err(|e| e.to_string());
        assert!(err.as_ref().is_err_and(|e| e.contains("duplicate entry with key \"apis\"")), "{err:?}");
        assert_eq!(parse("a: {b: [1, x]}").ok(), Some(serde_json::json!({"a": {"b": [1, "x"]}})));
    }

    #[test]
    fn a_problem_in_an_inlined_document_points_into_its_own_file() {
        let inlined =
            [Inlined { api: 1, path: "pets.yaml".into(), text: "openapi: 3.1.0\ninfo:\n  title: x\n".into() }];
        let config = "apis:\n  - name: a\n  - name: b\n";
        let at = |pointer| place(Path::new("c.yaml"), config, &inlined, pointer);
        assert_eq!(at("/apis/1/openapi/info/title"), ("pets.yaml".to_string(), Some(3)));
        assert_eq!(at("/apis/1/name"), ("c.yaml".to_string(), Some(3)));
        assert_eq!(at("/apis/10/openapi"), ("c.yaml".to_string(), Some(2)));
    }
}
