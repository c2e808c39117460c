//! Client certificates registered on apps (mutual TLS): a certificate subject, so that calls
//! over a connection whose verified client certificate carries it call as the app, under the
//! app's plans, limits and usage — a partner's identity without a secret to hand over. Kept
//! as a credential record like an OAuth client (see [`super::registrations`]).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::model::Access;
use gatehouse_core::model::{App, ClientCertificate, Key};
use gatehouse_core::pipeline::client_certificate::certificate_hash;
use gatehouse_core::store::Repo;
use serde::Deserialize;

use super::registrations::{self, Registered};
use super::{route, validate, Route};
use crate::auth::Actor;
use crate::error::{AdminError, FieldError};
use crate::extract::{Id, JsonBody};
use crate::preconditions::Tagged;
use crate::publisher::Publisher;
use crate::state::{etag_of, AdminState};
use crate::views::KeyView;

/// Longest subject accepted: real subjects are a few hundred bytes at most.
const MAX_SUBJECT_CHARS: usize = 1_000;

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::POST, "/v1/apps/{id}/client-certificates", Access::Owner, register::<R, P>)]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "CN=billing,O=Partner A,C=DE", "name": "Partner A billing"}))]
pub(crate) struct NewClientCertificate {
    /// The certificate's subject in RFC 4514 form, most specific part first, as
    /// `openssl x509 -noout -subject -nameopt RFC2253` prints it (also named in the 403 that a
    /// call with an unregistered certificate gets).
    #[schema(pattern = r"=", max_length = 1000)]
    subject: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    name: Option<String>,
}

/// Registers a certificate subject on an app. A subject is registered once across all apps.
async fn register<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(app_id): Id,
    JsonBody(body): JsonBody<NewClientCertificate>,
) -> Result<(StatusCode, Tagged<Json<KeyView>>), AdminError> {
    let key = register_certificate(&s, &actor, &app_id, &body.subject, body.name.as_deref()).await?;
    let etag = etag_of(&key)?;
    Ok((StatusCode::CREATED, Tagged(etag, Json(KeyView::new(&key, s.now())))))
}

/// Registers `subject` on an app: the one way in, for the admin API and the portal's admin
/// area. The subject must look like a distinguished name (`type=value`, no control
/// characters): a typo here would otherwise be a registration no certificate ever matches.
pub(crate) async fn register_certificate<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    app_id: &str,
    subject: &str,
    name: Option<&str>,
) -> Result<Key, AdminError> {
    let app = s.load::<App>("app", app_id).await?;
    let mut errors = Vec::new();
    validate::non_empty(subject, "/subject", &mut errors);
    if let Some(problem) = subject_problem(subject) {
        errors.push(FieldError::new("/subject", problem));
    }
    AdminError::check(errors)?;
    let name = name.map_or_else(|| format!("client certificate {subject}"), str::to_owned);
    let certificate = ClientCertificate { subject: subject.to_owned() };
    let record = (certificate_hash(subject), name);
    let taken = "this certificate subject is registered already, on this app or another";
    let registered = Registered::ClientCertificate(certificate);
    registrations::register(s, actor, "client_certificate.register", &app, record, registered, taken).await
}

/// Why `subject` cannot be a certificate's RFC 4514 subject, if it cannot.
fn subject_problem(subject: &str) -> Option<String> {
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Some(format!("must be at most {MAX_SUBJECT_CHARS} characters"));
    }
    if subject.chars().any(char::is_control) {
        return Some("must not contain control characters".to_owned());
    }
    let first = subject.split(',').next().unwrap_or_default();
    match first.split_once('=') {
        Some((kind, value)) if !kind.trim().is_empty() && !value.is_empty() && kind.trim() == kind => None,
        _ => Some("must be a distinguished name in RFC 4514 form, such as CN=billing,O=Partner A".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::subject_problem;

    #[test]
    fn a_subject_must_look_like_a_distinguished_name() {
        assert_eq!(subject_problem("CN=billing,O=Partner A,C=DE"), None);
        assert_eq!(subject_problem("CN=Zoë"), None);
        for bad in ["billing", "=x", "CN=", " CN=x", "CN=a\nO=b"] {
            assert!(subject_problem(bad).is_some(), "{bad:?}");
        }
    }
}
