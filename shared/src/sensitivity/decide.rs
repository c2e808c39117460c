//! The gateway's decisions about one call, as pure functions of the compiled
//! [`OperationSensitivity`] and what the caller holds: may the request go upstream, and which
//! filter (if any) its response goes through.

use http::HeaderMap;

use super::plan::{OperationSensitivity, ResponseFilter};

/// Why a request needs a class the caller does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed<'s> {
    /// The operation as a whole is of this class.
    Operation { class: &'s str },
    /// The request carries this parameter.
    Parameter { class: &'s str, name: &'s str, place: &'s str },
}

impl Needed<'_> {
    pub fn class(&self) -> &str {
        match self {
            Needed::Operation { class } | Needed::Parameter { class, .. } => class,
        }
    }

    /// A sentence for the refusal's `detail`.
    pub fn detail(&self) -> String {
        match self {
            Needed::Operation { class } => {
                format!("This operation returns {class} data; your app holds no grant for the class {class:?}.")
            }
            Needed::Parameter { class, name, place } => format!(
                "The {place} parameter {name:?} is {class} data; your app holds no grant for the class {class:?}."
            ),
        }
    }
}

/// The first class the request needs and the caller lacks: the operation's own, then each
/// sensitive parameter the request actually sends (a path parameter is always sent).
pub fn check_request<'s>(
    spec: &'s OperationSensitivity,
    holds: impl Fn(&str) -> bool,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Option<Needed<'s>> {
    if let Some(class) = spec.class.as_deref().filter(|class| !holds(class)) {
        return Some(Needed::Operation { class });
    }
    spec.parameters
        .iter()
        .filter(|p| !holds(&p.class))
        .find(|p| sent(&p.name, &p.place, query, headers))
        .map(|p| Needed::Parameter { class: &p.class, name: &p.name, place: &p.place })
}

fn sent(name: &str, place: &str, query: Option<&str>, headers: &HeaderMap) -> bool {
    match place {
        "path" => true,
        "header" => headers.contains_key(name.to_ascii_lowercase().as_str()),
        "cookie" => headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .any(|pair| pair.trim_start().split('=').next() == Some(name)),
        // Names are compared decoded, so `s%73n=…` is `ssn` as the upstream will read it.
        _ => query.is_some_and(|q| q.split('&').any(|pair| decoded(pair.split('=').next().unwrap_or("")) == name)),
    }
}

/// A form-encoded name decoded (`+` is a space); undecodable bytes are kept as written.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What a response of `status` and `content_type` goes through.
#[derive(Debug, PartialEq, Eq)]
pub enum ResponsePlan<'s> {
    /// Nothing described for it is sensitive: relay as is.
    Relay,
    /// Filter with this, for a caller lacking the classes in `lacking`. A `lacking` of 0 is
    /// never returned (the caller holds everything: `Relay`).
    Filter { filter: &'s ResponseFilter, lacking: u64 },
    /// The response has fields to withhold but is not JSON, so it cannot be filtered; the
    /// bits are those of `filter`.
    Unfilterable { filter: &'s ResponseFilter, lacking: u64 },
}

/// Picks the filter for a response: the status's own entry, else its range (`2XX`), else
/// `default`, as OpenAPI matches them; then the media type, or the first JSON one when the
/// upstream sent another JSON type (`application/problem+json`, a vendor type).
pub fn response_plan<'s>(
    spec: &'s OperationSensitivity,
    status: u16,
    content_type: Option<&str>,
    holds: impl Fn(&str) -> bool,
) -> ResponsePlan<'s> {
    let media = content_type.map(media_type).unwrap_or_default();
    let Some(filter) = filter_for(spec, status, &media) else {
        return ResponsePlan::Relay;
    };
    match filter.lacking(&holds) {
        0 => ResponsePlan::Relay,
        lacking if is_json(&media) => ResponsePlan::Filter { filter, lacking },
        lacking => ResponsePlan::Unfilterable { filter, lacking },
    }
}

/// The filter described for a response of `status` and media type `media`, as
/// [`response_plan`] picks it.
fn filter_for<'s>(spec: &'s OperationSensitivity, status: u16, media: &str) -> Option<&'s ResponseFilter> {
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    let key = [exact.as_str(), range.as_str(), "default"]
        .into_iter()
        .find(|key| spec.responses.iter().any(|r| r.status.eq_ignore_ascii_case(key)))?;
    let candidates = || spec.responses.iter().filter(move |r| r.status.eq_ignore_ascii_case(key));
    candidates().find(|r| r.media_type == media).or_else(|| candidates().next())
}

/// The classes a request asks for by its mere shape: the operation's own, and those of the
/// sensitive parameters it sends. A caller who reached the upstream holds them all
/// ([`check_request`] refuses otherwise), so each is an access to that class.
pub fn asked_classes<'s>(spec: &'s OperationSensitivity, query: Option<&str>, headers: &HeaderMap) -> Vec<&'s str> {
    let parameters = spec.parameters.iter().filter(|p| sent(&p.name, &p.place, query, headers));
    let mut classes: Vec<&str> =
        spec.class.as_deref().into_iter().chain(parameters.map(|p| p.class.as_str())).collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

/// The classes whose data a successful answer of `status` carried to a caller who holds
/// them: `asked` (from [`asked_classes`]) and those its response filter names that the
/// caller holds. An error answer carries none: the audit trail counts data reached, not
/// attempts (a refusal is in the usage counts already).
pub fn reached_classes<'s>(
    spec: &'s OperationSensitivity,
    asked: &[&'s str],
    status: u16,
    content_type: Option<&str>,
    holds: impl Fn(&str) -> bool,
) -> Vec<&'s str> {
    if status >= 400 {
        return Vec::new();
    }
    let media = content_type.map(media_type).unwrap_or_default();
    let described = filter_for(spec, status, &media).map(|f| f.classes.as_slice()).unwrap_or_default();
    let mut classes: Vec<&str> =
        asked.iter().copied().chain(described.iter().map(String::as_str).filter(|c| holds(c))).collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

/// `Type/Sub; charset=…` → `type/sub`.
pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// `application/json` and every `+json` type.
pub fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}
