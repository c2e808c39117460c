//! Organisations in every store: names unique without case, an organisation's apps listed
//! under it (not under their maker), memberships under the developer, invitations that
//! expire, and the organisation in the data plane's snapshot.

use super::{app, developer};
use crate::model::{App, Invitation, Membership, OrgRole, Organisation};
use crate::store::{Repo, StoreError};

fn organisation(id: &str, name: &str) -> Organisation {
    Organisation { id: id.into(), name: name.into(), tier: Some("gold".into()), created_at: 1 }
}

pub async fn organisations_own_apps_and_list_members_under_each_developer(repo: impl Repo) {
    repo.insert(&organisation("org_1", "Acme")).await.expect("insert");
    let clash = repo.insert(&organisation("org_2", " acme ")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    repo.insert(&developer("dev_1", "a@acme.example")).await.expect("developer");
    let mut shared = app("app_org", "dev_1");
    shared.organisation_id = Some("org_1".into());
    repo.insert(&shared).await.expect("org app");
    repo.insert(&app("app_own", "dev_1")).await.expect("own app");
    let personal: Vec<App> = repo.list(Some("dev_1")).await.expect("list");
    assert_eq!(personal.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["app_own"]);
    let owned: Vec<App> = repo.list(Some("org_1")).await.expect("list");
    assert_eq!(owned, vec![shared]);

    let id = Membership::id_for("org_1", "dev_1");
    let membership = Membership {
        id: id.clone(),
        organisation_id: "org_1".into(),
        developer_id: "dev_1".into(),
        role: OrgRole::Member,
        created_at: 1,
    };
    repo.insert(&membership).await.expect("membership");
    assert!(matches!(repo.insert(&membership).await, Err(StoreError::Conflict(_))), "a member once");
    assert_eq!(repo.list::<Membership>(Some("dev_1")).await.expect("list"), vec![membership]);
    repo.delete::<Membership>(&id).await.expect("remove");
    assert_eq!(repo.list::<Membership>(Some("dev_1")).await.expect("list"), vec![]);

    let invitation = Invitation {
        id: "ab".repeat(32),
        organisation_id: "org_1".into(),
        email: "b@acme.example".into(),
        role: OrgRole::OrgAdmin,
        invited_by: "owner".into(),
        created_at: 1,
        expires_at: 2,
        accepted_at: None,
    };
    repo.insert(&invitation).await.expect("invitation");
    assert_eq!(repo.list::<Invitation>(Some("org_1")).await.expect("list"), vec![invitation]);
    let snapshot = repo.snapshot().await.expect("snapshot");
    assert_eq!(snapshot.organisations, vec![organisation("org_1", "Acme")]);
}
