//! The "Sensitive data" section of an API's page: what its document marks with
//! `x-gatehouse-sensitivity`, in words a developer (programmer or not) can act on.

use gatehouse_core::model::Api;
use gatehouse_core::openapi::sensitivity_report;
use gatehouse_core::sensitivity::Mask;

/// One annotated field, as the page lists it.
pub(crate) struct SensitiveLine {
    /// `property email`, `query parameter ssn`, `operation getSalary`, `schema Email`.
    pub what: String,
    pub class: String,
    /// What a caller without the class gets.
    pub without: &'static str,
    /// Where it is in the OpenAPI document (RFC 6901).
    pub pointer: String,
}

/// Every annotation of the API's document, in document order.
pub(crate) fn lines(api: &Api) -> Vec<SensitiveLine> {
    sensitivity_report(&api.openapi)
        .fields
        .into_iter()
        .map(|field| SensitiveLine {
            without: match (field.kind.as_str(), field.mask) {
                ("operation", _) => "the call is refused",
                ("parameter", _) => "a call that sends it is refused",
                (_, Mask::Remove) => "left out",
                (_, Mask::Redact) => "shown as null",
                (_, Mask::Last4) => "only its last 4 characters",
            },
            what: format!("{} {}", field.kind, field.name),
            class: field.class,
            pointer: field.pointer,
        })
        .collect()
}
