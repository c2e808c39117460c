//! Organisations and the people in them, for the admin API and the portal alike: every change
//! goes through these functions, with the same checks and the same audit entries.
//!
//! Memberships are listed under the developer (every portal page needs the visitor's
//! organisations to decide what they may see); an organisation's member list is the rarer
//! read, so it filters all memberships.

use gatehouse_core::hex;
use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::hash_secret;
use gatehouse_core::model::{App, Developer, Invitation, Membership, OrgRole, Organisation};
use gatehouse_core::store::{Entity, Etag, Record, Repo, StoreError, Write};

use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::mail::Mail;
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::routes::{developers, validate};
use crate::state::{fresh_id, random, AdminState};

/// Checks and stores a new organisation (its name is unique, compared lower-cased).
pub(crate) async fn create<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    name: &str,
    tier: Option<String>,
) -> Result<Organisation, AdminError> {
    let org =
        Organisation { id: fresh_id(IdKind::Organisation)?, name: name.trim().to_owned(), tier, created_at: s.now() };
    check(&org)?;
    let change = Change::of(&org, ChangeOp::Created);
    s.commit(actor, "organisation.create", vec![Write::insert(&org)?], vec![change]).await?;
    Ok(org)
}

pub(crate) fn check(org: &Organisation) -> Result<(), AdminError> {
    AdminError::check(problems(org))
}

/// What is wrong with the organisation's fields, each at its pointer.
pub(crate) fn problems(org: &Organisation) -> Vec<FieldError> {
    let mut errors = Vec::new();
    validate::non_empty(&org.name, "/name", &mut errors);
    if org.tier.as_deref().is_some_and(|t| t.trim().is_empty()) {
        errors.push(FieldError::new("/tier", "must not be blank; leave it out for no tier"));
    }
    errors
}

/// The developer's memberships, each with its organisation (a membership of a removed
/// organisation is left out).
pub(crate) async fn of_developer<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    developer_id: &str,
) -> Result<Vec<(Membership, Organisation)>, StoreError> {
    let mut found = Vec::new();
    for membership in s.repo.list::<Membership>(Some(developer_id)).await? {
        match s.repo.get::<Organisation>(&membership.organisation_id).await {
            Ok(org) => found.push((membership, org)),
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// The developer's role in the organisation, if they are a member.
pub(crate) async fn role_of<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    developer_id: &str,
    organisation_id: &str,
) -> Result<Option<OrgRole>, StoreError> {
    match s.repo.get::<Membership>(&Membership::id_for(organisation_id, developer_id)).await {
        Ok(m) => Ok(Some(m.role)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The organisation's members, with their developer records, oldest first.
pub(crate) async fn members<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    organisation_id: &str,
) -> Result<Vec<(Membership, Developer)>, StoreError> {
    let mut found = Vec::new();
    for m in s.repo.list::<Membership>(None).await? {
        if m.organisation_id != organisation_id {
            continue;
        }
        match s.repo.get::<Developer>(&m.developer_id).await {
            Ok(d) => found.push((m, d)),
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(found)
}

/// Makes the developer a member with `role`, or changes their role.
pub(crate) async fn set_member<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    organisation_id: &str,
    developer_id: &str,
    role: OrgRole,
) -> Result<Membership, AdminError> {
    s.load::<Organisation>("organisation", organisation_id).await?;
    let developer = s.load::<Developer>("developer", developer_id).await?;
    developers::refuse_closed(&developer)?;
    s.repo.transact(vec![membership_write(s, organisation_id, developer_id, role).await?]).await?;
    s.record(actor, "organisation.member.set", vec![organisation_id.to_owned(), developer_id.to_owned()]).await;
    Ok(s.repo.get::<Membership>(&Membership::id_for(organisation_id, developer_id)).await?)
}

/// The write that makes the developer a member with `role`: an insert, or a change of role
/// over the version read (a concurrent change makes it fail with `Changed`).
async fn membership_write<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    organisation_id: &str,
    developer_id: &str,
    role: OrgRole,
) -> Result<Write, AdminError> {
    let id = Membership::id_for(organisation_id, developer_id);
    match s.repo.get_record(Membership::KIND, &id).await {
        Ok(record) => {
            let mut m: Membership = record.decode()?;
            m.role = role;
            Ok(Write::UpdateIf { record: Record::of(&m)?, expected: Etag::of_body(&record.body) })
        }
        Err(StoreError::NotFound) => {
            let (organisation_id, developer_id) = (organisation_id.to_owned(), developer_id.to_owned());
            Ok(Write::insert(&Membership { id, organisation_id, developer_id, role, created_at: s.now() })?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Takes the developer out of the organisation: they lose its pages and apps at once; the
/// apps and their keys keep working, since keys belong to apps.
pub(crate) async fn remove_member<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    organisation_id: &str,
    developer_id: &str,
) -> Result<(), AdminError> {
    let id = Membership::id_for(organisation_id, developer_id);
    match s.repo.transact(vec![Write::delete::<Membership>(&id)]).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(AdminError::not_found("member", developer_id)),
        Err(e) => return Err(e.into()),
    }
    s.record(actor, "organisation.member.remove", vec![organisation_id.to_owned(), developer_id.to_owned()]).await;
    Ok(())
}

/// Creates an app owned by the organisation, made by `developer_id` (a member).
pub(crate) async fn create_app<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    organisation_id: &str,
    developer_id: &str,
    name: Option<String>,
) -> Result<App, AdminError> {
    s.load::<Organisation>("organisation", organisation_id).await?;
    if role_of(s, developer_id, organisation_id).await?.is_none() {
        let detail = "the app's maker must be a member of the organisation";
        return Err(AdminError::validation(vec![FieldError::new("/developer_id", detail)]));
    }
    developers::insert_app(s, actor, developer_id.to_owned(), Some(organisation_id.to_owned()), name).await
}

/// Mails an invitation to join the organisation; answers it (its id is the token's hash, so
/// the answer opens nothing).
pub(crate) async fn invite<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    organisation_id: &str,
    email: &str,
    role: OrgRole,
) -> Result<Invitation, AdminError> {
    let org = s.load::<Organisation>("organisation", organisation_id).await?;
    let email = email.trim();
    let mut errors = Vec::new();
    validate::email(email, &mut errors);
    AdminError::check(errors)?;
    let (Some(mailer), Some(base)) = (s.mailer.as_ref(), s.portal.public_url.as_deref()) else {
        return Err(AdminError::conflict("invitations need the portal's mailer and public URL configured"));
    };
    let token = hex::encode(&random::<32>()?);
    let now = s.now();
    let invitation = Invitation {
        id: hash_secret(&token).as_hex().to_owned(),
        organisation_id: org.id.clone(),
        email: email.to_owned(),
        role,
        invited_by: actor.name.clone(),
        created_at: now,
        expires_at: now + s.portal.invitation_lifetime,
        accepted_at: None,
    };
    s.repo.transact(vec![Write::insert(&invitation)?]).await?;
    s.record(actor, "organisation.invite", vec![org.id.clone()]).await;
    let url = format!("{}/invitations/accept?token={token}", base.trim_end_matches('/'));
    let text = format!(
        "Hello,\n\nYou are invited to join {org} on {site} as {role}. To accept, open this link within \
         {lifetime}:\n\n{url}\n\nAccepting signs you in with this address (making an account if you have none). The link \
         works once. If you do not know {org}, ignore this message.\n",
        org = org.name,
        site = s.portal.site_name,
        role = role.as_str(),
        lifetime = s.portal.invitation_lifetime_words(),
    );
    let mail = Mail { to: email.to_owned(), subject: format!("Join {} on {}", org.name, s.portal.site_name), text };
    mailer.send(mail).await.map_err(|e| AdminError::Internal(e.to_string()))?;
    Ok(invitation)
}

/// The invitations of the organisation not yet accepted nor expired.
pub(crate) async fn pending<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    organisation_id: &str,
) -> Result<Vec<Invitation>, StoreError> {
    let now = s.now();
    Ok(s.repo.list::<Invitation>(Some(organisation_id)).await?.into_iter().filter(|i| i.usable(now)).collect())
}

/// Spends the invitation whose link carries `token` and makes its address a member, in one
/// transaction (of two uses, one wins; a failure spends nothing), signing them up first if
/// they have no account: the mail proved the address, and the organisation vouched for it,
/// so sign-up domain limits do not apply. `None` when the link is unknown, used or expired.
pub(crate) async fn accept<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    token: &str,
) -> Result<Option<(Developer, Organisation)>, AdminError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let record = match s.repo.get_record(Invitation::KIND, hash_secret(token).as_hex()).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut invitation: Invitation = record.decode()?;
    if !invitation.usable(s.now()) {
        return Ok(None);
    }
    let org = s.load::<Organisation>("organisation", &invitation.organisation_id).await?;
    let developer = crate::portal::signin::developer_for(s, &invitation.email, true)
        .await?
        .ok_or_else(|| AdminError::Internal("an invited developer could not be signed up".into()))?;
    developers::refuse_closed(&developer)?;
    invitation.accepted_at = Some(s.now());
    let spend = Write::UpdateIf { record: Record::of(&invitation)?, expected: Etag::of_body(&record.body) };
    let join = membership_write(s, &org.id, &developer.id, invitation.role).await?;
    match s.repo.transact(vec![spend, join]).await {
        Ok(()) => {}
        Err(StoreError::Changed | StoreError::NotFound | StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let targets = vec![org.id.clone(), developer.id.clone()];
    s.record(&Actor::developer(&developer.id), "organisation.invitation.accept", targets).await;
    Ok(Some((developer, org)))
}
