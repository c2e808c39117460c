use serde_json::json;

use super::convert;
use crate::model::KeyLocation;
use crate::openapi::import;

/// Swagger's own 2.0 petstore, cut to the shapes that change in 3.0.
const PETSTORE_2: &str = r##"
swagger: "2.0"
info: {title: Swagger Petstore, version: 1.0.6}
host: petstore.swagger.io
basePath: /v2
schemes: [https, http]
consumes: [application/json]
produces: [application/json, application/xml]
securityDefinitions:
  petstore_auth:
    type: oauth2
    authorizationUrl: https://petstore.swagger.io/oauth/authorize
    flow: implicit
    scopes: {"write:pets": modify pets, "read:pets": read pets}
  api_key: {type: apiKey, name: api_key, in: header}
parameters:
  petId: {name: petId, in: path, required: true, type: integer, format: int64}
  limit: {name: limit, in: query, type: array, items: {type: string}, collectionFormat: csv}
paths:
  /pet:
    post:
      operationId: addPet
      parameters:
        - {in: body, name: body, required: true, schema: {$ref: "#/definitions/Pet"}}
      responses: {"405": {description: Invalid input}}
      security: [{api_key: []}]
  /pet/{petId}/uploadImage:
    post:
      operationId: uploadFile
      consumes: [multipart/form-data]
      parameters:
        - $ref: "#/parameters/petId"
        - {name: file, in: formData, type: file}
        - {name: note, in: formData, type: string, required: true}
      responses:
        "200": {description: ok, schema: {$ref: "#/definitions/ApiResponse"}}
      security: [{api_key: []}]
  /pet/findByStatus:
    get:
      operationId: findPetsByStatus
      parameters: [{$ref: "#/parameters/limit"}]
      responses:
        "200":
          description: ok
          schema: {type: array, items: {$ref: "#/definitions/Pet"}}
          headers: {X-Rate-Limit: {type: integer, description: calls left}}
      security: [{petstore_auth: ["read:pets"]}]
definitions:
  Pet: {type: object, properties: {id: {type: integer}, tags: {type: array, items: {$ref: "#/definitions/Tag"}}}}
  Tag: {type: object}
  ApiResponse: {type: object}
x-gatehouse-jwt:
  issuer: https://petstore.swagger.io/
  jwks_url: https://petstore.swagger.io/.well-known/jwks.json
"##;

#[test]
fn a_swagger_2_description_imports_as_openapi_3() {
    let api = import(PETSTORE_2).unwrap_or_else(|p| panic!("{p:#?}"));
    let ids: Vec<&str> = api.operations.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(ids, ["addPet", "uploadFile", "findPetsByStatus"]);
    assert_eq!(api.servers, ["https://petstore.swagger.io/v2", "http://petstore.swagger.io/v2"]);
    assert_eq!(api.default_upstream.as_deref(), Some("https://petstore.swagger.io/v2"));
    assert_eq!(
        api.auth.key_locations,
        [KeyLocation::Header { name: crate::model::FieldName::parse("api_key").expect("name") }]
    );
    assert!(api.report.iter().any(|note| note.pointer == "/swagger"), "{:?}", api.report);
    assert_eq!(api.document["openapi"], "3.0.3");
}

#[test]
fn bodies_forms_definitions_and_security_move_to_their_3_0_places() {
    let doc: serde_json::Value = serde_yaml_ng::from_str(PETSTORE_2).expect("yaml");
    let out = convert(&doc);
    let add = &out["paths"]["/pet"]["post"];
    assert_eq!(add["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Pet");
    assert_eq!(add["requestBody"]["required"], true);
    let upload = &out["paths"]["/pet/{petId}/uploadImage"]["post"];
    let form = &upload["requestBody"]["content"]["multipart/form-data"]["schema"];
    assert_eq!(form["properties"]["file"], json!({"type": "string", "format": "binary"}));
    assert_eq!(form["required"], json!(["note"]));
    assert_eq!(upload["parameters"][0]["$ref"], "#/components/parameters/petId");
    let ok = &out["paths"]["/pet/findByStatus"]["get"]["responses"]["200"];
    assert_eq!(ok["content"]["application/xml"]["schema"]["items"]["$ref"], "#/components/schemas/Pet");
    assert_eq!(ok["headers"]["X-Rate-Limit"]["schema"]["type"], "integer");
    assert_eq!(out["components"]["parameters"]["limit"]["style"], "form");
    assert_eq!(out["components"]["parameters"]["petId"]["schema"]["format"], "int64");
    assert_eq!(out["components"]["schemas"]["Pet"]["properties"]["tags"]["items"]["$ref"], "#/components/schemas/Tag");
    let oauth = &out["components"]["securitySchemes"]["petstore_auth"];
    assert_eq!(oauth["flows"]["implicit"]["scopes"]["read:pets"], "read pets");
    assert!(out.get("definitions").is_none() && out.get("swagger").is_none());
}

#[test]
fn a_swagger_2_document_without_host_keeps_its_base_path_as_a_relative_server() {
    let out = convert(&json!({"swagger": "2.0", "basePath": "/api", "paths": {}}));
    assert_eq!(out["servers"], json!([{"url": "/api"}]));
}

#[test]
fn response_examples_and_x_example_become_3_0_examples() {
    let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "1"}, "produces": ["application/json"],
        "paths": {"/pets/{id}": {"get": {
            "parameters": [{"name": "id", "in": "path", "required": true, "type": "integer", "x-example": 7}],
            "responses": {
                "200": {"description": "ok", "schema": {"type": "object"},
                    "examples": {"application/json": {"id": 7}, "text/plain": "seven"}},
                "404": {"description": "gone", "examples": {"application/problem+json": {"title": "gone"}}}}}}}});
    let converted = convert(&doc);
    let get = &converted["paths"]["/pets/{id}"]["get"];
    assert_eq!(get["parameters"][0]["example"], 7);
    let ok = &get["responses"]["200"]["content"];
    assert_eq!(ok["application/json"], json!({"schema": {"type": "object"}, "example": {"id": 7}}));
    assert_eq!(ok["text/plain"], json!({"schema": {"type": "object"}, "example": "seven"}));
    assert_eq!(get["responses"]["404"]["content"]["application/problem+json"], json!({"example": {"title": "gone"}}));
}
