//! `api_crm` (sensitive.test.mjs): an API whose document marks personal and financial data
//! with `x-gatehouse-sensitivity`, compiled by the core's own importer exactly as the control
//! plane would, and the apps that call it with and without grants for those classes.

use gatehouse_core::entitlements::ClassGrant;
use gatehouse_core::model::Operation;
use gatehouse_core::openapi;

/// The CRM API's OpenAPI document; access.test.mjs imports it through the control plane.
pub const DOCUMENT: &str = r##"
openapi: 3.1.0
info: { title: CRM, version: "1" }
security: [ { key: [] } ]
paths:
  /customers/{id}:
    get:
      operationId: getCustomer
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
        - { name: ssn, in: query, schema: { type: string }, x-gatehouse-sensitivity: pii }
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Customer" } } } }
  /export:
    get:
      operationId: export
      responses:
        "200": { description: ok, content: { application/json: { schema: { $ref: "#/components/schemas/Customer" } } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
  schemas:
    Customer:
      type: object
      properties:
        id: { type: string }
        name: { type: string }
        email: { type: string, x-gatehouse-sensitivity: pii }
        card: { type: string, x-gatehouse-sensitivity: { class: financial, mask: last4 } }
        referrals: { type: array, items: { $ref: "#/components/schemas/Customer" } }
"##;

/// The operations of `api_crm`, with their compiled sensitivity.
pub fn operations() -> Vec<Operation> {
    openapi::import(DOCUMENT).expect("the CRM document imports").operations
}

/// The apps that call `api_crm`: none of its classes, both, and a pii grant that expired.
pub const CALLERS: [&str; 3] = ["crmplain", "crmholder", "crmexpired"];

/// The classes `who`'s app holds.
pub fn classes_of(who: &str, expired_at: i64) -> Vec<ClassGrant> {
    let grant = |class: &str, expires_at| ClassGrant { api_id: "api_crm".into(), class: class.into(), expires_at };
    match who {
        "crmholder" => vec![grant("pii", None), grant("financial", None)],
        "crmexpired" => vec![grant("pii", Some(expired_at))],
        _ => vec![],
    }
}
