//! OAuth clients registered on apps: an identity provider's client id, so that the access
//! tokens it obtains call an API as the app, under the app's plans, limits and usage (see
//! [`super::registrations`] for how the registration is kept).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use gatehouse_core::jwt::{client_hash, ANY_CLIENT};
use gatehouse_core::model::Access;
use gatehouse_core::model::{App, Key, OAuthClient};
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

pub(crate) fn routes<R: Repo, P: Publisher>() -> Vec<Route<R, P>> {
    vec![route(Method::POST, "/v1/apps/{id}/oauth-clients", Access::Owner, register::<R, P>)]
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"issuer": "https://example.eu.auth0.com/", "client_id": "Q7pT0x9Kq2", "name": "billing service"}))]
pub(crate) struct NewOAuthClient {
    /// The `iss` of the tokens, exactly as they carry it.
    #[schema(pattern = r"\S", max_length = 200)]
    issuer: String,
    /// The client id the tokens name; `*` for every client of the issuer without a
    /// registration of its own (the API's anonymous plan).
    #[schema(pattern = r"\S", max_length = 200)]
    client_id: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    name: Option<String>,
}

/// Registers a client on an app. A client id is registered once per issuer across all apps.
async fn register<R: Repo, P: Publisher>(
    State(s): State<AdminState<R, P>>,
    actor: Actor,
    Id(app_id): Id,
    JsonBody(body): JsonBody<NewOAuthClient>,
) -> Result<(StatusCode, Tagged<Json<KeyView>>), AdminError> {
    let name = body.name.as_deref();
    let key = register_client(&s, &actor, &app_id, &body.issuer, &body.client_id, name).await?;
    let etag = etag_of(&key)?;
    Ok((StatusCode::CREATED, Tagged(etag, Json(KeyView::new(&key, s.now())))))
}

/// Registers `client_id` of `issuer` on an app: the one way in, for the admin API and the
/// portal's admin area. Refused (409) when the client is registered already, and for a
/// closed developer's app.
pub(crate) async fn register_client<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    app_id: &str,
    issuer: &str,
    client_id: &str,
    name: Option<&str>,
) -> Result<Key, AdminError> {
    let app = s.load::<App>("app", app_id).await?;
    let mut errors = Vec::new();
    validate::non_empty(issuer, "/issuer", &mut errors);
    validate::non_empty(client_id, "/client_id", &mut errors);
    for (pointer, value) in [("/issuer", issuer), ("/client_id", client_id)] {
        if value.chars().any(char::is_control) {
            errors.push(FieldError::new(pointer, "must not contain control characters"));
        }
    }
    AdminError::check(errors)?;
    let name = name.map_or_else(
        || match client_id {
            ANY_CLIENT => format!("any client of {issuer}"),
            id => format!("OAuth client {id}"),
        },
        str::to_owned,
    );
    let client = OAuthClient { issuer: issuer.to_owned(), client_id: client_id.to_owned() };
    let record = (client_hash(issuer, client_id), name);
    let taken = "this issuer's client id is registered already, on this app or another";
    registrations::register(s, actor, "oauth_client.register", &app, record, Registered::OAuthClient(client), taken)
        .await
}
