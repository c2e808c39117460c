//! Entity tags for admin resources: a strong validator derived from the stored body, so every
//! store gets one without keeping a version column, and a record's tag changes exactly when
//! its stored JSON does.

use sha2::{Digest, Sha256};

/// A strong `ETag` (RFC 9110 §8.8.3): the first 128 bits of the SHA-256 of the record's
/// stored body, in hex. Collisions are out of reach, and the body holds no secret (a key's
/// record holds only the hash of its secret), so the tag leaks nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Etag(String);

impl Etag {
    /// The tag of a record whose stored body is `body`.
    pub fn of_body(body: &str) -> Etag {
        let digest = Sha256::digest(body.as_bytes());
        Etag(crate::hex::encode(&digest[..16]))
    }

    /// The header value, quoted: `"0123…"`.
    pub fn header_value(&self) -> String {
        format!("\"{}\"", self.0)
    }

    /// Whether an `If-Match` field value (RFC 9110 §13.1.1) admits this tag: `*`, or a list
    /// holding it. `If-Match` uses the strong comparison, so a weak tag (`W/"…"`) never
    /// matches.
    pub fn matches(&self, if_match: &str) -> bool {
        if if_match.trim() == "*" {
            return true;
        }
        if_match
            .split(',')
            .map(str::trim)
            .any(|tag| tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) == Some(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_changes_exactly_when_the_body_does_and_matches_strongly() {
        let tag = Etag::of_body(r#"{"id":"dev_1"}"#);
        assert_eq!(tag, Etag::of_body(r#"{"id":"dev_1"}"#));
        assert_ne!(tag, Etag::of_body(r#"{"id":"dev_2"}"#));
        let quoted = tag.header_value();
        assert!(tag.matches(&quoted) && tag.matches("*") && tag.matches(&format!("\"x\", {quoted}")));
        assert!(!tag.matches(&format!("W/{quoted}")), "If-Match compares strongly");
        assert!(!tag.matches("\"x\"") && !tag.matches("") && !tag.matches(&tag.0));
    }
}
