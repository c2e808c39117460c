//! Reading singleton fields (`Age`, `Date`, `Expires`) the same way whatever the platform did
//! with repeated lines.
//!
//! A native server hands the core each field line as its own value; the Workers `Headers` API
//! joins repeated lines into one value with `", "` (`Age: 7200` + `Age: 0` arrives as
//! `Age: 7200, 0`). If the core read the first line natively and the joined value at the edge,
//! the same upstream answer would be fresh in one place and stale in the other. So every
//! reader here first joins the lines exactly as Workers does, then parses that one value.

use std::borrow::Cow;

use http::header::AsHeaderName;
use http::HeaderMap;

/// The field's lines joined with `", "`, as the Workers `Headers` API presents them; `None`
/// when absent. Non-UTF-8 bytes are replaced, which makes the value invalid rather than
/// dropping it (an invalid `Age` or `Expires` must count, see [`age`]).
pub fn joined<K: AsHeaderName>(headers: &HeaderMap, name: K) -> Option<Cow<'_, str>> {
    let mut lines = headers.get_all(name).into_iter();
    let first = String::from_utf8_lossy(lines.next()?.as_bytes());
    let mut rest = lines.peekable();
    if rest.peek().is_none() {
        return Some(first);
    }
    let mut value = first.into_owned();
    for line in rest {
        value.push_str(", ");
        value.push_str(&String::from_utf8_lossy(line.as_bytes()));
    }
    Some(Cow::Owned(value))
}

/// What an `Age` field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    Absent,
    Seconds(u64),
    /// Not a non-negative integer. The RFC lets a cache ignore such a value; Gatehouse treats
    /// the response as stale instead, because ignoring it would make a response an upstream
    /// cache says is old look brand new.
    Invalid,
}

/// `Age` (RFC 9111 §5.1) read strictly: the first member of the (joined) list must be
/// delta-seconds, digits only. Later members are discarded, as §5.1 asks, so `7200, 0` is an
/// age of 7200 s on every platform, never 0.
pub fn age(headers: &HeaderMap) -> Age {
    let Some(value) = joined(headers, http::header::AGE) else {
        return Age::Absent;
    };
    let first = value.split(',').next().unwrap_or_default().trim_matches([' ', '\t']);
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Age::Invalid;
    }
    // Longer than u64: older than anything we could store.
    Age::Seconds(first.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use http::header::AGE;
    use http::HeaderValue;

    use super::*;

    fn lines(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AGE, HeaderValue::from_static(v));
        }
        headers
    }

    #[test]
    fn rfc9111_5_1_age_is_the_first_member_whether_lines_are_repeated_or_joined() {
        for (two_lines, one_line, expected) in [
            (&["7200", "0"][..], "7200, 0", Age::Seconds(7200)),
            (&["0", "7200"][..], "0, 7200", Age::Seconds(0)),
            (&["7200", "7200"][..], "7200, 7200", Age::Seconds(7200)),
        ] {
            assert_eq!(age(&lines(two_lines)), expected, "{two_lines:?}");
            assert_eq!(age(&lines(&[one_line])), expected, "{one_line}");
        }
    }

    #[test]
    fn rfc9111_5_1_an_invalid_age_is_invalid_not_zero() {
        for junk in ["abc", "-7200", "7200.0", "", " ", "+5", "0x10"] {
            assert_eq!(age(&lines(&[junk])), Age::Invalid, "{junk:?}");
        }
        assert_eq!(age(&HeaderMap::new()), Age::Absent);
        assert_eq!(age(&lines(&["99999999999999999999999"])), Age::Seconds(u64::MAX));
    }

    #[test]
    fn joined_matches_the_workers_headers_api() {
        let mut headers = HeaderMap::new();
        headers.append("expires", HeaderValue::from_static("Thu, 01 Jan 2037 00:00:00 GMT"));
        assert_eq!(joined(&headers, "expires").unwrap(), "Thu, 01 Jan 2037 00:00:00 GMT");
        headers.append("expires", HeaderValue::from_static("0"));
        assert_eq!(joined(&headers, "expires").unwrap(), "Thu, 01 Jan 2037 00:00:00 GMT, 0");
        assert!(joined(&headers, "date").is_none());
    }
}
