//! The role table: every operation of the served OpenAPI document, called with every role,
//! answers 403 (problem+json) exactly where the table below says the role is refused. The
//! table is written here by hand, independently of the route declarations it checks, and
//! an operation missing from it (or a row for an operation that is not served) fails.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use common::portal::sign_up;
use common::{Harness, Reply};

/// Who may call what: O owner, A api-admin, P approver (subscriptions, access requests),
/// V viewer, D developer (the portal's session); `*` also anyone without a token.
const TABLE: &[(&str, &str)] = &[
    ("GET /v1/health", "*"),
    ("GET /v1/openapi.json", "*"),
    ("POST /v1/usage/batches", "*"),
    ("GET /v1/admin-tokens", "O"),
    ("POST /v1/admin-tokens", "O"),
    ("POST /v1/admin-tokens/{id}/revoke", "O"),
    ("GET /v1/audit", "OAPVD"),
    ("GET /v1/apis", "OAPV"),
    ("POST /v1/apis", "OA"),
    ("POST /v1/apis/lint", "OAPV"),
    ("GET /v1/apis/{id}", "OAPV"),
    ("PATCH /v1/apis/{id}", "OA"),
    ("DELETE /v1/apis/{id}", "OA"),
    ("POST /v1/apis/{id}/lifecycle", "OA"),
    ("GET /v1/apis/{id}/revisions", "OAPV"),
    ("POST /v1/apis/{id}/revisions", "OA"),
    ("GET /v1/apis/{id}/revisions/{number}", "OAPV"),
    ("POST /v1/apis/{id}/revisions/{number}/publish", "OA"),
    ("GET /v1/apis/{id}/callers", "OAPV"),
    ("POST /v1/apis/{id}/cache/purge", "OA"),
    ("GET /v1/products", "OAPV"),
    ("POST /v1/products", "OA"),
    ("GET /v1/products/{id}", "OAPV"),
    ("PATCH /v1/products/{id}", "OA"),
    ("DELETE /v1/products/{id}", "OA"),
    ("GET /v1/products/{id}/plans", "OAPV"),
    ("POST /v1/plans", "OA"),
    ("GET /v1/plans/{id}", "OAPV"),
    ("PATCH /v1/plans/{id}", "OA"),
    ("DELETE /v1/plans/{id}", "OA"),
    ("GET /v1/config", "OAPV"),
    ("PUT /v1/config", "OA"),
    ("GET /v1/developers", "OAPV"),
    ("POST /v1/developers", "O"),
    ("GET /v1/developers/{id}", "OAPV"),
    ("PATCH /v1/developers/{id}", "O"),
    ("GET /v1/developers/{id}/export", "O"),
    ("POST /v1/developers/{id}/close", "O"),
    ("GET /v1/developers/{id}/apps", "OAPV"),
    ("POST /v1/developers/{id}/apps", "O"),
    ("GET /v1/organisations", "OAPV"),
    ("POST /v1/organisations", "O"),
    ("GET /v1/organisations/{id}", "OAPV"),
    ("PATCH /v1/organisations/{id}", "O"),
    ("GET /v1/organisations/{id}/members", "OAPV"),
    ("PUT /v1/organisations/{id}/members/{developer_id}", "O"),
    ("DELETE /v1/organisations/{id}/members/{developer_id}", "O"),
    ("GET /v1/organisations/{id}/invitations", "OAPV"),
    ("POST /v1/organisations/{id}/invitations", "O"),
    ("GET /v1/organisations/{id}/apps", "OAPV"),
    ("POST /v1/organisations/{id}/apps", "O"),
    ("GET /v1/apps", "OAPV"),
    ("POST /v1/apps", "O"),
    ("GET /v1/apps/{id}", "OAPV"),
    ("PATCH /v1/apps/{id}", "O"),
    ("GET /v1/apps/{id}/keys", "OAPV"),
    ("POST /v1/apps/{id}/keys", "O"),
    ("POST /v1/apps/{id}/oauth-clients", "O"),
    ("POST /v1/apps/{id}/client-certificates", "O"),
    ("GET /v1/keys/{id}", "OAPV"),
    ("POST /v1/keys/{id}/rotate", "O"),
    ("POST /v1/keys/{id}/revoke", "O"),
    ("POST /v1/keys/{id}/disable", "O"),
    ("POST /v1/keys/{id}/enable", "O"),
    ("GET /v1/apps/{id}/subscriptions", "OAPV"),
    ("POST /v1/apps/{id}/subscriptions", "OP"),
    ("GET /v1/subscriptions/{id}", "OAPV"),
    ("PATCH /v1/subscriptions/{id}", "OP"),
    ("POST /v1/subscriptions/{id}/approve", "OP"),
    ("POST /v1/subscriptions/{id}/reject", "OP"),
    ("GET /v1/usage", "OAPV"),
    ("GET /v1/usage/export.csv", "OAPV"),
    ("GET /v1/apis/{id}/sensitivity", "OAPV"),
    ("GET /v1/access-requests", "OAPV"),
    ("GET /v1/access-requests/{id}", "OAPV"),
    ("POST /v1/apps/{id}/access-requests", "OP"),
    ("POST /v1/access-requests/{id}/approve", "OP"),
    ("POST /v1/access-requests/{id}/deny", "OP"),
    ("POST /v1/access-requests/{id}/revoke", "OP"),
    ("GET /v1/alert-rules", "OAD"),
    ("POST /v1/alert-rules", "OAD"),
    ("GET /v1/alert-rules/{id}", "OAD"),
    ("DELETE /v1/alert-rules/{id}", "OAD"),
    ("GET /v1/alert-deliveries", "OAD"),
];

/// How a role presents itself: a bearer token, a portal session cookie, or nothing.
enum Caller {
    Token(String),
    Cookie(String),
    Anonymous,
}

async fn call(h: &Harness, caller: &Caller, method: &str, path: &str) -> Reply {
    let mut builder = Request::builder().method(method).uri(path);
    builder = match caller {
        Caller::Token(t) => builder.header("authorization", format!("Bearer {t}")),
        Caller::Cookie(c) => builder.header("cookie", c),
        Caller::Anonymous => builder,
    };
    let body = match method {
        "POST" | "PUT" | "PATCH" => {
            builder = builder.header("content-type", "application/json");
            Body::from("{}")
        }
        _ => Body::empty(),
    };
    h.send(builder.body(body).expect("request")).await
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_role_table_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let mut callers = vec![('O', Caller::Token(common::TOKEN.into()))];
    for (letter, name, role) in [('A', "ada", "api-admin"), ('P', "pat", "approver"), ('V', "vic", "viewer")] {
        callers.push((letter, Caller::Token(h.token_for(name, role).await)));
    }
    let developer = sign_up(&h, dir.path(), "dev@example.com").await;
    callers.push(('D', Caller::Cookie(developer.header())));
    callers.push(('-', Caller::Anonymous));

    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let mut served = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            served.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let table: BTreeSet<String> = TABLE.iter().map(|(op, _)| op.to_string()).collect();
    assert_eq!(TABLE.len(), table.len(), "no operation is in the table twice");
    let missing: Vec<&String> = served.difference(&table).collect();
    assert!(missing.is_empty(), "operations served but missing from the role table: {missing:?}");
    let stale: Vec<&String> = table.difference(&served).collect();
    assert!(stale.is_empty(), "rows for operations that are not served: {stale:?}");

    for (operation, allowed) in TABLE {
        let (method, template) = operation.split_once(' ').expect("METHOD path");
        let path = template.replace("{id}", "x_unknown");
        let public = *allowed == "*";
        for (letter, caller) in &callers {
            let reply = call(&h, caller, method, &path).await;
            let status = reply.status.as_u16();
            let expect_allowed = public || allowed.contains(*letter);
            let who = format!("{operation} as {letter}");
            if *letter == '-' && !public {
                common::assert_problem(&reply, 401, "unauthorized");
            } else if expect_allowed {
                assert!(status != 403 && (public || status != 401), "{who} is allowed, got {status}: {:?}", reply.body);
            } else {
                common::assert_problem(&reply, 403, "forbidden");
                assert!(reply.body["detail"].as_str().expect("detail").contains("may not"), "{who}: {:?}", reply.body);
            }
        }
    }
}

#[tokio::test]
async fn the_document_names_each_operations_roles() {
    let h = Harness::new();
    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let roles = |path: &str, method: &str| doc["paths"][path][method]["x-gatehouse-roles"].clone();
    assert_eq!(roles("/v1/admin-tokens", "post"), serde_json::json!(["owner"]));
    assert_eq!(roles("/v1/subscriptions/{id}/approve", "post"), serde_json::json!(["owner", "approver"]));
    assert_eq!(roles("/v1/health", "get"), serde_json::Value::Null, "a public operation names no role");
    let approve = &doc["paths"]["/v1/subscriptions/{id}/approve"]["post"];
    assert!(approve["responses"]["403"].is_object());
    assert!(approve["description"].as_str().expect("description").contains("Roles: owner, approver."));
}

#[tokio::test]
async fn tokens_carry_their_role_are_listed_without_secrets_and_stop_working_once_revoked() {
    let h = Harness::new();
    let made = h.call("POST", "/v1/admin-tokens", Some(serde_json::json!({"name": "vic", "role": "viewer"}))).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let (secret, id) = (common::text(&made.body["secret"]), common::text(&made.body["token"]["id"]));
    assert!(secret.starts_with("gha_") && secret.ends_with(made.body["token"]["last4"].as_str().expect("last4")));
    assert_eq!(h.call_as(&secret, "GET", "/v1/apis", None).await.status, 200);
    common::assert_problem(
        &h.call_as(&secret, "POST", "/v1/products", Some(serde_json::json!({}))).await,
        403,
        "forbidden",
    );

    let listed = h.call("GET", "/v1/admin-tokens", None).await;
    let text = listed.body.to_string();
    assert!(!text.contains(&secret) && !text.contains("hash"), "no secret, no hash: {text}");
    assert_eq!(listed.body["items"][0]["role"], "viewer");

    let other_role =
        h.call("POST", "/v1/admin-tokens", Some(serde_json::json!({"name": "vic", "role": "owner"}))).await;
    common::assert_problem(&other_role, 409, "conflict");
    let developer =
        h.call("POST", "/v1/admin-tokens", Some(serde_json::json!({"name": "d", "role": "developer"}))).await;
    common::assert_problem(&developer, 422, "validation-failed");
    let bad_name = h.call("POST", "/v1/admin-tokens", Some(serde_json::json!({"name": "a b", "role": "viewer"}))).await;
    common::assert_problem(&bad_name, 422, "validation-failed");

    let revoke = serde_json::json!({"reason": "left the team"});
    let revoked = h.call("POST", &format!("/v1/admin-tokens/{id}/revoke"), Some(revoke)).await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    assert!(revoked.body["revoked_at"].is_string());
    common::assert_problem(&h.call_as(&secret, "GET", "/v1/apis", None).await, 401, "unauthorized");
    let again = h.call("POST", &format!("/v1/admin-tokens/{id}/revoke"), None).await;
    common::assert_problem(&again, 409, "conflict");
}
