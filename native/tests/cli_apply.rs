//! `gatehouse apply` against a running `gatehouse dev`: a file with several problems of
//! different kinds gets every one reported, each with its place in the file, and nothing is
//! applied.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use dev_process::Dev;

/// Wrong types, an unknown field and values outside their type: problems of shape.
const SHAPE: &str = r#"apis:
  - name: Broken
    base_path: /broken
    upstream: { url: "http://127.0.0.1:9", timeout_ms: soon }
    colour: blue
    openapi: { openapi: 3.1.0, info: { title: B, version: "1" }, paths: {} }
products:
  - name: Starter
    plans:
      - name: free
        requires_approval: maybe
        limits:
          - { name: burst, scope: app, type: rate, limit: 5, period_secs: 1, burst: 10 }
          - { name: daily, scope: planet, type: quota, limit: 5, window: day }
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
    for expected in [
        format!("{shape}:4: /apis/0/upstream/timeout_ms: invalid type: string \"soon\", expected u64"),
        format!("{shape}:5: /apis/0/colour: unknown field"),
        format!(
            "{shape}:11: /products/0/plans/0/requires_approval: invalid type: string \"maybe\", expected a boolean"
        ),
        format!("{shape}:14: /products/0/plans/0/limits/1/scope: unknown variant `planet`"),
    ] {
        assert!(lines.iter().any(|l| l.starts_with(&expected)), "missing {expected:?} in:\n{}", ran.stderr);
    }
    assert_eq!(lines.len(), 5, "4 problems and a closing line:\n{}", ran.stderr);
    assert!(
        lines[4].starts_with("error: ") && lines[4].contains("4 problems") && lines[4].contains("nothing was applied")
    );

    // Second round: the shape is right, the values are not; each is reported, at its line,
    // the OpenAPI document's own problem in the document's file.
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
