//! An API whose upstream is `mock:` is answered by the native gateway from its OpenAPI
//! document, over real HTTP, with keys, limits, the cache and usage applying as for a real
//! upstream (docs/mock.md).
#![allow(clippy::unwrap_used)]

mod support;

use bytes::Bytes;
use serde_json::{json, Value};
use support::{assert_problem, onboard, Harness};

const PETS: &str = r##"
openapi: 3.1.0
info: { title: Pets, version: 1.0.0 }
security: [ { key: [] } ]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      responses:
        "200":
          description: a pet
          headers:
            Cache-Control: { schema: { type: string, example: "public, max-age=60" } }
          content:
            application/json:
              examples:
                cat: { value: { id: 1, name: Tom } }
                dog: { value: { id: 2, name: Rex } }
        "404":
          description: no such pet
          content:
            application/problem+json: { example: { title: No such pet, status: 404 } }
  /pets:
    get:
      operationId: listPets
      responses:
        "200":
          description: pets
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Pet" } }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: { type: integer, minimum: 1 }
        name: { type: string }
        born: { type: string, format: date }
        parent: { $ref: "#/components/schemas/Pet" }
"##;

async fn call(h: &Harness, path: &str, key: &str, headers: &[(&str, &str)]) -> support::Reply {
    let url = format!("http://{}{path}", h.app.gateway_addr);
    let mut all = vec![("x-api-key", key)];
    all.extend_from_slice(headers);
    h.send("GET", &url, &all, Bytes::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mock_api_answers_from_its_document_with_keys_limits_cache_and_usage() {
    let h = Harness::start(false).await;
    let api = h
        .admin_ok(
            "POST",
            "/v1/apis",
            json!({"openapi": PETS, "base_path": "/pets-mock", "upstream": {"url": "mock:"}, "cache": {"enabled": true}}),
        )
        .await;
    let api_id = api["id"].as_str().unwrap().to_string();
    assert_eq!(api["upstream"]["url"], "mock:");
    h.admin_ok("POST", &format!("/v1/apis/{api_id}/lifecycle"), json!({"action": "publish"})).await;
    let limits = json!([{"name": "burst", "scope": "app", "type": "rate", "limit": 7, "period_secs": 60, "burst": 7}]);
    let (_app, key_id, key) = onboard(&h, &api_id, "mock@example.com", limits).await;

    // Keys apply: no key, no answer.
    assert_problem(&h.call("GET", "/pets-mock/pets/1", None).await, 401, "missing-credential");

    // 1: the first 2xx and its first example; the limit headers are there as for any call.
    let pet = call(&h, "/pets-mock/pets/1", &key, &[]).await;
    assert_eq!(pet.status, 200, "{}", String::from_utf8_lossy(&pet.body));
    assert_eq!(pet.header("content-type"), Some("application/json"));
    assert_eq!(pet.json(), json!({"id": 1, "name": "Tom"}));
    assert!(pet.header("ratelimit").is_some(), "{:?}", pet.headers);
    // 2: the cache answers the same request again (the example said public, max-age=60).
    let again = call(&h, "/pets-mock/pets/1", &key, &[]).await;
    assert_eq!(again.json(), json!({"id": 1, "name": "Tom"}));
    assert!(again.header("cache-status").unwrap().contains("hit"), "{:?}", again.headers);

    // 3, 4: Prefer picks the example, and the described 404.
    let dog = call(&h, "/pets-mock/pets/1", &key, &[("prefer", "example=dog")]).await;
    assert_eq!((dog.status, dog.json()), (200, json!({"id": 2, "name": "Rex"})));
    let missing = call(&h, "/pets-mock/pets/1", &key, &[("prefer", "code=404")]).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("application/problem+json"));
    assert_eq!(missing.json(), json!({"title": "No such pet", "status": 404}));
    assert_eq!(missing.header("preference-applied"), Some("code=404"));

    // 5: a code the operation does not describe is a problem that says what it describes.
    let teapot = call(&h, "/pets-mock/pets/1", &key, &[("prefer", "code=418")]).await;
    let problem = assert_problem(&teapot, 400, "mock-no-such-response");
    assert_eq!(problem["described"], json!(["200", "404"]));

    // 6: values made from the schema, the cycle through `parent` left out.
    let list = call(&h, "/pets-mock/pets", &key, &[]).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json(), json!([{"id": 1, "name": "string", "born": "2026-01-01"}]));

    // 7: an Accept that nothing described meets.
    let png = call(&h, "/pets-mock/pets", &key, &[("accept", "image/png")]).await;
    assert_problem(&png, 406, "not-acceptable");

    // 8: limits apply: the plan allows 7 calls a minute.
    let limited = call(&h, "/pets-mock/pets", &key, &[]).await;
    assert_problem(&limited, 429, "rate-limited");

    // Usage counts every call of the key, mocked or refused, the cache hit among them.
    h.app.flush_usage().await;
    let usage = h.admin_ok("GET", &format!("/v1/usage?key_id={key_id}&group_by=total"), Value::Null).await;
    let row = &usage["items"][0];
    assert_eq!(row["requests"], 8, "{usage}");
    assert_eq!(row["outcomes"]["valid"], 7, "{usage}");
    assert_eq!(row["cache_hits"], 1, "{usage}");
    h.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_mock_colon_or_an_http_url_is_an_upstream() {
    let h = Harness::start(false).await;
    let body = json!({"openapi": PETS, "base_path": "/bad", "upstream": {"url": "mock"}});
    let reply = h.admin("POST", "/v1/apis", Some(body)).await;
    let problem = assert_problem(&reply, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/upstream/url", "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap_or_default().contains("mock:"), "{problem}");
    h.app.shutdown().await;
}
