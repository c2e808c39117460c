//! Running an operation's validators over one request (or response).

use http::header::CONTENT_TYPE;
use http::HeaderMap;
use jsonschema::Validator;
use serde_json::Value;

use super::params::{candidates, raw_values};
use super::spec::is_json;
use super::{OperationValidator, Violation, MAX_ERRORS};
use crate::openapi::pointer::child;

/// The request body as far as the runtime read it.
#[derive(Debug, Clone, Copy)]
pub enum SentBody<'b> {
    /// No body (no content, or none announced).
    None,
    /// A body the check does not need to read (not a described JSON type): only its
    /// presence and media type are checked.
    Unread,
    Bytes(&'b [u8]),
}

/// The most response mismatches one log line names.
const MAX_LOGGED: usize = 20;

impl OperationValidator {
    /// Whether the body must be read whole for the check: a JSON media type that the
    /// operation describes with a schema.
    pub fn reads_body(&self, headers: &HeaderMap) -> bool {
        if self.spec.body.is_none() {
            return false;
        }
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        content_type.is_some_and(|t| is_json(t) && body_schema(self, t).is_some())
    }

    /// Every way the request differs from its description (at most [`MAX_ERRORS`]): `path` is
    /// the request path below the API's base path, `template` the operation's.
    pub fn check_request(
        &self,
        template: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: SentBody<'_>,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        let compiled = self.compiled();
        for (i, param) in self.spec.params.iter().enumerate() {
            // Built only for a violation: a valid request allocates no pointers.
            let at = || child(&format!("/{}", param.place.token()), &param.name);
            let values = raw_values(param, template, path, query, headers);
            if values.is_empty() {
                if param.required {
                    out.push(Violation {
                        detail: format!("The {} parameter is required.", param.place.token()),
                        pointer: at(),
                    });
                }
                continue;
            }
            let Some(Some(validator)) = compiled.params.get(i) else { continue };
            let Some(candidates) = candidates(param.shape, &values) else { continue };
            if candidates.iter().any(|value| validator.is_valid(value)) {
                continue;
            }
            // Reported as the first reading (the kind the schema names, else the text).
            if let Some(first) = candidates.first() {
                errors(validator, first, &at(), &mut out);
            }
        }
        self.check_body(headers, body, &mut out);
        out.truncate(MAX_ERRORS);
        out
    }

    fn check_body(&self, headers: &HeaderMap, body: SentBody<'_>, out: &mut Vec<Violation>) {
        let Some(spec) = &self.spec.body else { return };
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if matches!(body, SentBody::None) {
            if spec.required {
                out.push(Violation { pointer: "/body".into(), detail: "A request body is required.".into() });
            }
            return;
        }
        if !spec.media_types.is_empty() && content_type.is_none_or(|t| described_index(t, &spec.media_types).is_none())
        {
            let detail = format!("The body's media type must be one of: {}.", spec.media_types.join(", "));
            out.push(Violation { pointer: "/header/Content-Type".into(), detail });
            return;
        }
        let (SentBody::Bytes(bytes), Some(media)) = (body, content_type) else { return };
        let Some(validator) = body_schema(self, media) else { return };
        match serde_json::from_slice::<Value>(bytes) {
            Ok(value) => errors(validator, &value, "/body", out),
            Err(e) => {
                out.push(Violation { pointer: "/body".into(), detail: format!("The body is not valid JSON: {e}.") })
            }
        }
    }

    /// The JSON Pointers (into the body, `/body/...`) where a response does not match the
    /// schema described for its status and media type; empty when it matches or none is
    /// described. Only pointers: a log line must never carry a value.
    pub fn check_response(&self, status: u16, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
        let Some(media) = content_type.filter(|t| is_json(t)) else { return Vec::new() };
        let compiled = self.compiled();
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let responses = &self.spec.responses;
        let pick = |key: &str| {
            responses.iter().enumerate().find(|(_, (s, m, _))| s.eq_ignore_ascii_case(key) && same_media(m, media))
        };
        let Some((i, _)) = pick(&code).or_else(|| pick(&range)).or_else(|| pick("default")) else { return Vec::new() };
        let Some(Some(validator)) = compiled.responses.get(i) else { return Vec::new() };
        let Ok(value) = serde_json::from_slice::<Value>(body) else { return vec!["/body".to_owned()] };
        let pointers = validator.iter_errors(&value).take(MAX_LOGGED);
        pointers.map(|e| format!("/body{}", e.instance_path().as_str())).collect()
    }
}

/// The validator for the described JSON media type `content_type` matches.
fn body_schema<'v>(validator: &'v OperationValidator, content_type: &str) -> Option<&'v Validator> {
    let spec = validator.spec.body.as_ref()?;
    let i = spec.json.iter().position(|(media, _)| same_media(media, content_type))?;
    validator.compiled().body.get(i)?.as_ref()
}

/// The first described media type that `content_type` is (exactly, or through a described
/// wildcard such as `application/*` or `*/*`), parameters ignored.
fn described_index(content_type: &str, media_types: &[String]) -> Option<usize> {
    media_types.iter().position(|m| same_media(m, content_type))
}

fn same_media(described: &str, sent: &str) -> bool {
    let essence = |t: &str| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (described, sent) = (essence(described), essence(sent));
    if described == sent || described == "*/*" {
        return true;
    }
    described.strip_suffix("/*").is_some_and(|kind| sent.split('/').next() == Some(kind))
}

/// The schema's errors for `value`, each at `base` + its place in the value, in the crate's
/// words with the value masked.
fn errors(validator: &Validator, value: &Value, base: &str, out: &mut Vec<Violation>) {
    // The common case first: `is_valid` stops at the first failure and collects nothing.
    if validator.is_valid(value) {
        return;
    }
    for error in validator.iter_errors(value).take(MAX_ERRORS.saturating_sub(out.len())) {
        let pointer = format!("{base}{}", error.instance_path().as_str());
        out.push(Violation { pointer, detail: error.masked().to_string() });
    }
}
