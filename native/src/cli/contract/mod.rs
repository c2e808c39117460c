//! `gatehouse test API`: contract tests of an upstream against its own OpenAPI document.
//!
//! Every operation is called once on the upstream directly (not through the gateway: the
//! contract is the upstream's), with the parameters and body of the document's examples
//! ([`plan`]). The answer must have a documented status, a described `Content-Type` and a body
//! that fits the response schema ([`check`]). An operation whose required inputs have no
//! example is skipped with the reason. Prints a pass/fail table, writes JUnit XML with
//! `--junit FILE` for CI, and exits 1 if any operation failed (2 if the document cannot be read).
//!
//! The document and upstream come from the admin API (the API as imported, Swagger 2.0
//! already converted), like every other command; `--file` tests a local document before it is
//! imported, against `--upstream` or its first server.

mod check;
mod example;
mod junit;
mod plan;
mod refs;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Args};
use gatehouse_core::model::{Api, Operation};
use serde_json::{json, Value};

use super::client::{seg, CliError};
use super::output::{self, Cell, Column, Format};
use super::AdminArgs;
use check::{Answer, Checker};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["api", "file"])))]
pub struct TestArgs {
    /// The API to test, by id or name: its document and upstream are read from the admin API.
    pub api: Option<String>,
    /// Test a local OpenAPI document (3.x or Swagger 2.0) instead; no admin API is needed.
    #[arg(long, short = 'f', conflicts_with = "api")]
    pub file: Option<PathBuf>,
    /// Call this base URL instead of the API's upstream (or the document's first server).
    #[arg(long)]
    pub upstream: Option<String>,
    /// A header sent with every call, such as the upstream's own credential (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Also write the results as JUnit XML to this file, for CI.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Seconds each call may take.
    #[arg(long, default_value_t = 10)]
    pub timeout_secs: u64,
    /// How to print the results: table, json, yaml or csv.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// What is tested: the document (3.x), its operations, the base URL to call, and a name.
struct Subject {
    name: String,
    doc: Value,
    operations: Vec<Operation>,
    upstream: String,
}

/// How one operation fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

/// One row of the report.
pub struct Outcome {
    pub operation: String,
    pub request: String,
    pub status: Option<u16>,
    pub verdict: Verdict,
    /// Why it failed or was skipped; empty for a pass.
    pub details: Vec<String>,
    pub time: Duration,
}

pub async fn run(args: &TestArgs) -> Result<(), CliError> {
    let subject = subject(args).await?;
    let headers = headers(&args.headers)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Usage(format!("cannot build the HTTP client: {e}")))?;
    let mut checker = Checker::new(&subject.doc);
    let mut outcomes = Vec::new();
    for operation in &subject.operations {
        outcomes.push(one(&http, &subject, &mut checker, operation, &headers).await);
    }
    print(&outcomes, args.output)?;
    if let Some(path) = &args.junit {
        let xml = junit::report(&subject.name, &outcomes)?;
        std::fs::write(path, xml).map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
    }
    let failed = outcomes.iter().filter(|o| o.verdict == Verdict::Fail).count();
    if failed > 0 {
        return Err(CliError::Findings(format!("contract test of {} failed: {}", subject.name, summary(&outcomes))));
    }
    Ok(())
}

/// Calls one operation and judges the answer.
async fn one(
    http: &reqwest::Client,
    subject: &Subject,
    checker: &mut Checker,
    operation: &Operation,
    extra: &[(String, String)],
) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome {
        operation: operation.id.clone(),
        request: format!("{} {}", operation.method, operation.path),
        status: None,
        verdict: Verdict::Skip,
        details: Vec::new(),
        time: Duration::ZERO,
    };
    let call = match plan::call(&subject.doc, operation) {
        Ok(call) => call,
        Err(reason) => {
            outcome.details.push(reason);
            return outcome;
        }
    };
    outcome.request = call.line();
    outcome.verdict = Verdict::Fail;
    match send(http, &subject.upstream, &call, extra).await {
        Ok((status, content_type, body)) => {
            outcome.status = Some(status);
            let answer = Answer { status, content_type: content_type.as_deref(), body: &body };
            outcome.details = checker.problems(&operation.path, &operation.method, &answer, call.method == "HEAD");
            if outcome.details.is_empty() {
                outcome.verdict = Verdict::Pass;
            }
        }
        Err(e) => outcome.details.push(e),
    }
    outcome.time = started.elapsed();
    outcome
}

/// Sends `call`; the status, `Content-Type` and body, or why there was no answer.
async fn send(
    http: &reqwest::Client,
    upstream: &str,
    call: &plan::Call,
    extra: &[(String, String)],
) -> Result<(u16, Option<String>, bytes::Bytes), String> {
    let mut url = format!("{}{}", upstream.trim_end_matches('/'), call.path);
    if !call.query.is_empty() {
        url = format!("{url}?{}", call.encoded_query());
    }
    let method = reqwest::Method::from_bytes(call.method.as_bytes()).map_err(|e| format!("method: {e}"))?;
    let mut request = http.request(method, &url);
    for (name, value) in call.headers.iter().chain(extra) {
        request = request.header(name, value);
    }
    if let Some((media_type, bytes)) = &call.body {
        request = request.header("content-type", media_type).body(bytes.clone());
    }
    let response = request.send().await.map_err(|e| format!("no answer from {url}: {e}"))?;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = response.bytes().await.map_err(|e| format!("the body could not be read: {e}"))?;
    Ok((status, content_type, body))
}

/// The document, operations and upstream, from the admin API or a local file.
async fn subject(args: &TestArgs) -> Result<Subject, CliError> {
    if let Some(file) = &args.file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
        let imported = gatehouse_core::openapi::import(&text).map_err(|problems| {
            let first = problems.first().map(|p| format!("{} {}", p.pointer, p.message)).unwrap_or_default();
            CliError::Input(format!("{} cannot be imported: {}", file.display(), first.trim()))
        })?;
        let upstream = args.upstream.clone().or(imported.default_upstream).ok_or_else(|| {
            CliError::Usage(format!("{} names no http(s) server: pass --upstream URL", file.display()))
        })?;
        let name = file.display().to_string();
        return Ok(Subject { name, doc: imported.document, operations: imported.operations, upstream });
    }
    let wanted = args.api.as_deref().unwrap_or_default();
    let client = args.admin.client()?;
    let listed = client.get("/v1/apis").await?;
    let found = output::items(&listed).into_iter().find(|api| api["id"] == wanted || api["name"] == wanted);
    let Some(id) = found.as_ref().and_then(|api| api["id"].as_str()) else {
        return Err(CliError::Usage(format!("no API with the id or name {wanted:?} (see `gatehouse apis list`)")));
    };
    let api: Api = serde_json::from_value(client.get(&format!("/v1/apis/{}", seg(id))).await?)
        .map_err(|e| CliError::Refused(format!("the admin API answered an API this CLI cannot read: {e}")))?;
    let upstream = match &args.upstream {
        Some(url) => url.clone(),
        None if api.upstream.is_mock() => {
            return Err(CliError::Usage(format!(
                "{} is answered by the mock (upstream mock:): pass --upstream URL of the real upstream",
                api.name
            )))
        }
        None => api.upstream.url.clone(),
    };
    Ok(Subject { name: api.name, doc: api.openapi, operations: api.operations, upstream })
}

/// `Name: value` pairs from `--header`.
fn headers(given: &[String]) -> Result<Vec<(String, String)>, CliError> {
    given
        .iter()
        .map(|h| {
            let (name, value) =
                h.split_once(':').ok_or_else(|| CliError::Usage(format!("--header {h:?}: use NAME: VALUE")))?;
            let name = http::HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| CliError::Usage(format!("--header {h:?}: not a header name")))?;
            Ok((name.as_str().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

const COLUMNS: &[Column] = &[
    ("RESULT", Cell::Field("/result")),
    ("OPERATION", Cell::Field("/operation")),
    ("REQUEST", Cell::Field("/request")),
    ("STATUS", Cell::Field("/status")),
    (
        "DETAIL",
        Cell::With(|row| {
            row["details"]
                .as_array()
                .map_or(String::new(), |d| d.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        }),
    ),
];

fn print(outcomes: &[Outcome], format: Format) -> Result<(), CliError> {
    let rows: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let result = match o.verdict {
                Verdict::Pass => "pass",
                Verdict::Fail => "FAIL",
                Verdict::Skip => "skip",
            };
            json!({"result": result, "operation": o.operation, "request": o.request, "status": o.status,
                "details": o.details, "ms": o.time.as_millis() as u64})
        })
        .collect();
    output::list(&Value::Array(rows), COLUMNS, format)?;
    if format == Format::Table {
        println!("{}", summary(outcomes));
    }
    Ok(())
}

/// `operations: 3 pass, 1 fail, 2 skipped`. (Not "N passed, N failed": CI logs read a line of
/// that form as the verdict of the whole test run.)
pub fn summary(outcomes: &[Outcome]) -> String {
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let (pass, fail, skip) = (count(Verdict::Pass), count(Verdict::Fail), count(Verdict::Skip));
    format!("{} operations: {pass} pass, {fail} fail, {skip} skipped", outcomes.len())
}
