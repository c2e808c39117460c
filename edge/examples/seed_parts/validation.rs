//! `api_validated` (validation.test.mjs): an API whose requests the Worker checks against its
//! OpenAPI document before the upstream sees them, as the control plane publishes it (with its
//! document and its validation settings).

use gatehouse_core::model::Api;
use gatehouse_core::openapi;
use gatehouse_core::validation::{ValidationOverride, ValidationSettings};

/// Parameters of each kind, a JSON body reaching a component by `$ref`, and an operation
/// whose checks are turned off by its override.
pub const DOCUMENT: &str = r##"
openapi: 3.0.3
info: { title: Orders, version: "1" }
security: [ { key: [] } ]
paths:
  /orders:
    get:
      operationId: listOrders
      parameters: [ { name: limit, in: query, schema: { type: integer, maximum: 100 } } ]
      responses: { "200": { description: ok } }
  /orders/{id}:
    put:
      operationId: putOrder
      parameters:
        - { name: id, in: path, required: true, schema: { type: integer, minimum: 1 } }
        - { name: X-Trace, in: header, required: true, schema: { type: string, pattern: "^[a-f0-9]{8}$" } }
      requestBody:
        required: true
        content: { application/json: { schema: { $ref: "#/components/schemas/Order" } } }
      responses: { "200": { description: ok } }
  /notes:
    post:
      operationId: postNote
      requestBody: { content: { application/json: { schema: { type: object, required: [text] } } } }
      responses: { "201": { description: made } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
  schemas:
    Order:
      type: object
      required: [items]
      properties:
        items: { type: array, items: { $ref: "#/components/schemas/Item" } }
        note: { type: string, nullable: true }
    Item: { type: object, required: [price], properties: { price: { type: number, minimum: 0 } } }
"##;

/// The apps that call `api_validated`.
pub const CALLERS: [&str; 1] = ["validcaller"];

/// `api_validated` as KV holds it: requests checked, except `postNote`'s.
pub fn api(mut base: Api) -> Api {
    let imported = openapi::import(DOCUMENT).expect("the validation document imports");
    base.operations = imported.operations;
    base.openapi = imported.document;
    let off = ValidationOverride { requests: Some(false), responses: None };
    base.validation =
        ValidationSettings { requests: true, operations: [("postNote".into(), off)].into(), ..Default::default() };
    base
}
