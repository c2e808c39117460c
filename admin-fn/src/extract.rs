//! Request extractors whose every rejection is a problem+json, so axum's plain-text
//! rejections never reach a client: bad JSON syntax (or a member named twice) is 400, a well-formed body of the wrong
//! shape is 422, a body over the limit is 413, a non-JSON media type is 415.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use bytes::Bytes;
use gatehouse_core::problem::ProblemKind;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use crate::error::{AdminError, FieldError};
use crate::state::AdminState;

/// A JSON body deserialised into `T`.
pub struct JsonBody<T>(pub T);

/// Like [`JsonBody`], but an empty body means `T::default()` (for actions whose options are
/// all optional, e.g. `POST /v1/keys/{id}/rotate`).
pub struct OptionalJson<T>(pub T);

fn too_large(limit: usize) -> AdminError {
    let mib = limit as f64 / (1024.0 * 1024.0);
    let document = gatehouse_core::openapi::MAX_DOCUMENT_BYTES / (1024 * 1024);
    let detail = format!(
        "the body must be at most {limit} bytes ({mib:.1} MiB); an OpenAPI description inside it may be up to \
         {document} MiB"
    );
    AdminError::problem(ProblemKind::PayloadTooLarge, detail)
}

fn check_media_type(headers: &HeaderMap) -> Result<(), AdminError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(()); // curl without -H: accept, the body is still parsed strictly as JSON
    };
    let essence = value.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        return Ok(());
    }
    Err(AdminError::problem(ProblemKind::UnsupportedMediaType, "send the body as application/json"))
}

/// Reads the whole body, refusing more than `limit` bytes without buffering them.
pub(crate) async fn read_body(request: Request, limit: usize) -> Result<Bytes, AdminError> {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(limit)),
        Err(e) => Err(AdminError::problem(ProblemKind::BadRequest, format!("the body could not be read: {e}"))),
    }
}

/// Parses a JSON body: syntax errors and repeated member names are 400, shape errors 422.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    let value = crate::strict_json::from_slice(bytes)
        .map_err(|e| AdminError::problem(ProblemKind::InvalidJson, format!("the body is not valid JSON: {e}")))?;
    from_value(value)
}

/// Deserialises a parsed body, reporting a wrong shape as 422 located by JSON Pointer (e.g.
/// `/expires_at` for a time out of range), so the client knows which field to fix. Every admin
/// body is a JSON object, and so is every struct inside it: serde would also fill a struct from
/// an array, field by field in declaration order (`[null, null]` read as a PATCH that changes
/// nothing), which no client means ([`crate::objects_only`]).
pub(crate) fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AdminError> {
    if !value.is_object() {
        return Err(AdminError::validation(vec![FieldError::new("", "the body must be a JSON object")]));
    }
    crate::objects_only::from_value(value).map_err(|e| {
        let pointer = json_pointer(e.path());
        AdminError::validation(vec![FieldError::new(pointer, e.into_inner().to_string())])
    })
}

/// RFC 6901 pointer of a serde path: `keys[0].name` becomes `/keys/0/name`.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .fold(String::new(), |pointer, token| pointer + "/" + &token)
}

impl<T: DeserializeOwned, R: Send + Sync, P: Send + Sync> FromRequest<AdminState<R, P>> for JsonBody<T> {
    type Rejection = AdminError;
    async fn from_request(request: Request, state: &AdminState<R, P>) -> Result<Self, AdminError> {
        check_media_type(request.headers())?;
        let bytes = read_body(request, state.settings.max_body_bytes).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

impl<T: DeserializeOwned + Default, R: Send + Sync, P: Send + Sync> FromRequest<AdminState<R, P>> for OptionalJson<T> {
    type Rejection = AdminError;
    async fn from_request(request: Request, state: &AdminState<R, P>) -> Result<Self, AdminError> {
        check_media_type(request.headers())?;
        let bytes = read_body(request, state.settings.max_body_bytes).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Query parameters deserialised into `T`; a bad parameter is 422.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| QueryParams(q))
            .map_err(|e| AdminError::validation(vec![FieldError::new("", e.body_text())]))
    }
}

/// The `{id}` segment of a path.
pub struct Id(pub String);

/// The two segments of a path like `/v1/organisations/{id}/members/{developer_id}`.
pub struct IdPair(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|Path((a, b))| IdPair(a, b))
            .map_err(|e| AdminError::problem(ProblemKind::BadRequest, e.body_text()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = AdminError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| Id(id))
            .map_err(|e| AdminError::problem(ProblemKind::BadRequest, e.body_text()))
    }
}
