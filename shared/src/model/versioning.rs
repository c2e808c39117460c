//! Versions of one API served side by side, as Azure API Management's version sets do: each
//! version is an [`super::Api`] of its own (its own document, upstream, lifecycle and
//! revisions), and the versions of one family share a set name and a scheme that says how a
//! request picks one.
//!
//! - `path`: each version has its own base path (`/pets/v1`, `/pets/v2`); routing is the
//!   base path's, and nothing else is needed.
//! - `header`: the versions share one base path, and a named request header (`Api-Version:
//!   v2`) picks the version; the version marked `default` answers requests without it. The
//!   choice is made by the core router ([`crate::routing`]), so the Worker and the native
//!   gateway route alike.

use serde::{Deserialize, Serialize};

/// This API as one version of a family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "schema", schema(example = json!({"set": "pets", "label": "v2", "scheme": {"by": "header", "header": "api-version"}})))]
pub struct Versioning {
    /// The family's name, shared by its versions (e.g. `pets`).
    #[cfg_attr(feature = "schema", schema(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub set: String,
    /// This version's label, unique in the family (e.g. `v2`); with the `header` scheme, the
    /// header's value that picks it.
    #[cfg_attr(feature = "schema", schema(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    pub label: String,
    pub scheme: VersionScheme,
}

/// How a request names the version it wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum VersionScheme {
    /// By base path: each version is mounted at its own.
    Path,
    /// By a request header, on a base path the versions share.
    Header {
        /// The header's name, lower-case (e.g. `api-version`).
        header: String,
        /// This version answers requests that do not send the header (one per family).
        #[serde(default)]
        default: bool,
    },
}

impl Versioning {
    /// The header that picks this version, when versions are chosen by header.
    pub fn header(&self) -> Option<(&str, bool)> {
        match &self.scheme {
            VersionScheme::Path => None,
            VersionScheme::Header { header, default } => Some((header, *default)),
        }
    }

    /// Problems with the names, as (field below `/versioning`, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let fine = |s: &str| {
            (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        };
        if !fine(&self.set) {
            problems.push(("set", "must be 1 to 64 letters, digits, `.`, `_` or `-`".to_owned()));
        }
        if !fine(&self.label) {
            problems.push(("label", "must be 1 to 64 letters, digits, `.`, `_` or `-`".to_owned()));
        }
        if let VersionScheme::Header { header, .. } = &self.scheme {
            if http::HeaderName::from_bytes(header.as_bytes()).map_or(true, |h| h.as_str() != header) {
                problems.push(("scheme/header", "must be a lower-case HTTP header name".to_owned()));
            }
        }
        problems
    }
}
