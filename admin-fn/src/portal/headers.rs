//! Headers every portal page carries. The Content-Security-Policy allows scripts, styles and
//! fonts from this origin only, and no inline script or style at all: a description imported
//! from an untrusted OpenAPI document can never run code in a developer's session, even if
//! something slipped past escaping and sanitising. `connect-src` also names the gateway, for
//! the try-it console.

use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;

/// The policy; `gateway_origin` (e.g. `http://127.0.0.1:8080`) is where try-it may send calls.
pub(crate) fn content_security_policy(gateway_origin: Option<&str>) -> String {
    let connect = match gateway_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src {connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// [`content_security_policy`] for this portal, as a header value.
pub(crate) fn page_policy(portal: &super::PortalSettings) -> HeaderValue {
    HeaderValue::from_str(&content_security_policy(portal.gateway_origin().as_deref()))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// The interactive reference's policy: the strict one, except that Scalar's bundle injects
/// its own `<style>` elements, so styles (never scripts) may be inline on that page alone.
pub(crate) fn interactive_policy(gateway_origin: Option<&str>) -> String {
    content_security_policy(gateway_origin).replace("style-src 'self';", "style-src 'self' 'unsafe-inline';")
}

/// Adds the page headers to an HTML response.
pub(crate) fn secure(mut response: Response, csp: &HeaderValue) -> Response {
    let headers = response.headers_mut();
    // A page may have set a policy of its own (the interactive reference's).
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert_with(|| csp.clone());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    // Pages show a developer's own data: never from a shared cache.
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("private, no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_no_inline_code_and_names_the_gateway_for_try_it() {
        let csp = content_security_policy(Some("http://127.0.0.1:8080"));
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("style-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(csp.contains("connect-src 'self' http://127.0.0.1:8080;"), "{csp}");
        assert!(content_security_policy(None).contains("connect-src 'self';"));
    }
}
