#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::*;

/// Writes `files` under a fresh directory; returns it (kept alive by the caller).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn bundled(dir: &tempfile::TempDir, root: &str) -> Result<Option<Value>, Vec<String>> {
    let path = dir.path().join(root);
    let doc = gatehouse_core::openapi::parse_document(&std::fs::read_to_string(&path).unwrap()).unwrap();
    bundle(&path, doc)
}

const ROOT: &str = r##"openapi: 3.0.3
info: { title: Split, version: "1" }
paths:
  /pets:
    $ref: paths/pets.yaml
  /owners/{id}:
    get:
      parameters: [ { $ref: "common/params.yaml#/id" } ]
      responses:
        "200":
          description: an owner
          content: { application/json: { schema: { $ref: "common/models.yaml#/Owner" } } }
components:
  schemas:
    Owner: { type: string, description: "taken: the inlined one gets another name" }
"##;

const PETS: &str = r##"get:
  operationId: listPets
  x-ms-examples: { list: { $ref: "./examples/none.json" } }
  responses:
    "200":
      description: pets
      content:
        application/json:
          schema: { type: array, items: { $ref: "../common/models.yaml#/Pet" } }
"##;

const MODELS: &str = r##"Pet:
  type: object
  properties:
    owner: { $ref: "#/Owner" }
    home: { $ref: "../openapi.yaml#/components/schemas/Owner" }
Owner:
  type: object
  properties:
    pets: { type: array, items: { $ref: "#/Pet" } }
"##;

#[test]
fn files_named_by_refs_are_inlined_relative_to_the_file_that_names_them_cycles_included() {
    let dir = tree(&[
        ("openapi.yaml", ROOT),
        ("paths/pets.yaml", PETS),
        ("common/models.yaml", MODELS),
        ("common/params.yaml", "id: { name: id, in: path, required: true, schema: { type: string } }\n"),
    ]);
    let doc = bundled(&dir, "openapi.yaml").unwrap().unwrap();
    let get = &doc["paths"]["/pets"]["get"];
    assert_eq!(get["operationId"], "listPets", "the path item is copied in place");
    assert_eq!(get["x-ms-examples"]["list"]["$ref"], "./examples/none.json", "extensions are left alone");
    assert_eq!(
        get["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"],
        "#/components/schemas/Pet"
    );
    let owner = &doc["paths"]["/owners/{id}"]["get"];
    assert_eq!(owner["parameters"][0]["name"], "id");
    assert_eq!(
        owner["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Owner_2"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Pet"]["properties"]["owner"]["$ref"], "#/components/schemas/Owner_2");
    assert_eq!(
        schemas["Pet"]["properties"]["home"]["$ref"], "#/components/schemas/Owner",
        "a ref back into the document"
    );
    assert_eq!(
        schemas["Owner_2"]["properties"]["pets"]["items"]["$ref"], "#/components/schemas/Pet",
        "the cycle is a reference"
    );
    assert_eq!(schemas["Owner"]["type"], "string");
    let imported = gatehouse_core::openapi::import(&doc.to_string()).unwrap();
    assert_eq!(imported.operations.len(), 2);
}

#[test]
fn a_document_without_external_refs_is_sent_as_written() {
    let dir = tree(&[("openapi.yaml", "openapi: 3.1.0\ninfo: { title: T, version: '1' }\npaths: {}\ncomponents: { schemas: { A: { $ref: '#/components/schemas/B' }, B: {} } }\n")]);
    assert_eq!(bundled(&dir, "openapi.yaml"), Ok(None));
}

#[test]
fn swagger_2_schemas_go_to_definitions() {
    let dir = tree(&[
        (
            "api.json",
            r#"{"swagger": "2.0", "info": {"title": "T", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok", "schema": {"$ref": "defs.json#/A"}}}}}}}"#,
        ),
        ("defs.json", r#"{"A": {"type": "object"}}"#),
    ]);
    let doc = bundled(&dir, "api.json").unwrap().unwrap();
    assert_eq!(doc["paths"]["/a"]["get"]["responses"]["200"]["schema"]["$ref"], "#/definitions/A");
    assert_eq!(doc["definitions"]["A"], json!({"type": "object"}));
}

#[test]
fn urls_files_outside_the_directory_missing_targets_and_non_schema_cycles_are_refused() {
    let dir = tree(&[
        ("outside.yaml", "A: { type: string }\n"),
        (
            "api/openapi.yaml",
            r##"openapi: 3.0.3
info: { title: T, version: "1" }
paths:
  /a: { $ref: "https://example.com/paths.yaml#/a" }
  /b: { $ref: "../outside.yaml#/A" }
  /c: { $ref: "loop.yaml#/one" }
  /d: { $ref: "loop.yaml#/nowhere" }
  /e: { $ref: "missing.yaml" }
"##,
        ),
        ("api/loop.yaml", "one: { $ref: '#/two' }\ntwo: { $ref: '#/one' }\n"),
    ]);
    let problems = bundled(&dir, "api/openapi.yaml").unwrap_err();
    let shown = dir.path().join("api");
    let at = |pointer: &str| format!("{}: /paths/{pointer}/$ref: ", shown.join("openapi.yaml").display());
    assert!(problems[0].starts_with(&at("~1a")) && problems[0].contains("is a URL"), "{problems:#?}");
    assert!(
        problems[1].starts_with(&at("~1b")) && problems[1].contains("outside the document's directory"),
        "{problems:#?}"
    );
    assert!(problems[2].contains("refers back to itself") && problems[2].contains("loop.yaml#/one"), "{problems:#?}");
    assert!(
        problems[3].starts_with(&at("~1d")) && problems[3].ends_with("loop.yaml#/nowhere does not exist"),
        "{problems:#?}"
    );
    assert!(problems[4].starts_with(&at("~1e")) && problems[4].contains("cannot be read"), "{problems:#?}");
    assert_eq!(problems.len(), 5, "{problems:#?}");
}
