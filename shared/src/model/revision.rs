//! Revisions of one API version: every document imported for it, numbered from 1, each with
//! what changed from the revision that was live before it. The changelog of the portal and
//! `gatehouse revisions` read them; publishing one makes its document the API's.

use serde::{Deserialize, Serialize};

use crate::openapi::diff::ApiDiff;
use crate::time::UnixMillis;

/// One imported document of an API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Revision {
    /// `rev_<the API id's random part>_<number>`: the id itself makes (API, number) unique.
    pub id: String,
    pub api_id: String,
    /// 1 for the document the API was created with, then one more per re-import.
    pub number: u32,
    /// The document's `info.version`.
    pub version: String,
    /// What the owner says about this revision (the changelog's text), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The document as imported.
    pub openapi: serde_json::Value,
    /// From the revision that was live when this one was published (or, until then, when it
    /// was created) to this one.
    #[serde(default)]
    pub diff: ApiDiff,
    /// Published although its diff breaks callers (`force`).
    #[serde(default)]
    pub forced: bool,
    /// Who imported it (the admin principal's name).
    #[serde(default)]
    pub created_by: String,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    /// When its document became the API's; `None` while it is only proposed.
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
    pub published_at: Option<UnixMillis>,
}

impl Revision {
    /// The id of revision `number` of `api_id`.
    pub fn id_for(api_id: &str, number: u32) -> String {
        let random = api_id.strip_prefix("api_").unwrap_or(api_id);
        format!("rev_{random}_{number}")
    }
}
