//! `gatehouse test`: the binary as a process calls a real HTTP upstream on 127.0.0.1
//! (wiremock) with the document's examples. Operations that keep the contract pass; a wrong
//! status and a schema violation fail, each named; an operation without examples is skipped
//! with the reason; the exit status and the JUnit XML, parsed back, say the same.
#![allow(clippy::unwrap_used)]

#[path = "support/dev_process.rs"]
mod dev_process;

use std::process::{Command, Stdio};

use dev_process::{Dev, Ran, BIN};
use quick_junit::{Report, TestCaseStatus};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PETS: &str = r##"openapi: 3.0.3
info: { title: Pets, version: "1" }
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - { name: limit, in: query, schema: { type: integer, example: 2 } }
      responses:
        "200":
          description: the pets
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Pet" } }
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Pet" }
            example: { id: 3, name: Tom }
      responses:
        "201": { description: made }
  /pets/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: integer }, example: 1 }
    get:
      operationId: getPet
      responses:
        "200":
          description: one pet
          content: { application/json: { schema: { $ref: "#/components/schemas/Pet" } } }
        default:
          description: a problem
          content: { application/problem+json: { schema: { type: object } } }
    delete:
      operationId: deletePet
      parameters:
        - { name: reason, in: query, required: true, schema: { type: string } }
      responses:
        "204": { description: gone }
  /health:
    get:
      operationId: health
      responses:
        "204": { description: up }
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: { type: integer, minimum: 1 }
        name: { type: string, nullable: true }
"##;

/// A Pets upstream where listPets and health keep the contract, getPet leaves out a required
/// field and createPet answers a status the document does not describe.
async fn pets_upstream() -> MockServer {
    let upstream = MockServer::start().await;
    let pets = json!([{"id": 1, "name": "Rex"}, {"id": 2, "name": null}]);
    Mock::given(method("GET"))
        .and(path("/v2/pets"))
        .and(query_param("limit", "2"))
        .and(header("authorization", "Bearer upstream-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pets))
        .mount(&upstream)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/pets/1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1})))
        .mount(&upstream)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/pets"))
        .and(body_json(json!({"id": 3, "name": "Tom"})))
        .respond_with(ResponseTemplate::new(500))
        .mount(&upstream)
        .await;
    Mock::given(method("GET")).and(path("/v2/health")).respond_with(ResponseTemplate::new(204)).mount(&upstream).await;
    upstream
}

fn gatehouse(args: &[&str]) -> Ran {
    let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// The table row of an operation, split on runs of two spaces: result, id, request, status, detail.
fn row<'a>(stdout: &'a str, operation: &str) -> Vec<&'a str> {
    let line =
        stdout.lines().find(|l| l.split_whitespace().nth(1) == Some(operation)).unwrap_or_else(|| panic!("{stdout}"));
    line.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn conforming_operations_pass_and_a_wrong_status_or_schema_fails_with_junit_for_ci() {
    let upstream = pets_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let (doc, junit) = (dir.path().join("pets.yaml"), dir.path().join("report.xml"));
    std::fs::write(&doc, PETS).unwrap();
    let base = format!("{}/v2", upstream.uri());
    let args =
        ["test", "--file", doc.to_str().unwrap(), "--upstream", &base, "-H", "Authorization: Bearer upstream-secret"];
    let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    args.extend(["--junit".to_string(), junit.to_str().unwrap().to_string()]);
    let ran = tokio::task::spawn_blocking(move || gatehouse(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap();

    assert!(!ran.ok, "a failing operation fails the run: {}", ran.stdout);
    assert_eq!(
        ran.stderr.trim(),
        format!("error: contract test of {} failed: 5 operations: 2 pass, 2 fail, 1 skipped", doc.display())
    );
    let out = &ran.stdout;
    assert_eq!(row(out, "listPets"), ["pass", "listPets", "GET /pets?limit=2", "200", "-"]);
    assert_eq!(row(out, "health"), ["pass", "health", "GET /health", "204", "-"]);
    let create = row(out, "createPet");
    assert_eq!(create, ["FAIL", "createPet", "POST /pets", "500", "status 500 is not documented (documented: 201)"]);
    let get = row(out, "getPet");
    assert_eq!(get[..4], ["FAIL", "getPet", "GET /pets/1", "200"]);
    assert!(get[4].starts_with("body: ") && get[4].contains("\"name\" is a required property"), "{out}");
    let delete = row(out, "deletePet");
    assert_eq!(
        delete,
        ["skip", "deletePet", "DELETE /pets/{id}", "-", "no example for the required query parameter \"reason\""]
    );
    assert_eq!(out.lines().last(), Some("5 operations: 2 pass, 2 fail, 1 skipped"));

    let report = Report::deserialize_from_str(&std::fs::read_to_string(&junit).unwrap()).unwrap();
    assert_eq!((report.tests, report.failures, report.errors), (5, 2, 0));
    let suite = &report.test_suites[0];
    assert_eq!(suite.skipped, 1);
    let status_of = |name: &str| &suite.test_cases.iter().find(|c| c.name.as_str() == name).unwrap().status;
    assert!(matches!(status_of("listPets"), TestCaseStatus::Success { .. }));
    let TestCaseStatus::NonSuccess { message, .. } = status_of("createPet") else { panic!("{report:?}") };
    assert_eq!(message.as_ref().unwrap().as_str(), "status 500 is not documented (documented: 201)");
    assert!(matches!(status_of("deletePet"), TestCaseStatus::Skipped { .. }));
}

const SWAGGER: &str = r#"{"swagger": "2.0", "info": {"title": "Greeter", "version": "1"}, "basePath": "/api",
  "paths": {"/greet/{name}": {"get": {"operationId": "greet", "produces": ["application/json"],
    "parameters": [{"name": "name", "in": "path", "required": true, "type": "string", "x-example": "Ada", "default": "Nobody"}],
    "responses": {"200": {"description": "hello", "schema": {"type": "object", "required": ["greeting"],
      "properties": {"greeting": {"type": "string"}}}}}}}}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_api_is_tested_against_its_configured_upstream_or_the_one_given() {
    let good = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/greet/Ada"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"greeting": "Hello, Ada"})))
        .mount(&good)
        .await;
    let bad = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/greet/Ada"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/plain").set_body_string("Hello"))
        .mount(&bad)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("greeter.json"), SWAGGER).unwrap();
    let config = format!(
        "apis:\n  - {{ name: Greeter, base_path: /greeter, upstream: {{ url: \"{}\" }}, openapi_file: greeter.json }}\n  - {{ name: Mocked, base_path: /mocked, upstream: {{ url: \"mock:\" }}, openapi_file: greeter.json }}\n",
        good.uri()
    );
    std::fs::write(dir.path().join("gatehouse.yaml"), config).unwrap();
    let bad_uri = bad.uri();
    let ran = tokio::task::spawn_blocking(move || {
        let dev = Dev::start(&dir.path().join("data"));
        dev.ok(&["apply", "-f", dir.path().join("gatehouse.yaml").to_str().unwrap()]);
        let apis = dev.admin_call("GET", "/v1/apis", None);
        let greeter = apis["items"].as_array().unwrap().iter().find(|api| api["name"] == "Greeter").unwrap();
        let api_id = greeter["id"].as_str().unwrap().to_string();
        (
            dev.ok(&["test", "Greeter"]),
            dev.cli(&["test", &api_id, "--upstream", &bad_uri]),
            dev.fails(&["test", "Mocked"]),
            dev.fails(&["test", "Nope"]),
        )
    })
    .await
    .unwrap();
    let (passed, failed, mocked, missing) = ran;
    assert_eq!(
        row(&passed.stdout, "greet"),
        ["pass", "greet", "GET /greet/Ada", "200", "-"],
        "Swagger UI's x-example fills the path"
    );
    assert!(!failed.ok);
    assert_eq!(row(&failed.stdout, "greet")[4], "Content-Type text/plain is not described (application/json)");
    assert!(mocked.contains("upstream mock:") && mocked.contains("--upstream"), "{mocked}");
    assert!(missing.contains("no API with the id or name \"Nope\""), "{missing}");
}
