//! `api_ver1` and `api_ver2` (mock.test.mjs): two versions of one API on one base path,
//! `/ver`, chosen by the `api-version` header (v1 the default), each a mock answering with its
//! own label, so the test needs no upstream to tell which version answered.

use gatehouse_core::model::{Api, VersionScheme, Versioning};
use gatehouse_core::openapi;

/// The document of version `label`: one operation whose example names the version.
fn document(label: &str) -> String {
    format!(
        r##"
openapi: 3.1.0
info: {{ title: Pets {label}, version: "{label}" }}
security: [ {{ key: [] }} ]
paths:
  /pets/{{id}}:
    get:
      operationId: getPet
      parameters: [ {{ name: id, in: path, required: true, schema: {{ type: string }} }} ]
      responses:
        "200":
          description: ok
          content: {{ application/json: {{ example: {{ id: "1", version: {label} }} }} }}
components:
  securitySchemes:
    key: {{ type: apiKey, in: header, name: X-API-Key }}
"##
    )
}

/// The apps that call both versions.
pub const CALLERS: [&str; 1] = ["versioned"];

/// The version `label` of the family, from a base API at `/ver`.
pub fn api(mut base: Api, label: &str, default: bool) -> Api {
    let imported = openapi::import(&document(label)).expect("the version's document imports");
    base.operations = imported.operations;
    base.upstream.url = "mock:".into();
    base.openapi = imported.document;
    let scheme = VersionScheme::Header { header: "api-version".into(), default };
    base.versioning = Some(Versioning { set: "pets".into(), label: label.into(), scheme });
    base
}
