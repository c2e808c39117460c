//! Usage ingest: `POST /v1/usage/batches`, where the edge delivers per-minute rollups.
//!
//! Not behind the admin token: the edge signs each batch with the shared ingest secret
//! ([`gatehouse_core::signing`]), so the body is authenticated and the timestamp bounds
//! replays to the tolerance window. Inside that window a replay (or the edge's own retry) is
//! harmless: the store adds a batch id's rollups exactly once (`Repo::add_usage_batch`).

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::problem::ProblemKind;
use gatehouse_core::signing::{verify, SIGNATURE_HEADER};
use gatehouse_core::store::{BatchOutcome, Repo};
use gatehouse_core::usage::UsageBatch;
use serde::Serialize;

use super::{route, Route};
use crate::error::{AdminError, FieldError};
use crate::extract::{parse_json, read_body};
use crate::publisher::Publisher;
use crate::state::AdminState;

/// Longest accepted batch id; ids are the store's idempotency keys.
const MAX_BATCH_ID_LEN: usize = 128;
/// Most rollups in one batch (the edge sends at most 1,000, a five-minute window's worth cut
/// into batches; this leaves room for other senders).
const MAX_ROLLUPS: usize = 10_000;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::POST, "/v1/usage/batches", Access::Public, ingest::<R, P>)]
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Receipt {
    batch_id: String,
    outcome: BatchOutcome,
    rollups: usize,
}

async fn ingest<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    request: Request,
) -> Result<(StatusCode, Json<Receipt>), AdminError> {
    let Some(secret) = s.ingest_secret.clone() else {
        return Err(AdminError::problem(ProblemKind::NotFound, "usage ingest is not enabled on this control plane"));
    };
    let signature = request.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = read_body(request, s.settings.max_body_bytes).await?;
    let Some(signature) = signature else {
        return Err(AdminError::Unauthorized("a gatehouse-signature header is required"));
    };
    if let Err(e) = verify(&secret, &signature, &body, s.now(), s.settings.signature_tolerance_secs) {
        tracing::info!(reason = %e, "usage batch refused");
        return Err(AdminError::Unauthorized("the batch signature is not valid or too old"));
    }
    let batch: UsageBatch = parse_json(&body)?;
    check(&batch)?;
    let outcome = s.repo.add_usage_batch(&batch.batch_id, &batch.rollups).await?;
    let status = match outcome {
        BatchOutcome::Applied => StatusCode::ACCEPTED,
        BatchOutcome::Duplicate => StatusCode::OK,
    };
    tracing::debug!(batch_id = %batch.batch_id, ?outcome, rollups = batch.rollups.len(), "usage batch");
    Ok((status, Json(Receipt { batch_id: batch.batch_id, outcome, rollups: batch.rollups.len() })))
}

fn check(batch: &UsageBatch) -> Result<(), AdminError> {
    let mut errors = Vec::new();
    let id_ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if batch.batch_id.is_empty() || batch.batch_id.len() > MAX_BATCH_ID_LEN || !batch.batch_id.chars().all(id_ok) {
        errors.push(FieldError::new("/batch_id", format!("1 to {MAX_BATCH_ID_LEN} characters of [A-Za-z0-9_-]")));
    }
    if batch.rollups.len() > MAX_ROLLUPS {
        errors.push(FieldError::new("/rollups", format!("at most {MAX_ROLLUPS} rollups per batch")));
    }
    for (i, r) in batch.rollups.iter().enumerate() {
        if r.key.minute.rem_euclid(gatehouse_core::time::MINUTE) != 0 {
            errors.push(FieldError::new(format!("/rollups/{i}/key/minute"), "must be the start of a minute"));
        }
    }
    AdminError::check(errors)
}
