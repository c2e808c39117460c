use serde_json::{json, Value};

use super::{import, pointer, ImportProblem, ImportedApi, MAX_DOCUMENT_BYTES};
use crate::jwt::JwtSettings;
use crate::model::{AuthSettings, FieldName, KeyLocation, Operation, Requirement};

mod jwt;
mod mtls;
mod routing;

const PETSTORE_30_YAML: &str = include_str!("../../tests/fixtures/openapi/petstore-3.0.yaml");

/// The petstore as its owner would import it: with the JWT settings its OAuth2 scheme needs.
fn petstore_with_jwt() -> String {
    format!("{PETSTORE_30_YAML}\nx-gatehouse-jwt:\n  issuer: https://petstore3.swagger.io/\n  jwks_url: https://petstore3.swagger.io/.well-known/jwks.json\n")
}
const MUSEUM_31_JSON: &str = include_str!("../../tests/fixtures/openapi/museum-3.1.json");

fn imported(text: &str) -> ImportedApi {
    import(text).unwrap_or_else(|problems| panic!("import failed: {problems:#?}"))
}

fn refused(text: &str) -> Vec<ImportProblem> {
    match import(text) {
        Ok(api) => panic!("import should have failed: {api:#?}"),
        Err(problems) => problems,
    }
}

/// A minimal valid 3.0 document with `paths` (and extra top-level members) merged in.
fn doc(paths: Value, extra: Value) -> String {
    let mut document = json!({ "openapi": "3.0.3", "info": { "title": "T", "version": "1" }, "paths": paths });
    if let (Some(document), Value::Object(extra)) = (document.as_object_mut(), extra) {
        document.extend(extra);
    }
    document.to_string()
}

fn operation<'a>(api: &'a ImportedApi, id: &str) -> &'a Operation {
    api.operations.iter().find(|op| op.id == id).unwrap_or_else(|| panic!("no operation {id}"))
}

/// Locations in a fixed order: without serde_json's `preserve_order`, scheme order is by name.
fn sorted(locations: &[KeyLocation]) -> Vec<String> {
    let mut names: Vec<String> = locations.iter().map(|l| format!("{l:?}")).collect();
    names.sort();
    names
}

fn has(problems: &[ImportProblem], pointer: &str, words: &str) -> bool {
    problems.iter().any(|p| p.pointer == pointer && p.message.contains(words))
}

#[test]
fn petstore_3_0_yaml_imports_operations_auth_and_servers() {
    let api = imported(&petstore_with_jwt());
    assert_eq!((api.title.as_str(), api.version.as_str()), ("Swagger Petstore", "1.0.11"));
    assert_eq!(api.servers, ["https://petstore3.swagger.io/api/v3", "https://staging.petstore.example/api/v3"]);
    assert_eq!(api.operations.len(), 6);
    let update = operation(&api, "updatePet");
    assert_eq!((update.method.as_str(), update.path.as_str()), ("PUT", "/pet"));
    assert!(update.scopes.is_empty(), "OAuth2 scopes are the token's, not a key's plan's");
    assert_eq!(update.requirements, [Requirement::token(vec!["write:pets".into(), "read:pets".into()])]);
    assert_eq!(api.auth.jwt.as_ref().and_then(|jwt| jwt.issuer.as_deref()), Some("https://petstore3.swagger.io/"));
    assert!(!update.public);
    assert!(operation(&api, "findPetsByStatus").public);
    let delete = operation(&api, "DELETE /pet/{petId}");
    assert_eq!(delete.summary.as_deref(), Some("Deletes a pet"));
    assert!(!operation(&api, "getInventory").public, "inherits the top-level api_key requirement");
    // Cookie and OAuth2 schemes add no location; header names are lower-cased.
    let expected = [KeyLocation::Header { name: FieldName::parse("x-api-key").expect("valid") }, KeyLocation::Bearer];
    assert_eq!(sorted(&api.auth.key_locations), sorted(&expected));
    assert_eq!(api.document["paths"]["/pet"]["put"]["responses"]["200"]["description"], "Successful operation");
}

#[test]
fn museum_3_1_json_follows_path_item_refs_and_keeps_roles() {
    let api = imported(MUSEUM_31_JSON);
    assert_eq!(api.description.as_deref(), Some("Plan a museum visit: opening hours, special events and tickets."));
    let listed = operation(&api, "listSpecialEvents");
    assert_eq!((listed.method.as_str(), listed.path.as_str()), ("GET", "/special-events"));
    assert_eq!(listed.scopes, ["visitor"], "3.1 roles on an apiKey requirement are kept");
    assert!(operation(&api, "getMuseumHours").public, "[{{}}] states that no credential is needed");
    assert_eq!(operation(&api, "deleteSpecialEvent").scopes, ["curator"]);
    let tickets = operation(&api, "POST /tickets");
    assert_eq!(tickets.scopes, ["visitor"]);
    let token = Requirement::token(vec!["tickets:write".into()]);
    assert_eq!(tickets.requirements, [Requirement::KEY, token], "a key or a token");
    let discovery = "https://example.com/.well-known/openid-configuration";
    assert_eq!(api.auth.jwt, Some(JwtSettings::discovered(discovery)), "OpenID Connect discovers its keys");
    let expected = [
        KeyLocation::Header { name: FieldName::parse("museum-key").expect("valid") },
        KeyLocation::Query { name: "ticket".into() },
    ];
    assert_eq!(sorted(&api.auth.key_locations), sorted(&expected));
}

#[test]
fn swagger_1_document_is_refused_naming_the_versions_imported() {
    let problems = refused(r#"{"swagger": "1.2", "info": {"title": "Old", "version": "1"}, "paths": {}}"#);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].pointer, "/swagger");
    assert!(problems[0].message.contains("imports Swagger 2.0 and OpenAPI 3.0"), "{}", problems[0].message);
}

#[test]
fn every_problem_is_reported_with_its_pointer() {
    let text = r#"
openapi: 3.0
info: { title: Broken }
paths:
  pets: { get: { responses: {} } }
  /pets/{id: { get: { responses: {} } }
  /things: { GET: {}, post: { security: [{ nope: [] }] } }
"#;
    let problems = refused(text);
    assert!(has(&problems, "/openapi", "must be a string"), "{problems:#?}");
    assert!(has(&problems, "/info/version", "required"), "{problems:#?}");
    assert!(has(&problems, "/paths/pets", "must start with '/'"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1pets~1{id", "never closed"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1things/GET", "lower-case"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1things/post/security/0/nope", "no security scheme"), "{problems:#?}");
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn yaml_and_json_forms_import_identically() {
    let from_yaml = imported(&petstore_with_jwt());
    let as_json = serde_json::to_string_pretty(&from_yaml.document).expect("serialises");
    assert_eq!(imported(&as_json), from_yaml);
    let from_json = imported(MUSEUM_31_JSON);
    let as_yaml = serde_yaml_ng::to_string(&from_json.document).expect("serialises");
    assert!(!as_yaml.trim_start().starts_with('{'));
    assert_eq!(imported(&as_yaml), from_json);
}

#[test]
fn an_api_key_header_that_is_no_header_name_is_a_problem() {
    let schemes = json!({ "components": { "securitySchemes": {
        "k": { "type": "apiKey", "name": "API Key", "in": "header" } } } });
    let problems = refused(&doc(json!({ "/a": { "get": { "security": [{ "k": [] }] } } }), schemes));
    assert!(has(&problems, "/components/securitySchemes/k/name", "not a valid header field name"), "{problems:#?}");
}

#[test]
fn explicit_empty_security_makes_an_operation_public() {
    let schemes = json!({ "components": { "securitySchemes": { "k": { "type": "apiKey", "name": "K", "in": "header" } } },
                          "security": [{ "k": [] }] });
    let paths = json!({ "/open": { "get": { "security": [] } }, "/closed": { "get": {} },
                        "/optional": { "get": { "security": [{}, { "k": [] }] } } });
    let api = imported(&doc(paths, schemes));
    assert!(operation(&api, "GET /open").public);
    assert!(!operation(&api, "GET /closed").public);
    assert!(!operation(&api, "GET /optional").public, "optional security still asks for a key");
    let top_level_open = imported(&doc(json!({ "/a": { "get": {} } }), json!({ "security": [] })));
    assert!(top_level_open.operations[0].public);
}

#[test]
fn missing_security_never_makes_an_api_public() {
    let api = imported(&doc(json!({ "/a": { "get": {} }, "/b": { "post": {} } }), json!({})));
    assert!(api.operations.iter().all(|op| !op.public), "{:?}", api.operations);
    assert_eq!(api.auth, AuthSettings::default());
    assert!(!api.auth.key_locations.is_empty());
}

#[test]
fn duplicate_operation_ids_are_refused() {
    let paths = json!({ "/a": { "get": { "operationId": "list" } }, "/b": { "get": { "operationId": "list" } } });
    let problems = refused(&doc(paths, json!({})));
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].pointer, "/paths/~1b/get/operationId");
    assert!(problems[0].message.contains("/paths/~1a/get"), "{}", problems[0].message);
}

#[test]
fn pointer_escapes_slashes_in_paths() {
    let problems = refused(&doc(json!({ "/pets/{id}": { "get": "nope" } }), json!({})));
    assert_eq!(problems[0].pointer, "/paths/~1pets~1{id}/get");
    assert_eq!(pointer::child("", "a~/b"), "/a~0~1b", "`~` is escaped before `/`");
}

#[test]
fn alias_bomb_is_refused() {
    // Billion laughs: nine levels of nine aliases each expand to 9^9 strings.
    let mut text = String::from("openapi: 3.0.3\nx0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..=9 {
        let previous = format!("*x{}", level - 1);
        text.push_str(&format!("x{level}: &x{level} [{}]\n", vec![previous; 9].join(", ")));
    }
    let problems = refused(&text);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].pointer, "");
}

#[test]
fn wide_alias_bomb_is_refused_by_the_expansion_budget() {
    // Few alias jumps (so serde_yaml_ng's repetition guard passes), each repeating 256 KiB.
    let mut text = format!("openapi: 3.0.3\nbig: &big \"{}\"\ncopies:\n", "x".repeat(256 * 1024));
    text.push_str(&"  - *big\n".repeat(400));
    let problems = refused(&text);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("expands to more than"), "{}", problems[0].message);
}

#[test]
fn oversized_and_deeply_nested_documents_are_refused() {
    let huge = format!("{{\"openapi\": \"{}\"}}", "x".repeat(MAX_DOCUMENT_BYTES));
    assert!(refused(&huge)[0].message.contains("the limit is"));
    let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
    assert!(refused(&format!("x: {deep}"))[0].message.contains("nesting deeper than"));
    assert!(refused(&format!("{{\"x\": {deep}}}"))[0].message.contains("nesting deeper than"));
}

#[test]
fn parse_errors_name_line_and_column() {
    let json = refused("{\n  \"openapi\": \"3.0.3\",\n  \"info\": }");
    assert!(json[0].message.starts_with("invalid JSON") && json[0].message.contains("line 3"), "{json:?}");
    let yaml = refused("openapi: 3.0.3\ninfo:\n  title: [unclosed\n");
    assert!(yaml[0].message.starts_with("invalid YAML") && yaml[0].message.contains("line"), "{yaml:?}");
    let duplicate = refused("openapi: 3.0.3\nopenapi: 3.1.0\n");
    assert!(duplicate[0].message.contains("duplicate key"), "{duplicate:?}");
}

#[test]
fn webhooks_only_3_1_document_imports_with_no_operations() {
    let text = r#"{"openapi": "3.1.0", "info": {"title": "Hooks", "version": "1"},
                   "webhooks": {"ping": {"post": {"responses": {"200": {"description": "ok"}}}}}}"#;
    assert!(imported(text).operations.is_empty());
    let no_paths_30 = text.replace("3.1.0", "3.0.3");
    assert!(has(&refused(&no_paths_30), "/paths", "required"));
}

#[test]
fn path_item_refs_must_resolve_within_the_document() {
    let paths = json!({ "/a": { "$ref": "#/components/pathItems/Missing" }, "/b": { "$ref": "other.yaml#/B" },
                        "/c": { "$ref": "#/paths/~1c" } });
    let problems = refused(&doc(paths, json!({})));
    assert!(has(&problems, "/paths/~1a/$ref", "does not exist"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1b/$ref", "bundle it"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1c", "reference cycle"), "{problems:#?}");
}

#[test]
fn templates_and_parameters_are_checked() {
    let repeated = json!([{ "name": "q", "in": "query" }, { "name": "q", "in": "query" }]);
    let get = json!({ "responses": { "200": { "description": "OK" } } });
    let paths = json!({ "/a/{id}/b/{id}": {}, "/x/{}": {}, "/p/{petId}": { "get": get }, "/p/{id}": { "get": get },
                        "/r/{a}": { "get": get }, "/r/{b}": { "delete": get },
                        "/q": { "parameters": repeated, "fetch": {} } });
    let problems = refused(&doc(paths, json!({})));
    assert!(has(&problems, "/paths/~1a~1{id}~1b~1{id}", "appears twice"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1x~1{}", "empty parameter name"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1p~1{id}", "same template as /paths/~1p~1{petId}"), "{problems:#?}");
    assert!(!problems.iter().any(|p| p.pointer.starts_with("/paths/~1r")), "methods apart: {problems:#?}");
    assert!(has(&problems, "/paths/~1q/parameters/1", "declared twice"), "{problems:#?}");
    assert!(has(&problems, "/paths/~1q/fetch", "neither a path item field"), "{problems:#?}");
}
