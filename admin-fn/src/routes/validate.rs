//! Field checks shared by the handlers. Each returns every problem it finds, located by
//! JSON Pointer, so one 422 lists them all.

use gatehouse_core::limits::{LimitKind, LimitPolicy};
use gatehouse_core::model::UpstreamSettings;

use crate::error::FieldError;

pub(crate) fn non_empty(value: &str, pointer: &str, errors: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(pointer, "must not be empty"));
    } else if value.chars().count() > 200 {
        errors.push(FieldError::new(pointer, "must be at most 200 characters"));
    }
}

/// `/`, or `/segment…` without a trailing slash, query, fragment or spaces.
pub(crate) fn base_path(path: &str, errors: &mut Vec<FieldError>) {
    let well_formed = path.starts_with('/')
        && (path == "/" || !path.ends_with('/'))
        && !path.contains("//")
        && !path.chars().any(|c| c.is_whitespace() || matches!(c, '?' | '#' | '{' | '}'));
    if !well_formed {
        errors.push(FieldError::new("/base_path", "must start with / and have no trailing /, query or spaces"));
    }
}

pub(crate) fn hosts(hosts: &[String], errors: &mut Vec<FieldError>) {
    for (i, host) in hosts.iter().enumerate() {
        let ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            errors.push(FieldError::new(format!("/hosts/{i}"), "must be a host name such as api.example.com"));
        }
    }
}

/// Lower-cased, trimmed, de-duplicated hosts.
pub(crate) fn normal_hosts(hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = hosts.iter().map(|h| h.trim().to_lowercase()).collect();
    out.sort();
    out.dedup();
    out
}

pub(crate) fn upstream(up: &UpstreamSettings, errors: &mut Vec<FieldError>) {
    let rest = up.url.strip_prefix("https://").or_else(|| up.url.strip_prefix("http://"));
    if !up.is_mock() && rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
        let message =
            "must be an absolute http:// or https:// URL, or mock: for the gateway to answer from the document";
        errors.push(FieldError::new("/upstream/url", message));
    }
    if !(1..=300_000).contains(&up.timeout_ms) {
        errors.push(FieldError::new("/upstream/timeout_ms", "must be between 1 and 300000"));
    }
    // A stream's silence and a call's length: zero would end every stream at once.
    if up.idle_timeout_ms == Some(0) {
        errors.push(FieldError::new("/upstream/idle_timeout_ms", "must be at least 1"));
    }
    if up.max_duration_ms == Some(0) {
        errors.push(FieldError::new("/upstream/max_duration_ms", "must be at least 1"));
    }
}

pub(crate) fn email(email: &str, errors: &mut Vec<FieldError>) {
    let ok = email.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if !ok {
        errors.push(FieldError::new("/email", "must be an email address"));
    }
}

/// Names unique within the list, and no limit of zero width.
pub(crate) fn limits(limits: &[LimitPolicy], pointer: &str, errors: &mut Vec<FieldError>) {
    for (i, policy) in limits.iter().enumerate() {
        let at = format!("{pointer}/{i}");
        if limits[..i].iter().any(|p| p.name == policy.name) {
            errors.push(FieldError::new(format!("{at}/name"), "limit names must be unique"));
        }
        let empty = match &policy.kind {
            LimitKind::Rate { limit, period_secs, .. } => *limit == 0 || *period_secs == 0,
            LimitKind::Quota { limit, .. } => *limit == 0,
        };
        if empty {
            errors.push(FieldError::new(at, "limit and period must be greater than zero"));
        }
    }
}
