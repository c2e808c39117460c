//! `api_mock` (mock.test.mjs): an API without a backend yet, `upstream.url = "mock:"`, whose
//! document the Worker answers from, as the control plane publishes it (with its document).

use gatehouse_core::model::Api;
use gatehouse_core::openapi;

/// The mock API's OpenAPI document: a named example, a 404 example and a schema-made list.
pub const DOCUMENT: &str = r##"
openapi: 3.1.0
info: { title: Pets mock, version: "1" }
security: [ { key: [] } ]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [ { name: id, in: path, required: true, schema: { type: string } } ]
      responses:
        "200":
          description: ok
          content:
            application/json:
              examples:
                cat: { value: { id: "1", name: Tom, kind: cat } }
                dog: { value: { id: "2", name: Rex, kind: dog } }
        "404":
          description: none
          content: { application/json: { example: { error: no such pet } } }
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { type: array, minItems: 1, items: { type: object, required: [id], properties: { id: { type: integer } } } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
"##;

/// The apps that call `api_mock`.
pub const CALLERS: [&str; 1] = ["mockcaller"];

/// `api_mock` as KV holds it: the base API with the imported operations and the document.
pub fn api(mut base: Api) -> Api {
    let imported = openapi::import(DOCUMENT).expect("the mock document imports");
    base.operations = imported.operations;
    base.upstream.url = "mock:".into();
    base.openapi = imported.document;
    base
}
