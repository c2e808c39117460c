//! CORS for the developer portal's try-it console, and for no one else.
//!
//! The portal (its own origin, e.g. `http://127.0.0.1:8081`) calls the gateway from the
//! browser with an `x-api-key` header, which makes every call "non-simple": the browser first
//! sends a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`). The gateway
//! answers that preflight itself, before routing, so it needs no key and is no API call (no
//! usage event, no limit). Only the one configured origin is ever allowed; a request from any
//! other origin goes through the pipeline exactly as before and gets no CORS header from us.
//!
//! Credentials mode is never allowed (no `Access-Control-Allow-Credentials`): the console
//! sends the developer's key in a header, never a cookie, so a page on the portal's origin can
//! use the gateway only with a key it already holds.
//!
//! Pure: the decision reads the request's headers and the configuration, nothing else, so the
//! Worker and the native gateway answer the same.

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};

/// Response headers the console may read besides the CORS-safelisted ones: the limit headers
/// (IETF httpapi draft), `Retry-After` on 429, the cache and lifecycle headers.
const EXPOSED: &str = "RateLimit, RateLimit-Policy, Retry-After, Cache-Status, Deprecation, Sunset, Link, ETag";
/// How long a browser may reuse a preflight answer (seconds). Chromium caps it at 7,200.
const MAX_AGE: &str = "600";
/// Longest `Access-Control-Request-Headers` echoed back; a longer one is not answered.
const MAX_REQUEST_HEADERS_LEN: usize = 1024;

/// What the gateway does about CORS for one request.
#[derive(Debug)]
pub enum Cors {
    /// No portal origin configured: the response is left exactly as the pipeline makes it.
    Off,
    /// A portal is configured but this request is not from it: only `Vary: Origin` is added
    /// (the answer depends on `Origin`, so a cache in front must not mix the two).
    Other,
    /// A preflight from the portal: answer it now with this response; the pipeline never runs.
    Preflight(Response<Bytes>),
    /// An ordinary request from the portal: the response gets its CORS headers.
    Portal(HeaderValue),
}

/// Checks a configured portal origin and returns its serialised form (`scheme://host[:port]`,
/// lower-cased, no trailing slash), the form browsers send in `Origin`.
pub fn parse_origin(value: &str) -> Result<String, String> {
    let v = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| format!("must start with http:// or https://, got {value:?}"))?;
    let host_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if rest.is_empty() || !rest.chars().all(host_ok) {
        return Err(format!("must be scheme://host[:port] with no path, query or user, got {value:?}"));
    }
    Ok(v)
}

/// Decides how to treat `method` + `headers` when the portal's origin is `portal`.
pub fn decide(portal: Option<&str>, method: &Method, headers: &HeaderMap) -> Cors {
    let Some(portal) = portal else { return Cors::Off };
    let Some(origin) = headers.get(ORIGIN) else { return Cors::Other };
    if !origin.as_bytes().eq_ignore_ascii_case(portal.as_bytes()) {
        return Cors::Other;
    }
    let requested = headers.get(ACCESS_CONTROL_REQUEST_METHOD);
    match (method == Method::OPTIONS, requested) {
        (true, Some(requested)) => preflight(origin, requested, headers.get(ACCESS_CONTROL_REQUEST_HEADERS)),
        _ => Cors::Portal(origin.clone()),
    }
}

/// `204` allowing the requested method and headers, if they are well formed; otherwise the
/// request is not a preflight we answer and it goes on as an ordinary request.
fn preflight(origin: &HeaderValue, method: &HeaderValue, headers: Option<&HeaderValue>) -> Cors {
    if Method::from_bytes(method.as_bytes()).is_err() {
        return Cors::Portal(origin.clone());
    }
    let list_ok = |v: &HeaderValue| {
        v.len() <= MAX_REQUEST_HEADERS_LEN
            && v.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b" ,-_".contains(b))
    };
    if headers.is_some_and(|h| !list_ok(h)) {
        return Cors::Portal(origin.clone());
    }
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let h = response.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, method.clone());
    if let Some(requested) = headers {
        h.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    h.append(VARY, HeaderValue::from_static("Origin, Access-Control-Request-Method, Access-Control-Request-Headers"));
    Cors::Preflight(response)
}

impl Cors {
    /// Adds what this decision calls for to the pipeline's response (after the cache stage,
    /// so no stored response ever carries CORS headers).
    pub fn decorate<B>(self, response: &mut Response<B>) {
        match self {
            Cors::Off | Cors::Preflight(_) => {}
            Cors::Other => {
                response.headers_mut().append(VARY, HeaderValue::from_static("Origin"));
            }
            Cors::Portal(origin) => {
                let h = response.headers_mut();
                h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                h.insert(ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
                h.append(VARY, HeaderValue::from_static("Origin"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PORTAL: &str = "http://127.0.0.1:8081";

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs.iter().map(|(n, v)| (n.parse().unwrap(), HeaderValue::from_str(v).unwrap())).collect()
    }

    fn preflight_from(origin: &str) -> Cors {
        let h = headers(&[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "x-api-key, content-type"),
        ]);
        decide(Some(PORTAL), &Method::OPTIONS, &h)
    }

    #[test]
    fn the_portals_preflight_is_answered_without_the_pipeline() {
        let Cors::Preflight(res) = preflight_from(PORTAL) else { panic!("not answered") };
        assert_eq!(res.status(), 204);
        let h = res.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], PORTAL);
        assert_eq!(h[ACCESS_CONTROL_ALLOW_METHODS], "POST");
        assert_eq!(h[ACCESS_CONTROL_ALLOW_HEADERS], "x-api-key, content-type");
        assert!(h[VARY].to_str().unwrap().contains("Origin"));
        assert!(h.get("access-control-allow-credentials").is_none());
    }

    #[test]
    fn another_origin_gets_no_cors_header_only_vary() {
        for origin in ["http://evil.test", "http://127.0.0.1:8082", "null"] {
            let decision = preflight_from(origin);
            assert!(matches!(decision, Cors::Other), "{origin}");
            let mut res = Response::new(Bytes::new());
            decision.decorate(&mut res);
            assert!(res.headers().keys().all(|n| !n.as_str().starts_with("access-control-")), "{origin}");
            assert_eq!(res.headers()[VARY], "Origin");
        }
    }

    #[test]
    fn without_a_portal_nothing_changes() {
        let decision = decide(None, &Method::OPTIONS, &headers(&[("origin", PORTAL)]));
        assert!(matches!(decision, Cors::Off));
        let mut res = Response::new(Bytes::new());
        decision.decorate(&mut res);
        assert!(res.headers().is_empty());
    }

    #[test]
    fn a_portal_call_exposes_the_limit_headers_to_the_console() {
        let decision = decide(Some(PORTAL), &Method::GET, &headers(&[("origin", PORTAL)]));
        let mut res = Response::new(Bytes::new());
        res.headers_mut().insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        decision.decorate(&mut res);
        let h = res.headers();
        assert_eq!(h[ACCESS_CONTROL_ALLOW_ORIGIN], PORTAL);
        let exposed = h[ACCESS_CONTROL_EXPOSE_HEADERS].to_str().unwrap();
        for name in ["RateLimit", "RateLimit-Policy", "Retry-After"] {
            assert!(exposed.split(", ").any(|e| e == name), "{name}");
        }
        let vary: Vec<_> = h.get_all(VARY).iter().collect();
        assert_eq!(vary, ["Accept-Encoding", "Origin"]);
    }

    #[test]
    fn an_options_call_without_a_requested_method_is_an_ordinary_call() {
        let decision = decide(Some(PORTAL), &Method::OPTIONS, &headers(&[("origin", PORTAL)]));
        assert!(matches!(decision, Cors::Portal(_)));
        let bad = headers(&[
            ("origin", PORTAL),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "x\"y"),
        ]);
        assert!(matches!(decide(Some(PORTAL), &Method::OPTIONS, &bad), Cors::Portal(_)));
    }

    #[test]
    fn portal_origins_are_checked_and_serialised_like_browsers_send_them() {
        assert_eq!(parse_origin("HTTP://127.0.0.1:8081/").unwrap(), PORTAL);
        assert_eq!(parse_origin("https://portal.example.com").unwrap(), "https://portal.example.com");
        for bad in ["127.0.0.1:8081", "http://", "http://x.test/path", "ftp://x.test", "http://u@x.test", "*"] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
