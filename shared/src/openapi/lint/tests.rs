use serde_json::{json, Value};

use super::naming::{style, Style};
use super::*;

/// A document that passes every rule; each test breaks one thing in it.
fn clean() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Pets", "version": "1" },
        "security": [{ "key": [] }],
        "components": { "securitySchemes": { "key": { "type": "apiKey", "in": "header", "name": "x-api-key" } } },
        "paths": {
            "/pet-owners/{id}": { "get": {
                "operationId": "getPetOwner", "summary": "One owner",
                "responses": {
                    "200": { "description": "ok", "content": { "application/json": {
                        "schema": { "type": "object", "properties": { "name": { "type": "string" } } },
                        "example": { "name": "Ada" } } } },
                    "404": { "description": "no such owner" }
                }
            } },
            "/pet-owners": { "post": {
                "operationId": "createPetOwner", "summary": "Add an owner",
                "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Owner" } } } },
                "responses": { "201": { "description": "created" }, "default": { "description": "failed" } }
            } }
        }
    })
}

fn rules(doc: &Value) -> Vec<(String, String)> {
    lint_document(doc).findings.into_iter().map(|f| (f.rule, f.pointer)).collect()
}

fn with_owner_schema(mut doc: Value) -> Value {
    doc["components"]["schemas"] = json!({ "Owner": { "type": "object", "examples": [{ "name": "Ada" }] } });
    doc
}

#[test]
fn a_clean_document_has_no_findings() {
    let report = lint_document(&with_owner_schema(clean()));
    assert_eq!(report.findings, vec![]);
    assert_eq!(report.worst(), None);
}

#[test]
fn an_operation_without_an_operation_id_is_a_warning() {
    let mut doc = with_owner_schema(clean());
    doc["paths"]["/pet-owners"]["post"].as_object_mut().unwrap().remove("operationId");
    let report = lint_document(&doc);
    assert_eq!(rules(&doc), vec![("operation-id".into(), "/paths/~1pet-owners/post".into())]);
    assert_eq!((report.warnings, report.worst()), (1, Some(Severity::Warning)));
}

#[test]
fn an_operation_without_a_summary_is_reported() {
    let mut doc = with_owner_schema(clean());
    doc["paths"]["/pet-owners"]["post"]["summary"] = json!("  ");
    assert_eq!(rules(&doc), vec![("operation-summary".into(), "/paths/~1pet-owners/post".into())]);
}

#[test]
fn an_operation_with_only_success_responses_is_reported() {
    let mut doc = with_owner_schema(clean());
    doc["paths"]["/pet-owners"]["post"]["responses"].as_object_mut().unwrap().remove("default");
    assert_eq!(rules(&doc), vec![("operation-error-response".into(), "/paths/~1pet-owners/post/responses".into())]);
}

#[test]
fn a_body_without_an_example_is_reported_once_even_when_shared() {
    let mut doc = clean();
    doc["components"]["schemas"] = json!({ "Owner": { "type": "object" } });
    let shared = json!({ "$ref": "#/components/requestBodies/Owner" });
    doc["components"]["requestBodies"] = json!({ "Owner": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Owner" } } } } });
    doc["paths"]["/pet-owners"]["post"]["requestBody"] = shared.clone();
    doc["paths"]["/pet-owners"]["put"] = doc["paths"]["/pet-owners"]["post"].clone();
    doc["paths"]["/pet-owners"]["put"]["operationId"] = json!("replacePetOwner");
    let report = lint_document(&doc);
    let at = "/components/requestBodies/Owner/content/application~1json";
    assert_eq!(rules(&doc), vec![("media-example".into(), at.into())]);
    assert_eq!((report.infos, report.worst()), (1, Some(Severity::Info)));
}

#[test]
fn an_operation_with_no_security_anywhere_is_an_error() {
    let mut doc = with_owner_schema(clean());
    doc.as_object_mut().unwrap().remove("security");
    let report = lint_document(&doc);
    assert_eq!(report.errors, 2);
    assert_eq!(report.findings[0].rule, "operation-security");
    assert_eq!(report.findings[0].pointer, "/paths/~1pet-owners~1{id}/get");
    assert_eq!(report.worst(), Some(Severity::Error));
}

#[test]
fn an_operations_own_security_overrides_a_missing_top_level_one() {
    let mut doc = with_owner_schema(clean());
    doc.as_object_mut().unwrap().remove("security");
    for path in ["/pet-owners/{id}", "/pet-owners"] {
        for (_, op) in doc["paths"][path].as_object_mut().unwrap() {
            op["security"] = json!([{ "key": [] }]);
        }
    }
    assert_eq!(rules(&doc), vec![]);
}

#[test]
fn public_and_optional_security_are_reported_where_declared() {
    let mut doc = with_owner_schema(clean());
    doc["paths"]["/pet-owners"]["post"]["security"] = json!([]);
    doc["paths"]["/pet-owners/{id}"]["get"]["security"] = json!([{}, { "key": [] }]);
    let found = rules(&doc);
    assert_eq!(
        found,
        vec![
            ("operation-public".into(), "/paths/~1pet-owners~1{id}/get/security".into()),
            ("operation-public".into(), "/paths/~1pet-owners/post/security".into()),
        ]
    );
    doc["paths"]["/pet-owners"]["post"]["security"] = json!("key");
    assert_eq!(rules(&doc).len(), 1, "a malformed requirement is import's to report, not called public");
}

#[test]
fn likely_sensitive_fields_reuse_the_import_warning() {
    let mut doc = with_owner_schema(clean());
    doc["components"]["schemas"]["Owner"]["properties"] = json!({ "email": { "type": "string" } });
    let report = lint_document(&doc);
    let expected = crate::openapi::sensitivity_report(&doc).warnings;
    assert_eq!(expected.len(), 1);
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].rule, "sensitive-unclassified");
    assert_eq!(report.findings[0].pointer, expected[0].pointer);
    assert_eq!(report.findings[0].message, expected[0].message);
    doc["components"]["schemas"]["Owner"]["properties"]["email"]["x-gatehouse-sensitivity"] = json!("pii");
    assert_eq!(rules(&doc), vec![]);
}

#[test]
fn styles_are_told_apart_and_one_word_fits_all() {
    assert_eq!(style("getPetOwner"), Some(Style::Camel));
    assert_eq!(style("GetPetOwner"), Some(Style::Pascal));
    assert_eq!(style("get_pet_owner"), Some(Style::Snake));
    assert_eq!(style("pet-owners"), Some(Style::Kebab));
    assert_eq!(style("pets"), None);
    assert_eq!(style("get_Pets"), None);
}

#[test]
fn an_operation_id_in_a_minority_style_is_reported() {
    let mut doc = with_owner_schema(clean());
    doc["paths"]["/pet-owners"]["post"]["operationId"] = json!("create_pet_owner");
    doc["paths"]["/pet-owners"]["put"] = doc["paths"]["/pet-owners"]["post"].clone();
    doc["paths"]["/pet-owners"]["put"]["operationId"] = json!("replace_pet_owner");
    let found = rules(&doc);
    assert_eq!(found, vec![("naming-operation-id".into(), "/paths/~1pet-owners~1{id}/get/operationId".into())]);
}

#[test]
fn a_path_segment_in_another_style_is_reported() {
    let mut doc = with_owner_schema(clean());
    let item = doc["paths"]["/pet-owners"].clone();
    doc["paths"]["/pet-owners/{id}/pet_names"] = item.clone();
    doc["paths"]["/pet-owners/{id}/pet_names"]["post"]["operationId"] = json!("addPetName");
    doc["paths"]["/vet-visits"] = item;
    doc["paths"]["/vet-visits"]["post"]["operationId"] = json!("addVetVisit");
    assert_eq!(rules(&doc), vec![("naming-path-segment".into(), "/paths/~1pet-owners~1{id}~1pet_names".into())]);
}

#[test]
fn swagger_2_is_converted_first_and_yaml_is_read() {
    let text = "swagger: '2.0'\ninfo: { title: P, version: '1' }\npaths:\n  /pets:\n    get:\n      responses: { '200': { description: ok } }\n";
    let report = lint(text).unwrap();
    assert!(report.converted_from_swagger2);
    let ids: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(ids, ["operation-security", "operation-id", "operation-summary", "operation-error-response"]);
}

#[test]
fn text_that_is_not_a_document_is_an_error_with_the_parser_message() {
    assert!(lint("{ not json").unwrap_err().message.starts_with("invalid JSON"));
    assert!(lint("- a\n- list\n").unwrap_err().message.contains("object at the top level"));
}

#[test]
fn the_docs_list_every_rule_with_its_severity() {
    let docs = include_str!("../../../../docs/lint.md");
    for rule in RULES {
        let row = format!("| `{}` | {} |", rule.id, rule.severity.as_str());
        assert!(docs.contains(&row), "docs/lint.md lacks the row {row}");
    }
}
