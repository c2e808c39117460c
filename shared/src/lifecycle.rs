//! API lifecycle: draft → published → deprecated → retired.
//!
//! Deprecated APIs keep answering but tell callers so, with `Deprecation` (RFC 9745),
//! `Sunset` (RFC 8594) and a `Link` to the successor; retired APIs answer `410 Gone`.

use http::header::{HeaderName, LINK};
use serde::{Deserialize, Serialize};

use crate::time::{http_date, UnixMillis, SECOND};

const DEPRECATION: HeaderName = HeaderName::from_static("deprecation");
const SUNSET: HeaderName = HeaderName::from_static("sunset");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Lifecycle {
    /// Not served by the gateway yet.
    Draft,
    Published {
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        published_at: UnixMillis,
    },
    Deprecated {
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        deprecated_at: UnixMillis,
        #[serde(default, with = "crate::time::serde_rfc3339_opt")]
        #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
        sunset_at: Option<UnixMillis>,
        /// URL of the version that replaces this one.
        #[serde(default)]
        successor: Option<String>,
    },
    Retired {
        #[serde(with = "crate::time::serde_rfc3339")]
        #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
        retired_at: UnixMillis,
        #[serde(default)]
        successor: Option<String>,
    },
}

/// A lifecycle change asked for through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Transition {
    Publish,
    Deprecate {
        #[serde(default, with = "crate::time::serde_rfc3339_opt")]
        #[cfg_attr(feature = "schema", schema(value_type = Option<String>, format = DateTime))]
        sunset_at: Option<UnixMillis>,
        #[serde(default)]
        successor: Option<String>,
    },
    Retire {
        #[serde(default)]
        successor: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an API that is {from}")]
pub struct TransitionError {
    pub from: &'static str,
    pub action: &'static str,
}

impl Lifecycle {
    pub fn name(&self) -> &'static str {
        match self {
            Lifecycle::Draft => "draft",
            Lifecycle::Published { .. } => "published",
            Lifecycle::Deprecated { .. } => "deprecated",
            Lifecycle::Retired { .. } => "retired",
        }
    }

    /// Moves forward only: draft → published → deprecated → retired (deprecation may be
    /// skipped, and a deprecation may be updated with a new sunset or successor).
    pub fn apply(&self, transition: Transition, now: UnixMillis) -> Result<Lifecycle, TransitionError> {
        let refuse = |action| Err(TransitionError { from: self.name(), action });
        match (self, transition) {
            (Lifecycle::Draft, Transition::Publish) => Ok(Lifecycle::Published { published_at: now }),
            (Lifecycle::Published { .. }, Transition::Deprecate { sunset_at, successor }) => {
                Ok(Lifecycle::Deprecated { deprecated_at: now, sunset_at, successor })
            }
            (Lifecycle::Deprecated { deprecated_at, .. }, Transition::Deprecate { sunset_at, successor }) => {
                Ok(Lifecycle::Deprecated { deprecated_at: *deprecated_at, sunset_at, successor })
            }
            (Lifecycle::Published { .. }, Transition::Retire { successor }) => {
                Ok(Lifecycle::Retired { retired_at: now, successor })
            }
            (Lifecycle::Deprecated { successor: old, .. }, Transition::Retire { successor }) => {
                Ok(Lifecycle::Retired { retired_at: now, successor: successor.or_else(|| old.clone()) })
            }
            (_, Transition::Publish) => refuse("publish"),
            (_, Transition::Deprecate { .. }) => refuse("deprecate"),
            (_, Transition::Retire { .. }) => refuse("retire"),
        }
    }

    /// Headers a deprecated API adds to every response.
    pub fn response_headers(&self) -> Vec<(HeaderName, String)> {
        let Lifecycle::Deprecated { deprecated_at, sunset_at, successor } = self else {
            return Vec::new();
        };
        let mut headers = vec![(DEPRECATION, format!("@{}", deprecated_at.div_euclid(SECOND)))];
        if let Some(sunset) = sunset_at {
            headers.push((SUNSET, http_date(*sunset)));
        }
        if let Some(url) = successor {
            headers.push((LINK, format!("<{url}>; rel=\"successor-version\"")));
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_only_moves_forward() {
        let published = Lifecycle::Draft.apply(Transition::Publish, 1).expect("publish a draft");
        let deprecated = published
            .apply(
                Transition::Deprecate { sunset_at: Some(784_111_777_000), successor: Some("https://x/v2".into()) },
                2,
            )
            .expect("deprecate");
        assert!(deprecated.apply(Transition::Publish, 3).is_err());
        let retired = deprecated.apply(Transition::Retire { successor: None }, 4).expect("retire");
        assert_eq!(retired, Lifecycle::Retired { retired_at: 4, successor: Some("https://x/v2".into()) });
        assert!(retired.apply(Transition::Deprecate { sunset_at: None, successor: None }, 5).is_err());
        assert!(Lifecycle::Draft.apply(Transition::Retire { successor: None }, 1).is_err());
    }

    #[test]
    fn deprecated_api_announces_deprecation_sunset_and_successor() {
        let l = Lifecycle::Deprecated {
            deprecated_at: 1_700_000_000_500,
            sunset_at: Some(784_111_777_000),
            successor: Some("https://api.example.com/v2".into()),
        };
        let shown: Vec<(String, String)> =
            l.response_headers().into_iter().map(|(name, value)| (name.as_str().to_owned(), value)).collect();
        let expected = [
            ("deprecation", "@1700000000"),
            ("sunset", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("link", "<https://api.example.com/v2>; rel=\"successor-version\""),
        ];
        assert_eq!(shown, expected.map(|(name, value)| (name.to_owned(), value.to_owned())));
        assert!(Lifecycle::Published { published_at: 0 }.response_headers().is_empty());
    }
}
