//! Access requests: a developer asks for a sensitivity class on one API for one of their apps,
//! with a reason and a wanted duration; an approver approves it with an expiry, or denies it
//! with a reason; an approval can be revoked at any time. An approval grants the class to the
//! app's identity until it expires (see `gatehouse_core::entitlements::compile_identity`),
//! and the gateway checks that expiry on every call, so nothing has to run when it passes.
//! Every step is an audit entry and, when mail is set up, a message to the developer.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::ids::IdKind;
use gatehouse_core::model::{Access, AccessRequest, AccessState, Api, App, Developer};
use gatehouse_core::sensitivity::check_class;
use gatehouse_core::store::{Repo, Write};
use gatehouse_core::time::UnixMillis;
use serde::Deserialize;

use super::developers::refuse_closed;
use super::{route, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody, OptionalJson, QueryParams};
use crate::notices;
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::state::{etag_of, fresh_id, AdminState};
use crate::views::{AccessRequestView, Items};

/// Longest grant an approver may give, and a developer may ask for.
pub(crate) const MAX_DAYS: u32 = 365;
/// Longest reason, either way: a few sentences a person reads.
pub(crate) const MAX_REASON_CHARS: usize = 1_000;
const DAY_MS: i64 = 86_400_000;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![
        route(Method::GET, "/v1/access-requests", Access::Read, list::<R, P>),
        // Developers ask in the portal, for their own apps; through the API, an approver
        // files one on a developer's behalf.
        route(Method::POST, "/v1/apps/{id}/access-requests", Access::Approvals, create::<R, P>),
        route(Method::GET, "/v1/access-requests/{id}", Access::Read, get::<R, P>),
        route(Method::POST, "/v1/access-requests/{id}/approve", Access::Approvals, approve::<R, P>),
        route(Method::POST, "/v1/access-requests/{id}/deny", Access::Approvals, deny::<R, P>),
        route(Method::POST, "/v1/access-requests/{id}/revoke", Access::Approvals, revoke::<R, P>),
    ]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"api_id": "api_2mF7", "class": "pii", "reason": "Support agents need customers' emails to answer tickets.", "wanted_days": 90}))]
pub(crate) struct NewAccessRequest {
    pub(crate) api_id: String,
    /// The sensitivity class, as the API's description names it.
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length = 40)]
    pub(crate) class: String,
    /// Why the app needs it; the approver decides on this.
    #[schema(pattern = r"\S", max_length = 1000)]
    pub(crate) reason: String,
    /// How long, in days (1 to 365).
    #[schema(minimum = 1, maximum = 365)]
    pub(crate) wanted_days: u32,
}

async fn create<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(app_id): Id,
    JsonBody(body): JsonBody<NewAccessRequest>,
) -> Result<(StatusCode, Tagged<Json<AccessRequestView>>), AdminError> {
    let request = request_access(&s, &actor, &app_id, body).await?;
    let now = s.now();
    Ok((StatusCode::CREATED, Tagged(etag_of(&request)?, Json(AccessRequestView::new(request, now)))))
}

/// Files a request for an app: the one way in, for the admin API and the portal. Refused
/// (409) while the app has the same class on the same API pending or granted, and for a
/// closed account.
pub(crate) async fn request_access<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    app_id: &str,
    body: NewAccessRequest,
) -> Result<AccessRequest, AdminError> {
    let app = s.load::<App>("app", app_id).await?;
    let mut errors = Vec::new();
    if let Err(problem) = check_class(&body.class) {
        errors.push(FieldError::new("/class", problem));
    }
    if s.repo.get::<Api>(&body.api_id).await.is_err() {
        errors.push(FieldError::new("/api_id", "no API with this id"));
    }
    check_reason(&body.reason, &mut errors);
    if !(1..=MAX_DAYS).contains(&body.wanted_days) {
        errors.push(FieldError::new("/wanted_days", format!("must be 1 to {MAX_DAYS} days")));
    }
    AdminError::check(errors)?;
    refuse_closed(&s.load::<Developer>("developer", &app.developer_id).await?)?;
    let now = s.now();
    let existing = s.repo.list::<AccessRequest>(Some(app_id)).await?;
    let open = |r: &AccessRequest| {
        r.api_id == body.api_id
            && r.class == body.class
            && (r.state == AccessState::Pending || r.granted_until().is_some_and(|until| now < until))
    };
    if existing.iter().any(open) {
        return Err(AdminError::conflict("the app already has this class on this API pending or granted"));
    }
    let request = AccessRequest {
        id: fresh_id(IdKind::AccessRequest)?,
        app_id: app.id.clone(),
        developer_id: app.developer_id.clone(),
        api_id: body.api_id,
        class: body.class,
        reason: body.reason.trim().to_owned(),
        wanted_days: body.wanted_days,
        state: AccessState::Pending,
        created_at: now,
    };
    let change = Change::of(&request, ChangeOp::Created);
    // The developer's reason is the entry's "why", as the approver reads it.
    let actor = actor.because(&request.reason);
    s.commit(&actor, "access_request.create", vec![Write::insert(&request)?], vec![change]).await?;
    Ok(request)
}

fn check_reason(reason: &str, errors: &mut Vec<FieldError>) {
    let length = reason.trim().chars().count();
    if length == 0 || length > MAX_REASON_CHARS {
        errors.push(FieldError::new("/reason", format!("must be 1 to {MAX_REASON_CHARS} characters, not blank")));
    }
}

/// Filters of the list; all optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessFilter {
    /// `pending`, `approved`, `expired`, `denied` or `revoked`.
    pub(crate) status: Option<String>,
    pub(crate) app_id: Option<String>,
    pub(crate) api_id: Option<String>,
    pub(crate) developer_id: Option<String>,
}

const STATUSES: [&str; 5] = ["pending", "approved", "expired", "denied", "revoked"];

async fn list<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    QueryParams(filter): QueryParams<AccessFilter>,
) -> Result<Json<Items<AccessRequestView>>, AdminError> {
    Ok(Json(Items { items: listed(&s, &filter).await? }))
}

/// The requests `filter` selects, oldest first: for the admin API and the portal's pages.
pub(crate) async fn listed<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    filter: &AccessFilter,
) -> Result<Vec<AccessRequestView>, AdminError> {
    if let Some(status) = filter.status.as_deref().filter(|status| !STATUSES.contains(status)) {
        let message = format!("{status:?} is not one of {}", STATUSES.join(", "));
        return Err(AdminError::validation(vec![FieldError::new("/status", message)]));
    }
    let now = s.now();
    let requests = s.repo.list::<AccessRequest>(filter.app_id.as_deref()).await?;
    let matches = |request: &AccessRequest| {
        filter.api_id.as_ref().is_none_or(|api| *api == request.api_id)
            && filter.developer_id.as_ref().is_none_or(|developer| *developer == request.developer_id)
            && filter.status.as_deref().is_none_or(|status| status == request.status_name(now))
    };
    Ok(requests.into_iter().filter(matches).map(|request| AccessRequestView::new(request, now)).collect())
}

async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Tagged<Json<AccessRequestView>>, AdminError> {
    let (request, etag) = s.load_tagged::<AccessRequest>("access request", &id).await?;
    Ok(Tagged(etag, Json(AccessRequestView::new(request, s.now()))))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"days": 30}))]
pub(crate) struct Approval {
    /// How long the grant lasts, in days (1 to 365); the request's `wanted_days` if neither
    /// this nor `expires_at` is given.
    #[schema(minimum = 1, maximum = 365)]
    pub(crate) days: Option<u32>,
    /// The grant's exact end instead of whole days (RFC 3339, in the future, at most 365 days
    /// ahead): for access that should end with a shift, an incident or an audit visit.
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub(crate) expires_at: Option<UnixMillis>,
}

async fn approve<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<Approval>,
) -> Result<Tagged<Json<AccessRequestView>>, AdminError> {
    let decision = Decision::Approve { days: body.days, expires_at: body.expires_at };
    let approved = decide(&s, &actor, &id, &if_match, decision).await?;
    let now = s.now();
    Ok(approved.map(|request| Json(AccessRequestView::new(request, now))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Use the anonymised export instead; it has what tickets need."}))]
pub(crate) struct Denial {
    /// Shown to the developer as written; 1 to 1000 characters, not blank.
    #[schema(pattern = r"\S", max_length = 1000)]
    pub(crate) reason: String,
}

async fn deny<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    JsonBody(body): JsonBody<Denial>,
) -> Result<Tagged<Json<AccessRequestView>>, AdminError> {
    let denied = decide(&s, &actor, &id, &if_match, Decision::Deny { reason: body.reason }).await?;
    let now = s.now();
    Ok(denied.map(|request| Json(AccessRequestView::new(request, now))))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Revocation {
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub(crate) reason: String,
}

async fn revoke<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(id): Id,
    if_match: IfMatch,
    OptionalJson(body): OptionalJson<Revocation>,
) -> Result<Tagged<Json<AccessRequestView>>, AdminError> {
    let revoked = decide(&s, &actor, &id, &if_match, Decision::Revoke { reason: body.reason }).await?;
    let now = s.now();
    Ok(revoked.map(|request| Json(AccessRequestView::new(request, now))))
}

/// What an approver does with a request.
pub(crate) enum Decision {
    /// For `days`, or until `expires_at` (one of them at most; neither: the request's wish).
    Approve {
        days: Option<u32>,
        expires_at: Option<UnixMillis>,
    },
    Deny {
        reason: String,
    },
    Revoke {
        reason: String,
    },
}

impl Decision {
    /// Why, as the approver wrote it (an approval takes no reason).
    fn reason(&self) -> &str {
        match self {
            Decision::Deny { reason } | Decision::Revoke { reason } => reason,
            Decision::Approve { .. } => "",
        }
    }
}

/// Applies a decision: the one way, for the admin API and the portal's admin pages. Only a
/// pending request is approved or denied, and only a live approval is revoked. The developer
/// is told by mail (when mail is set up); a mail that fails is logged, never undoes it.
pub(crate) async fn decide<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    id: &str,
    if_match: &IfMatch,
    decision: Decision,
) -> Result<Tagged<AccessRequest>, AdminError> {
    let (at, by) = (s.now(), actor.name.clone());
    check_decision(&decision, at)?;
    // The audit entry carries the decision's reason: who decided, and why.
    let actor = actor.because(decision.reason());
    let (action, done) = match decision {
        Decision::Approve { .. } => ("access_request.approve", "approved"),
        Decision::Deny { .. } => ("access_request.deny", "denied"),
        Decision::Revoke { .. } => ("access_request.revoke", "revoked"),
    };
    let decided = s
        .modify(&actor, action, ("access request", id), if_match, |request: &mut AccessRequest| {
            let allowed = match decision {
                Decision::Approve { .. } | Decision::Deny { .. } => request.state == AccessState::Pending,
                Decision::Revoke { .. } => request.granted_until().is_some_and(|until| at < until),
            };
            if !allowed {
                let status = request.status_name(at);
                return Err(AdminError::conflict(format!("the request is {status}: it cannot be {done}")));
            }
            let by = by.clone();
            request.state = match &decision {
                Decision::Approve { days, expires_at } => {
                    let days = i64::from(days.unwrap_or(request.wanted_days));
                    AccessState::Approved { by, at, expires_at: expires_at.unwrap_or(at + days * DAY_MS) }
                }
                Decision::Deny { reason } => AccessState::Denied { by, at, reason: reason.trim().to_owned() },
                Decision::Revoke { reason } => AccessState::Revoked { by, at, reason: reason.trim().to_owned() },
            };
            Ok(vec![])
        })
        .await?;
    notices::access_decided(s, &decided.1).await;
    Ok(decided)
}

/// A decision's own input, checked before anything is read (`now` for an exact expiry).
fn check_decision(decision: &Decision, now: UnixMillis) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    match decision {
        Decision::Approve { days: Some(_), expires_at: Some(_) } => {
            errors.push(FieldError::new("/expires_at", "give days or expires_at, not both"));
        }
        Decision::Approve { days: Some(days), .. } if !(1..=MAX_DAYS).contains(days) => {
            errors.push(FieldError::new("/days", format!("must be 1 to {MAX_DAYS} days")));
        }
        Decision::Approve { expires_at: Some(until), .. } if *until <= now => {
            errors.push(FieldError::new("/expires_at", "must be in the future"));
        }
        Decision::Approve { expires_at: Some(until), .. } if *until > now + i64::from(MAX_DAYS) * DAY_MS => {
            errors.push(FieldError::new("/expires_at", format!("must be at most {MAX_DAYS} days ahead")));
        }
        Decision::Approve { .. } => {}
        Decision::Deny { reason } => check_reason(reason, &mut errors),
        Decision::Revoke { reason } if reason.chars().count() > MAX_REASON_CHARS => {
            errors.push(FieldError::new("/reason", format!("must be at most {MAX_REASON_CHARS} characters")));
        }
        Decision::Revoke { .. } => {}
    }
    AdminError::check(errors)
}
