//! `gatehouse lint FILE` as a process, with no server running: the table and JSON name each
//! finding's rule, severity and pointer, and the exit status follows the worst severity
//! (0 nothing failing, 1 errors or warnings under `--strict`, 2 a file that is not a document).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint").join(name)
}

/// Runs the binary with no admin URL or token that could reach a server.
fn lint(args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("lint").args(args).env("GATEHOUSE_ADMIN_URL", "http://127.0.0.1:9").env_remove("GATEHOUSE_ADMIN_TOKEN");
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn an_unsecured_document_fails_with_a_table_of_findings_worst_first() {
    let file = fixture("unsecured.yaml");
    let out = lint(&[file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let words = |line: &str| line.split_whitespace().take(3).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["SEVERITY", "RULE", "POINTER", "MESSAGE"]);
    assert_eq!(words(lines[1]), ["error", "operation-security", "/paths/~1owners/get"]);
    assert_eq!(words(lines[2]), ["warning", "operation-summary", "/paths/~1owners/get"]);
    assert_eq!(words(lines[3]), ["warning", "operation-error-response", "/paths/~1owners/get/responses"]);
    assert_eq!(words(lines[4]), ["warning", "sensitive-unclassified", "/components/schemas/Owner/properties/email"]);
    assert_eq!(lines.last(), Some(&"1 error, 3 warnings, 0 info"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lint failed"));
}

#[test]
fn json_output_is_the_admin_apis_report() {
    let file = fixture("unsecured.yaml");
    let out = lint(&[file.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!((report["errors"].as_u64(), report["warnings"].as_u64()), (Some(1), Some(3)));
    let first = &report["findings"][0];
    assert_eq!((first["rule"].as_str(), first["severity"].as_str()), (Some("operation-security"), Some("error")));
    assert!(first["message"].as_str().unwrap().contains("GET /owners"));
}

#[test]
fn warnings_pass_unless_strict() {
    let file = fixture("warnings.json");
    let relaxed = lint(&[file.to_str().unwrap()]);
    assert_eq!(relaxed.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&relaxed.stderr));
    assert!(stdout(&relaxed).contains("operation-summary"));
    let strict = lint(&[file.to_str().unwrap(), "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict"));
}

#[test]
fn a_missing_or_unparsable_file_exits_2_with_one_line() {
    let missing = lint(&["/nonexistent/openapi.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{ \"openapi\": ").unwrap();
    let out = lint(&[broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("broken.json") && stderr.contains("invalid JSON"), "{stderr}");
}

#[test]
fn a_dash_reads_the_document_from_standard_input() {
    let mut child = Command::new(BIN)
        .args(["lint", "-", "-o", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read_to_string(fixture("warnings.json")).unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["findings"][0]["rule"], "operation-summary");
    assert_eq!(report["warnings"], 1);
}
