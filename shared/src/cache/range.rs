//! Byte ranges (RFC 9110 §14) served from a complete stored `200`: a `Range: bytes=…` request
//! that hits the cache gets `206 Partial Content` cut from the stored body instead of a trip
//! to the upstream.
//!
//! One range per request. A multi-range request is answered with the whole representation,
//! which §14.2 allows (a server MAY ignore `Range`), rather than with `multipart/byteranges`,
//! which API clients rarely parse. `206` responses themselves are never stored, so ranges are
//! only ever cut from complete bodies.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

use super::fields::joined;

/// What a request's `Range` asks of a body of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    /// Send the whole body: no `Range`, one that must be ignored, or a failed `If-Range`.
    Whole,
    /// Bytes `first..=last` of the body.
    Part { first: usize, last: usize },
    /// A syntactically valid range that starts past the end of the body (`416`).
    Unsatisfiable,
}

/// Applies the request's `Range` (and `If-Range`) to a complete response about to be served
/// from storage: a `200` to a GET becomes a `206` or `416`; anything else is left whole.
pub fn apply(method: &Method, request: &HeaderMap, response: &mut Response<Bytes>) {
    if *method != Method::GET || response.status() != StatusCode::OK {
        return;
    }
    let len = response.body().len();
    match select(request, response.headers(), len) {
        Selected::Whole => {}
        Selected::Part { first, last } => {
            let part = response.body().slice(first..=last);
            let headers = response.headers_mut();
            headers.insert(CONTENT_RANGE, content_range(&format!("{first}-{last}"), len));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(part.len()));
            *response.body_mut() = part;
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        Selected::Unsatisfiable => {
            let headers = response.headers_mut();
            headers.insert(CONTENT_RANGE, content_range("*", len));
            headers.insert(CONTENT_LENGTH, HeaderValue::from(0));
            *response.body_mut() = Bytes::new();
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
        }
    }
}

fn content_range(range: &str, len: usize) -> HeaderValue {
    HeaderValue::from_str(&format!("bytes {range}/{len}")).unwrap_or(HeaderValue::from_static("bytes */0"))
}

/// The part of a `len`-byte body the request asks for, given the stored response's headers
/// (for `If-Range`).
pub fn select(request: &HeaderMap, stored: &HeaderMap, len: usize) -> Selected {
    let Some(range) = joined(request, RANGE) else {
        return Selected::Whole;
    };
    if !if_range_holds(request, stored) {
        return Selected::Whole;
    }
    let Some(spec) =
        range.trim().get(..6).filter(|unit| unit.eq_ignore_ascii_case("bytes=")).map(|_| &range.trim()[6..])
    else {
        return Selected::Whole; // another unit: ignored (§14.2)
    };
    if spec.contains(',') {
        return Selected::Whole; // several ranges: the whole body, see the module docs
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Selected::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().unwrap_or(u64::MAX))
    };
    let len64 = len as u64;
    let (first, last) = match (number(first), number(last), last.trim().is_empty()) {
        (Some(first), Some(last), _) if first <= last => (first, last.min(len64.saturating_sub(1))),
        (Some(first), None, true) => (first, len64.saturating_sub(1)),
        (None, Some(suffix), _) if first.trim().is_empty() => {
            if suffix == 0 || len == 0 {
                return Selected::Unsatisfiable;
            }
            (len64.saturating_sub(suffix), len64 - 1)
        }
        _ => return Selected::Whole, // invalid range-spec: ignored (§14.2)
    };
    if first >= len64 {
        return Selected::Unsatisfiable;
    }
    match (usize::try_from(first), usize::try_from(last)) {
        (Ok(first), Ok(last)) => Selected::Part { first, last },
        _ => Selected::Whole,
    }
}

/// `If-Range` (RFC 9110 §13.1.5): the range applies only if the validator still names the
/// stored representation: an entity tag by strong comparison, or exactly its `Last-Modified`.
fn if_range_holds(request: &HeaderMap, stored: &HeaderMap) -> bool {
    let Some(condition) = joined(request, IF_RANGE) else {
        return true;
    };
    let condition = condition.trim();
    if condition.starts_with('"') || condition.starts_with("W/") {
        let etag = joined(stored, ETAG);
        return !condition.starts_with("W/") && etag.is_some_and(|etag| etag.trim() == condition);
    }
    joined(stored, LAST_MODIFIED).is_some_and(|modified| modified.trim() == condition)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    fn request(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    fn pick(range: &'static str, len: usize) -> Selected {
        select(&request(&[("range", range)]), &HeaderMap::new(), len)
    }

    #[test]
    fn rfc9110_14_1_2_byte_range_forms() {
        assert_eq!(pick("bytes=0-1", 11), Selected::Part { first: 0, last: 1 });
        assert_eq!(pick("bytes=1-", 11), Selected::Part { first: 1, last: 10 });
        assert_eq!(pick("bytes=-1", 11), Selected::Part { first: 10, last: 10 });
        assert_eq!(pick("Bytes=5-999", 11), Selected::Part { first: 5, last: 10 }, "last clipped to the body");
        assert_eq!(pick("bytes=-50", 11), Selected::Part { first: 0, last: 10 }, "suffix longer than the body");
    }

    #[test]
    fn rfc9110_14_2_invalid_or_multiple_ranges_are_ignored_and_unsatisfiable_ones_refused() {
        for ignored in ["items=0-1", "bytes=2-1", "bytes=a-b", "bytes=0-1,3-4", "bytes=--1", "bytes=", "bytes=+1-2"] {
            assert_eq!(pick(ignored, 11), Selected::Whole, "{ignored}");
        }
        for unsatisfiable in ["bytes=11-", "bytes=20-30", "bytes=-0"] {
            assert_eq!(pick(unsatisfiable, 11), Selected::Unsatisfiable, "{unsatisfiable}");
        }
        assert_eq!(pick("bytes=-1", 0), Selected::Unsatisfiable);
    }

    #[test]
    fn rfc9110_13_1_5_if_range_needs_a_strong_match() {
        let stored = request(&[("etag", "\"v1\""), ("last-modified", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        let with =
            |if_range: &'static str| select(&request(&[("range", "bytes=0-1"), ("if-range", if_range)]), &stored, 11);
        assert_eq!(with("\"v1\""), Selected::Part { first: 0, last: 1 });
        assert_eq!(with("W/\"v1\""), Selected::Whole, "a weak tag never matches");
        assert_eq!(with("\"v2\""), Selected::Whole);
        assert_eq!(with("Sun, 06 Nov 1994 08:49:37 GMT"), Selected::Part { first: 0, last: 1 });
        assert_eq!(with("Sun, 06 Nov 1994 08:49:38 GMT"), Selected::Whole);
    }

    #[test]
    fn a_part_is_a_206_with_its_content_range_and_length() {
        let mut response = Response::new(Bytes::from_static(b"01234567890"));
        response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(11));
        apply(&Method::GET, &request(&[("range", "bytes=-5")]), &mut response);
        assert_eq!((response.status(), response.body().as_ref()), (StatusCode::PARTIAL_CONTENT, b"67890".as_ref()));
        assert_eq!(response.headers()["content-range"], "bytes 6-10/11");
        assert_eq!(response.headers()["content-length"], "5");
        let mut head = Response::new(Bytes::new());
        apply(&Method::HEAD, &request(&[("range", "bytes=0-1")]), &mut head);
        assert_eq!(head.status(), StatusCode::OK, "range handling is defined for GET only");
    }
}
