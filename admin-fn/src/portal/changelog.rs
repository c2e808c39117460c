//! `GET /apis/{id}/changelog`: what changed in each published revision of an API, newest
//! first, breaking changes apart from the rest, and the API's other versions. Readable by
//! whoever may read the API's page (the same visibility rules); proposed revisions that were
//! never published are the owner's business and are not shown.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::audience::Visibility;
use gatehouse_core::model::{Api, Product, Revision};
use gatehouse_core::openapi::diff::{Change, Severity};
use gatehouse_core::store::Repo;

use super::catalog::{date, no_such_api, unavailable};
use super::session::Visitor;
use super::{render, visibility, Chrome};
use crate::publisher::Publisher;
use crate::state::AdminState;

/// One published revision as the changelog shows it.
struct Entry {
    number: u32,
    version: String,
    published: String,
    note: Option<String>,
    breaking: Vec<Line>,
    other: Vec<Line>,
}

/// One change: the operation, where in it, and what.
struct Line {
    operation: String,
    location: String,
    message: String,
}

impl Line {
    fn of(c: &Change) -> Line {
        Line { operation: format!("{} {}", c.method, c.path), location: c.location.clone(), message: c.message.clone() }
    }
}

/// Another version of the same family that the visitor may see.
struct Sibling {
    id: String,
    label: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "changelog.html")]
struct ChangelogPage {
    chrome: Chrome,
    api: Api,
    label: Option<String>,
    siblings: Vec<Sibling>,
    entries: Vec<Entry>,
}

pub(crate) async fn page<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Visitor(current): Visitor,
    Path(id): Path<String>,
) -> Response {
    let products = match s.repo.list::<Product>(None).await {
        Ok(products) => products,
        Err(e) => return unavailable(e),
    };
    let visible = Visibility::of(visibility::visitor(current.as_ref()), &products);
    let api = match visibility::api_in(&s, &visible, &id).await {
        Ok(Some(api)) => api,
        Ok(None) => return no_such_api(),
        Err(e) => return unavailable(e),
    };
    let mut revisions = match s.repo.list::<Revision>(Some(&api.id)).await {
        Ok(revisions) => revisions,
        Err(e) => return unavailable(e),
    };
    revisions.retain(|r| r.published_at.is_some());
    revisions.sort_by_key(|r| std::cmp::Reverse((r.published_at, r.number)));
    let entries = revisions.iter().map(entry).collect();
    let siblings = match siblings(&s, &visible, &api).await {
        Ok(siblings) => siblings,
        Err(e) => return unavailable(e),
    };
    let label = api.versioning.as_ref().map(|v| v.label.clone());
    render(&ChangelogPage { chrome: Chrome::of(&s.portal, current.as_ref()), api, label, siblings, entries })
}

fn entry(r: &Revision) -> Entry {
    let (breaking, other): (Vec<&Change>, Vec<&Change>) =
        r.diff.changes.iter().partition(|c| c.severity == Severity::Breaking);
    Entry {
        number: r.number,
        version: r.version.clone(),
        published: r.published_at.map(date).unwrap_or_default(),
        note: r.note.clone(),
        breaking: breaking.into_iter().map(Line::of).collect(),
        other: other.into_iter().map(Line::of).collect(),
    }
}

/// The other versions of `api`'s family that the visitor may see, by label.
async fn siblings<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    visible: &Visibility,
    api: &Api,
) -> Result<Vec<Sibling>, gatehouse_core::store::StoreError> {
    let Some(set) = api.versioning.as_ref().map(|v| v.set.as_str()) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for other in s.repo.list::<Api>(None).await? {
        let same_set = other.versioning.as_ref().is_some_and(|v| v.set == set);
        if other.id == api.id || !same_set {
            continue;
        }
        if let Some(seen) = visibility::api_in(s, visible, &other.id).await? {
            let label = seen.versioning.as_ref().map(|v| v.label.clone()).unwrap_or_default();
            out.push(Sibling { id: seen.id, label, state: seen.lifecycle.name() });
        }
    }
    out.sort_by(|a, b| a.label.cmp(&b.label));
    Ok(out)
}
