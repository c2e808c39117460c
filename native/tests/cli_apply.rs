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

/// A description split over files: path items, parameters and schemas in files beside it,
/// which refer to each other (a schema cycle across two files included).
const SPLIT: [(&str, &str); 4] = [
    (
        "api/openapi.yaml",
        "openapi: 3.0.3\ninfo: { title: Split, version: \"1\" }\npaths:\n  /pets: { $ref: paths/pets.yaml }\n",
    ),
    (
        "api/paths/pets.yaml",
        "get:\n  operationId: listPets\n  parameters: [ { $ref: \"../common.yaml#/parameters/limit\" } ]\n  responses:\n    \"200\":\n      description: pets\n      content: { application/json: { schema: { $ref: \"../common.yaml#/schemas/Pet\" } } }\n",
    ),
    (
        "api/common.yaml",
        "parameters:\n  limit: { name: limit, in: query, schema: { type: integer } }\nschemas:\n  Pet: { type: object, properties: { owner: { $ref: \"owner.yaml\" } } }\n",
    ),
    ("api/owner.yaml", "type: object\nproperties: { pets: { type: array, items: { $ref: \"common.yaml#/schemas/Pet\" } } }\n"),
];

#[test]
fn apply_inlines_files_that_refs_name_and_refuses_refs_that_leave_the_document_s_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(&dir.path().join("data"));
    for (name, text) in SPLIT {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let config = dir.path().join("gatehouse.yaml");
    let api = "apis:\n  - { name: Split, base_path: /split, upstream: { url: \"http://127.0.0.1:9\" }, openapi_file: api/openapi.yaml }\n";
    std::fs::write(&config, api).unwrap();
    let config = config.to_str().unwrap();
    assert!(dev.ok(&["apply", "-f", config]).stdout.contains("apis: 1 created"));
    let apis = dev.admin_call("GET", "/v1/apis", None);
    let split = apis["items"].as_array().unwrap().iter().find(|a| a["name"] == "Split").unwrap();
    let api = dev.admin_call("GET", &format!("/v1/apis/{}", split["id"].as_str().unwrap()), None);
    assert_eq!(api["operations"][0]["id"], "listPets");
    let doc = &api["openapi"];
    assert_eq!(doc["paths"]["/pets"]["get"]["parameters"][0]["name"], "limit");
    assert_eq!(doc["components"]["schemas"]["Pet"]["properties"]["owner"]["$ref"], "#/components/schemas/owner");
    assert_eq!(
        doc["components"]["schemas"]["owner"]["properties"]["pets"]["items"]["$ref"],
        "#/components/schemas/Pet"
    );

    // A reference out of the document's directory is refused, and nothing is applied.
    std::fs::write(dir.path().join("secret.yaml"), "token: hunter2\n").unwrap();
    let escaping = "openapi: 3.0.3\ninfo: { title: Split, version: \"2\" }\npaths:\n  /pets: { $ref: \"../secret.yaml#/token\" }\n";
    std::fs::write(dir.path().join("api/openapi.yaml"), escaping).unwrap();
    let ran = dev.cli(&["apply", "-f", config]);
    assert!(!ran.ok);
    let openapi = dir.path().join("api/openapi.yaml");
    let expected = format!(
        "{}: /paths/~1pets/$ref: \"../secret.yaml#/token\" is outside the document's directory",
        openapi.display()
    );
    assert!(ran.stderr.lines().next().is_some_and(|l| l.starts_with(&expected)), "{}", ran.stderr);
    assert!(
        ran.stderr.contains("1 problem in the $refs of") && ran.stderr.contains("nothing was applied"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("hunter2"));
    let api = dev.admin_call("GET", &format!("/v1/apis/{}", split["id"].as_str().unwrap()), None);
    assert_eq!(api["version"], "1", "the API is as it was");
    dev.stop();
}
