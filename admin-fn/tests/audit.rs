//! The audit trail read back: who, what, when, from where and why on every change, filters
//! and pages, a developer's own entries (and only theirs), and no way to change an entry.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use axum::body::Body;
use axum::http::Request;
use common::portal::{admin, catalogue, get_key, sign_up};
use common::{assert_problem, hidden, text, Harness, Reply};
use gatehouse_admin::ClientAddr;
use serde_json::{json, Value};

/// A call with `token` from `ip`, as the native admin server and the Lambda record the peer.
async fn call_from(h: &Harness, ip: [u8; 4], token: &str, method: &str, path: &str, body: Value) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .extension(ClientAddr(IpAddr::V4(Ipv4Addr::from(ip))))
        .body(Body::from(body.to_string()))
        .expect("request");
    h.send(request).await
}

fn actions(reply: &Reply) -> Vec<String> {
    reply.body["items"].as_array().expect("items").iter().map(|e| text(&e["action"])).collect()
}

#[tokio::test]
async fn every_change_says_who_with_which_role_from_where_and_why() {
    let h = Harness::new();
    let pat = h.token_for("pat", "approver").await;
    let ada = h.token_for("ada", "api-admin").await;
    let api = call_from(&h, [192, 0, 2, 7], &ada, "POST", "/v1/products", json!({"name": "Pets"})).await;
    assert_eq!(api.status, 201, "{:?}", api.body);
    let app = h.app("dev@example.com").await;
    let product = text(&api.body["id"]);
    let plan = h
        .call("POST", "/v1/plans", Some(json!({"product_id": product, "name": "Gold", "requires_approval": true})))
        .await;
    let sub = h
        .call(
            "POST",
            &format!("/v1/apps/{app}/subscriptions"),
            Some(json!({"product_id": product, "plan_id": plan.body["id"]})),
        )
        .await;
    let reject = json!({"reason": "Partners only"});
    let path = format!("/v1/subscriptions/{}/reject", text(&sub.body["id"]));
    assert_eq!(call_from(&h, [198, 51, 100, 4], &pat, "POST", &path, reject).await.status, 200);

    let viewer = h.token_for("vic", "viewer").await;
    let by_pat = h.call_as(&viewer, "GET", "/v1/audit?actor=pat", None).await;
    assert_eq!(by_pat.status, 200, "{:?}", by_pat.body);
    let entry = &by_pat.body["items"][0];
    assert_eq!(
        (&entry["action"], &entry["role"], &entry["from"]),
        (&json!("subscription.reject"), &json!("approver"), &json!("198.51.100.4"))
    );
    assert_eq!(entry["reason"], "Partners only");
    assert!(entry["at"].as_str().expect("at").ends_with('Z'));
    let by_ada = h.call_as(&viewer, "GET", "/v1/audit?actor=ada", None).await;
    assert_eq!(
        (actions(&by_ada), &by_ada.body["items"][0]["from"]),
        (vec!["product.create".to_owned()], &json!("192.0.2.7"))
    );
    let tokens = h.call_as(&viewer, "GET", "/v1/audit?action=admin_token.", None).await;
    assert_eq!(actions(&tokens).len(), 3, "each token's creation is audited: {:?}", tokens.body);
}

#[tokio::test]
async fn the_trail_filters_by_target_and_time_and_pages_with_a_cursor() {
    let h = Harness::new();
    let app = h.app("dev@example.com").await;
    for name in ["a", "b", "c"] {
        h.advance(1_000);
        assert_eq!(h.call("POST", &format!("/v1/apps/{app}/keys"), Some(json!({"name": name}))).await.status, 201);
    }
    assert_eq!(actions(&h.call("GET", &format!("/v1/audit?target={app}"), None).await), ["app.create"]);
    let keys = h.call("GET", "/v1/audit?action=key.", None).await;
    let times: Vec<&str> =
        keys.body["items"].as_array().expect("items").iter().map(|e| e["at"].as_str().expect("at")).collect();
    assert_eq!(times.len(), 3);
    assert!(times.windows(2).all(|w| w[0] > w[1]), "newest first: {times:?}");
    let (mut seen, mut next) = (Vec::new(), String::new());
    loop {
        let page = h.call("GET", &format!("/v1/audit?limit=2&cursor={next}"), None).await;
        assert!(actions(&page).len() <= 2);
        seen.extend(actions(&page));
        match page.body["next"].as_str() {
            Some(n) => next = n.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "developer, app and three keys, each once: {seen:?}");
    let first_key_at = common::START + 1_000;
    let window = format!("/v1/audit?action=key.create&from={first_key_at}&to={}", first_key_at + 1_000);
    assert_eq!(actions(&h.call("GET", &window, None).await).len(), 1, "from inclusive, to exclusive");
    assert_problem(&h.call("GET", "/v1/audit?cursor=nonsense", None).await, 422, "validation-failed");
    assert_problem(&h.call("GET", "/v1/audit?limit=0", None).await, 422, "validation-failed");
    assert_problem(&h.call("GET", "/v1/audit?limit=501", None).await, 422, "validation-failed");
}

#[tokio::test]
async fn the_trail_is_append_only_through_the_api() {
    let h = Harness::new();
    h.app("dev@example.com").await;
    let before = h.call("GET", "/v1/audit", None).await.body;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        assert_problem(&h.call(method, "/v1/audit", Some(json!({}))).await, 405, "method-not-allowed");
    }
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        assert_problem(&h.call(method, "/v1/audit/0", Some(json!({}))).await, 404, "not-found");
    }
    let doc = h.call("GET", "/v1/openapi.json", None).await.body;
    let audit_paths: Vec<(&String, Vec<&String>)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(p, _)| p.starts_with("/v1/audit"))
        .map(|(p, item)| (p, item.as_object().expect("item").keys().collect()))
        .collect();
    assert_eq!(format!("{audit_paths:?}"), r#"[("/v1/audit", ["get"])]"#, "no route changes an entry");
    assert_eq!(h.call("GET", "/v1/audit", None).await.body, before, "nothing changed");
}

#[tokio::test]
async fn a_developer_reads_the_entries_about_their_own_records_and_finds_them_in_their_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let other_app = h.app("other@example.com").await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;
    let request = Request::builder().uri("/v1/audit").header("cookie", ada.header()).body(Body::empty()).expect("req");
    let mine = h.send(request).await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    let seen = actions(&mine);
    assert!(seen.contains(&"session.sign_in".to_owned()) && seen.contains(&"key.create".to_owned()), "{seen:?}");
    assert!(!mine.body.to_string().contains(&other_app), "never another developer's records");
    assert!(!seen.contains(&"api.create".to_owned()), "nor the provider's catalogue");

    let page = h.browse("GET", "/account/activity", &ada.header(), &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("session.sign_in") && !page.html.contains(&other_app), "{}", page.html);
    let export = h.browse("GET", "/account/export.json", &ada.header(), &[]).await;
    assert!(export.html.contains("session.sign_in") && export.html.contains("key.create"), "{}", export.html);
}

#[tokio::test]
async fn a_viewer_sees_the_admin_pages_but_cannot_decide_and_an_approver_can() {
    let dir = tempfile::tempdir().expect("temp dir");
    let h = Harness::with_outbox(dir.path());
    let (api_id, plan_id) = catalogue(&h).await;
    let ada = sign_up(&h, dir.path(), "ada@example.com").await;
    get_key(&h, &ada, &api_id, &plan_id).await;
    let pending = h.call("GET", "/v1/audit?action=subscription.create", None).await;
    let sub_id = text(&pending.body["items"][0]["targets"][0]);

    let (viewer, _) = admin(&h, &h.token_for("vic", "viewer").await).await;
    let page = h.browse("GET", "/admin", &viewer.header(), &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("viewer") && !page.html.contains("action=\"/admin/subscriptions/"), "{}", page.html);
    let form = [("csrf", hidden(&page.html, "csrf")), ("decision", "approve".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = h.browse("POST", &format!("/admin/subscriptions/{sub_id}"), &viewer.header(), &form).await;
    assert_eq!(refused.status, 403, "{}", refused.html);
    assert_eq!(h.call("GET", &format!("/v1/subscriptions/{sub_id}"), None).await.body["status"], "pending");

    let (approver, _) = admin(&h, &h.token_for("pat", "approver").await).await;
    let page = h.browse("GET", "/admin", &approver.header(), &[]).await;
    assert!(page.html.contains("action=\"/admin/subscriptions/"), "{}", page.html);
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf", &hidden(&page.html, "csrf"))
        .append_pair("decision", "approve")
        .finish();
    let request = Request::builder()
        .method("POST")
        .uri(format!("/admin/subscriptions/{sub_id}"))
        .header("cookie", approver.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .extension(ClientAddr(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9))))
        .body(Body::from(form))
        .expect("request");
    assert_eq!(h.send_raw(request).await, 303);
    assert_eq!(h.call("GET", &format!("/v1/subscriptions/{sub_id}"), None).await.body["status"], "active");

    let trail = h.browse("GET", "/admin/audit?actor=pat", &viewer.header(), &[]).await;
    assert_eq!(trail.status, 200);
    assert!(trail.html.contains("subscription.approve") && trail.html.contains("approver"), "{}", trail.html);
    assert!(trail.html.contains("203.0.113.9"), "a portal action says where from: {}", trail.html);
    assert!(trail.html.contains("session.sign_in"), "admin sign-ins are audited: {}", trail.html);
    let outsider = h.browse("GET", "/admin/audit", &ada.header(), &[]).await;
    assert_eq!(outsider.status, 403);
}
