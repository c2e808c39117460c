//! What the portal shows whoever is looking: the core's [`Visibility`] for the signed-in
//! developer, the staff, or an anonymous visitor. Every page that names an API or a plan
//! asks here, and answers an invisible API exactly as a missing one.

use gatehouse_core::audience::{Visibility, Visitor};
use gatehouse_core::model::{Api, Product, Subject};
use gatehouse_core::store::{Repo, StoreError};

use super::session::Current;
use crate::publisher::Publisher;
use crate::state::AdminState;

/// Who `current` is, as audiences see people.
pub(crate) fn visitor(current: Option<&Current>) -> Visitor<'_> {
    match current {
        None => Visitor::Anonymous,
        Some(Current { session, developer, organisation_names, .. }) => match (&session.subject, developer) {
            (Subject::Admin { .. }, _) => Visitor::Staff,
            (Subject::Developer { .. }, Some(d)) => {
                Visitor::Developer { group: d.group.as_deref(), organisations: organisation_names }
            }
            (Subject::Developer { .. }, None) => Visitor::Anonymous,
        },
    }
}

/// What `current` may see, from the stored products.
pub(crate) async fn of<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: Option<&Current>,
) -> Result<Visibility, StoreError> {
    Ok(Visibility::of(visitor(current), &s.repo.list::<Product>(None).await?))
}

/// The API with this id when `current` may know of it; `None` for a missing or invisible
/// one alike. A draft does not exist for the portal at all.
pub(crate) async fn api<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    current: Option<&Current>,
    id: &str,
) -> Result<Option<Api>, StoreError> {
    let visible = of(s, current).await?;
    api_in(s, &visible, id).await
}

/// [`api`] for a page that already holds the visitor's [`Visibility`].
pub(crate) async fn api_in<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    visible: &Visibility,
    id: &str,
) -> Result<Option<Api>, StoreError> {
    match s.repo.get::<Api>(id).await {
        Ok(api) if super::catalog::badge(&api.lifecycle).is_some() => Ok(visible.filter_api(api)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
