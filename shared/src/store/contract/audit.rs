//! Contract scenarios for the audit trail's reads (`Repo::query_audit`) and the admin tokens
//! of named principals.

use std::collections::BTreeSet;

use crate::model::{AdminToken, Role};
use crate::store::{admin_token_unique, AuditEntry, AuditFilter, Repo, StoreError, Write};

fn entry(at: i64, actor: &str, action: &str, target: &str) -> AuditEntry {
    AuditEntry::new(at, actor, action, vec![target.into()])
}

async fn all_pages(repo: &impl Repo, filter: &AuditFilter, limit: usize) -> Vec<Vec<String>> {
    let (mut pages, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let page = repo.query_audit(filter, cursor.as_deref(), limit).await.expect("page");
        pages.push(page.entries.iter().map(|e| e.action.clone()).collect());
        match page.next {
            Some(next) => cursor = Some(next),
            None => return pages,
        }
    }
}

/// Pages come newest first, each filter narrows them, a cursor carries on where the last
/// page ended with nothing repeated or skipped, and every fact of an entry reads back.
pub async fn audit_pages_filter_newest_first_and_keep_every_fact(repo: impl Repo) {
    let mut full = entry(10, "alice", "subscription.reject", "sub_1");
    full.role = Some(Role::Approver);
    full.from = Some("192.0.2.7".into());
    full.reason = Some("no use case given".into());
    full.details.insert("class".into(), "pii".into());
    repo.append_audit(&full).await.expect("append");
    for (at, actor, action, target) in [
        (20, "bob", "key.create", "key_1"),
        (30, "alice", "key.revoke", "key_1"),
        (40, "bob", "api.create", "api_1"),
        (50, "alice", "key.rotate", "key_2"),
    ] {
        repo.append_audit(&entry(at, actor, action, target)).await.expect("append");
    }
    let everything = AuditFilter::default();
    let pages = all_pages(&repo, &everything, 2).await;
    let expected = [vec!["key.rotate", "api.create"], vec!["key.revoke", "key.create"], vec!["subscription.reject"]];
    assert_eq!(pages, expected.map(|p| p.into_iter().map(String::from).collect::<Vec<_>>()));
    let exact = repo.query_audit(&everything, None, 5).await.expect("one page");
    assert_eq!((exact.entries.len(), exact.next), (5, None), "a page that holds the rest has no next");
    assert_eq!(exact.entries[4], full, "role, address, reason and details read back");

    let alice_keys = AuditFilter { actor: Some("alice".into()), action: Some("key.".into()), ..Default::default() };
    assert_eq!(repo_page(&repo, &alice_keys).await, ["key.rotate", "key.revoke"]);
    let key_1 = AuditFilter { target: Some("key_1".into()), from: Some(20), to: Some(30), ..Default::default() };
    assert_eq!(repo_page(&repo, &key_1).await, ["key.create"], "from is inclusive, to exclusive");
    let mine = AuditFilter { about: Some(BTreeSet::from(["key_2".into(), "sub_1".into()])), ..Default::default() };
    assert_eq!(repo_page(&repo, &mine).await, ["key.rotate", "subscription.reject"]);
    let none = AuditFilter { about: Some(BTreeSet::new()), ..Default::default() };
    assert!(repo_page(&repo, &none).await.is_empty());
    let bad = repo.query_audit(&everything, Some("not a cursor"), 2).await;
    assert!(matches!(bad, Err(StoreError::Conflict(_))), "a foreign cursor is refused: {bad:?}");
}

async fn repo_page(repo: &impl Repo, filter: &AuditFilter) -> Vec<String> {
    let page = repo.query_audit(filter, None, 100).await.expect("page");
    page.entries.into_iter().map(|e| e.action).collect()
}

pub fn admin_token(id: &str, name: &str, role: Role, hash: &str) -> AdminToken {
    AdminToken {
        id: id.into(),
        name: name.into(),
        role,
        hash: hash.into(),
        last4: "abcd".into(),
        created_at: 1,
        created_by: "bootstrap".into(),
        revoked_at: None,
    }
}

/// A token is found by its hash alone, no two share one, and a revocation reads back.
pub async fn admin_tokens_are_unique_by_hash_and_findable(repo: impl Repo) {
    let hash = "a".repeat(64);
    repo.insert(&admin_token("tok_1", "alice", Role::ApiAdmin, &hash)).await.expect("insert");
    let found = repo.find::<AdminToken>(&admin_token_unique(&hash)).await.expect("find");
    assert_eq!(found.map(|t| (t.name, t.role)), Some(("alice".into(), Role::ApiAdmin)));
    let twin = repo.insert(&admin_token("tok_2", "bob", Role::Owner, &hash)).await;
    assert!(matches!(twin, Err(StoreError::Conflict(_))), "{twin:?}");
    let mut revoked = admin_token("tok_1", "alice", Role::ApiAdmin, &hash);
    revoked.revoked_at = Some(9);
    repo.transact(vec![Write::update(&revoked).expect("record")]).await.expect("revoke");
    let listed = repo.list::<AdminToken>(None).await.expect("list");
    assert_eq!(listed, vec![revoked]);
}
