//! `GET /v1/apis/{id}/sensitivity`: the API's sensitive data as its document names it, for
//! owners checking an import and for the portal's API page.

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use gatehouse_core::model::{Access, Api};
use gatehouse_core::openapi::{sensitivity_report, SensitivityReport};
use gatehouse_core::store::Repo;

use super::{route, Route};
use crate::error::AdminError;
use crate::extract::Id;
use crate::publisher::Publisher;
use crate::state::AdminState;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::GET, "/v1/apis/{id}/sensitivity", Access::Read, get::<R, P>)]
}

/// Read from the stored document each time rather than stored beside it: the list is cheap
/// to make and can never fall out of step with the document.
async fn get<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    Id(id): Id,
) -> Result<Json<SensitivityReport>, AdminError> {
    let (api, _) = s.load_tagged::<Api>("API", &id).await?;
    Ok(Json(sensitivity_report(&api.openapi)))
}
