//! `FieldName`: a header field's name in the catalog (where an API takes its key), checked
//! when the API is saved and kept parsed.

use std::fmt;

use http::HeaderName;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A valid header field name, lower case. Parsed once: an invalid name is refused when the
/// API is saved rather than silently never matching, and the gateway, which looks the name up
/// in every call's headers (and removes it before forwarding), does not parse it again each
/// time, as a `&str` name would be. Serialised as the plain string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FieldName(HeaderName);

/// The reason a field name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a valid header field name")]
pub struct InvalidFieldName(pub String);

impl FieldName {
    /// `name` in any case; it is kept in lower case, as header names are matched
    /// case-insensitively (RFC 9110 §5.1).
    pub fn parse(name: &str) -> Result<FieldName, InvalidFieldName> {
        HeaderName::from_bytes(name.as_bytes()).map(FieldName).map_err(|_| InvalidFieldName(name.to_owned()))
    }

    pub fn header_name(&self) -> &HeaderName {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Serialize for FieldName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FieldName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FieldName, D::Error> {
        let name = String::deserialize(deserializer)?;
        FieldName::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_kept_lower_case_and_round_trip_as_strings() {
        let name = FieldName::parse("X-API-Key").expect("valid");
        assert_eq!(name.as_str(), "x-api-key");
        assert_eq!(name.header_name(), &HeaderName::from_static("x-api-key"));
        let json = serde_json::to_string(&name).expect("serialise");
        assert_eq!(json, r#""x-api-key""#);
        assert_eq!(serde_json::from_str::<FieldName>(r#""X-Api-Key""#).expect("deserialise"), name);
    }

    #[test]
    fn invalid_names_are_refused_with_the_name() {
        for bad in ["", "x api key", "x-key:", "ключ"] {
            assert_eq!(FieldName::parse(bad), Err(InvalidFieldName(bad.to_owned())), "{bad:?}");
            let json = serde_json::to_string(bad).expect("a string");
            let err = serde_json::from_str::<FieldName>(&json).expect_err("refused");
            assert!(err.to_string().contains("not a valid header field name"), "{err}");
        }
    }
}
