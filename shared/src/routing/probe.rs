//! A request for each operation's own path: what a test, the corpus check and `gatehouse`
//! users can send to prove that every imported operation is reachable.

use http::{HeaderMap, HeaderName, HeaderValue};

use super::template::{split_key, Template};
use crate::model::{DiscriminatorPlace, Operation};

/// The value put in every path variable: letters and a digit that no real template's literal
/// text is likely to spell out.
pub const SAMPLE_VALUE: &str = "zq7";

/// One request, relative to the API's base path.
#[derive(Debug, Clone)]
pub struct Probe {
    pub method: String,
    /// Starts with `/`.
    pub path: String,
    /// Without the `?`; form-encoded.
    pub query: Option<String>,
    pub headers: HeaderMap,
}

impl Probe {
    /// The request for `operation`; `None` when its path does not parse (the importer refuses
    /// such documents).
    pub fn of(operation: &Operation) -> Option<Probe> {
        let template = Template::parse(split_key(&operation.path).0).ok()?;
        let mut query: Vec<String> = Vec::new();
        let mut headers = HeaderMap::new();
        for d in &operation.discriminators {
            let value = d.value.as_deref().unwrap_or(SAMPLE_VALUE);
            match d.place {
                DiscriminatorPlace::Query => {
                    query.push(form_urlencoded::Serializer::new(String::new()).append_pair(&d.name, value).finish())
                }
                DiscriminatorPlace::Header => {
                    let name = HeaderName::from_bytes(d.name.as_bytes()).ok()?;
                    headers.insert(name, HeaderValue::from_str(value).ok()?);
                }
            }
        }
        Some(Probe {
            method: operation.method.clone(),
            path: template.example(SAMPLE_VALUE),
            query: (!query.is_empty()).then(|| query.join("&")),
            headers,
        })
    }
}
