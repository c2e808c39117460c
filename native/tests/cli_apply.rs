//! `gatehouse apply` against a running `gatehouse dev`: a file with several problems of
//! different kinds gets every one reported, each with its place in the file, and nothing is
//! applied.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::Dev;

/// Wrong types, an unknown field, a value outside its type (problems of shape) and invalid
/// values in entries that are well shaped (problems of meaning), all in one file.
const SHAPE: &str = r#"apis:
  - name: Broken
    base_path: /broken
    upstream: { url: "http://127.0.0.1:9", timeout_ms: soon }
    colour: blue
    openapi: { openapi: 3.1.0, info: { title: B, version: "1" }, paths: {} }
  - name: Misplaced
    base_path: no-slash
    upstream: { url: "http://127.0.0.1:9" }
    openapi: { openapi: 3.1.0, info: { title: M, version: "1" }, paths: {} }
products:
  - name: Starter
    plans:
      - name: free
        requires_approval: maybe
        limits:
          - { name: burst, scope: app, type: rate, limit: 5, period_secs: 1, burst: 10 }
          - { name: daily, scope: planet, type: quota, limit: 5, window: day }
  - name: Gold
    apis: [ { api: Broken }, { api: Nowhere } ]
    plans:
      - name: gold
        limits: [ { name: burst, scope: app, type: rate, limit: 0, period_secs: 1, burst: 1 } ]
"#;

/// Well-shaped, but with invalid values that only the whole document shows.
const VALUES: &str = r#"apis:
  - name: Pets
    base_path: pets
    upstream: { url: "ftp://nowhere" }
    openapi_file: broken-openapi.yaml
products:
  - name: Starter
    apis:
      - api: Nowhere
    plans:
      - name: free
        limits:
          - { name: daily, scope: app, type: quota, limit: 0, window: day }
"#;

const BROKEN_OPENAPI: &str = "openapi: 3.1.0\ninfo:\n  version: \"1\"\npaths:\n  /pets:\n    get:\n      responses: { \"200\": { description: ok } }\n";

#[test]
fn apply_reports_every_problem_with_its_line_and_applies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));
    let shape = dir.path().join("shape.yaml");
    std::fs::write(&shape, SHAPE).unwrap();
    let shape = shape.to_str().unwrap();

    let ran = dev.cli(&["apply", "-f", shape]);
    assert!(!ran.ok, "{}", ran.stdout);
    let lines: Vec<&str> = ran.stderr.lines().collect();
    let expected = [
        format!("{shape}:4: /apis/0/upstream/timeout_ms: invalid type: string \"soon\", expected u64"),
        format!("{shape}:5: /apis/0/colour: unknown field"),
        format!("{shape}:8: /apis/1/base_path: must start with /"),
        format!(
            "{shape}:15: /products/0/plans/0/requires_approval: invalid type: string \"maybe\", expected a boolean"
        ),
        format!("{shape}:18: /products/0/plans/0/limits/1/scope: unknown variant `planet`"),
        format!("{shape}:20: /products/1/apis/1/api: no API named Nowhere"),
        format!("{shape}:23: /products/1/plans/0/limits/0: "),
    ];
    assert_eq!(lines.len(), expected.len() + 1, "each problem once, and a closing line:\n{}", ran.stderr);
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(line.starts_with(expected.as_str()), "{expected:?}, in file order, in:\n{}", ran.stderr);
    }
    let last = lines[expected.len()];
    assert!(
        last.starts_with("error: ") && last.contains("7 problems") && last.contains("nothing was applied"),
        "{last}"
    );

    // An OpenAPI document named by `openapi_file:` has its problems shown in its own file.
    std::fs::write(dir.path().join("broken-openapi.yaml"), BROKEN_OPENAPI).unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, VALUES).unwrap();
    let values = values.to_str().unwrap();
    let ran = dev.cli(&["apply", "-f", values]);
    assert!(!ran.ok, "{}", ran.stdout);
    let openapi = dir.path().join("broken-openapi.yaml");
    for expected in [
        format!("{}:3: /apis/0/openapi/info/title: ", openapi.display()),
        format!("{values}:3: /apis/0/base_path: "),
        format!("{values}:4: /apis/0/upstream/url: "),
        format!("{values}:9: /products/0/apis/0/api: no API named Nowhere"),
        format!("{values}:13: /products/0/plans/0/limits/0: "),
    ] {
        assert!(ran.stderr.lines().any(|l| l.starts_with(&expected)), "missing {expected:?} in:\n{}", ran.stderr);
    }
    assert!(ran.stderr.trim_end().ends_with(&format!("5 problems in {values}; nothing was applied")), "{}", ran.stderr);

    // Nothing was applied: neither API nor product exists.
    let exported = dev.ok(&["export"]).stdout;
    assert!(!exported.contains("Broken") && !exported.contains("Starter"), "{exported}");
    dev.stop();
}

/// Valid, but two upstreams cannot work: a name that does not resolve, and TLS's port spoken
/// to over plain HTTP.
const DOUBTFUL: &str = r#"apis:
  - name: Far
    base_path: /far
    upstream: { url: "https://no-such-host.invalid" }
    openapi: { openapi: 3.1.0, info: { title: F, version: "1" }, paths: {} }
  - name: Mixed
    base_path: /mixed
    upstream: { url: "http://localhost:443" }
    openapi: { openapi: 3.1.0, info: { title: M, version: "1" }, paths: {} }
"#;

#[test]
fn apply_warns_about_upstream_urls_that_cannot_work_and_still_applies() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));
    let file = dir.path().join("doubtful.yaml");
    std::fs::write(&file, DOUBTFUL).unwrap();
    let file = file.to_str().unwrap();
    let ran = dev.cli(&["apply", "-f", file]);
    assert!(ran.ok, "{}", ran.stderr);
    for expected in [
        format!("warning: {file}:4: /apis/0/upstream/url: no-such-host.invalid does not resolve"),
        format!("warning: {file}:8: /apis/1/upstream/url: port 443 speaks TLS"),
    ] {
        assert!(ran.stderr.lines().any(|l| l.starts_with(&expected)), "missing {expected:?} in:\n{}", ran.stderr);
    }
    assert!(dev.ok(&["export"]).stdout.contains("Far"), "applied despite the warnings");
    dev.stop();
}
