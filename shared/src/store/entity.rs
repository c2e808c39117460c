//! How entities are kept by any store: one JSON body per record, plus the few columns a store
//! must index (kind, id, parent) and the unique values it must enforce. Adapters store
//! [`Record`]s and never need to know the entity types, so SQLite, DynamoDB and memory all
//! enforce exactly the same uniqueness rules, defined once here.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::model::{
    AccessRequest, AdminToken, Api, ApiCard, App, Developer, Invitation, Key, Membership, Organisation, Plan, Product,
    Revision, Session, SignInLink, StaffSignIn, Subscription, Throttle,
};

/// The kinds of stored entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Api,
    Product,
    Plan,
    Developer,
    App,
    Subscription,
    Key,
    /// An API's catalog card ([`ApiCard`]), derived from the API on every write of it.
    ApiCard,
    SignInLink,
    Session,
    Throttle,
    /// A developer's request for a sensitivity class ([`AccessRequest`]).
    AccessRequest,
    /// An admin token of a named principal ([`AdminToken`]), unique by its hash.
    AdminToken,
    /// A usage alert rule ([`crate::alerts::AlertRule`]), listed under its owner.
    AlertRule,
    /// A rule's firing, stored under its de-duplication key ([`crate::alerts::AlertEvent`]).
    AlertEvent,
    /// One channel's delivery of an event: the delivery log ([`crate::alerts::AlertDelivery`]).
    AlertDelivery,
    /// A delivery still to make ([`crate::alerts::AlertOutbox`]).
    AlertOutbox,
    /// A staff sign-in in progress with the identity provider ([`StaffSignIn`]).
    StaffSignIn,
    /// A partner organisation that owns apps ([`Organisation`]).
    Organisation,
    /// A developer's membership of an organisation, listed under the developer.
    Membership,
    /// An invitation to an organisation, listed under it, by its token's hash.
    Invitation,
    /// One imported document of an API ([`Revision`]), listed under the API.
    Revision,
}

impl EntityKind {
    pub const ALL: [EntityKind; 22] = [
        EntityKind::Api,
        EntityKind::Product,
        EntityKind::Plan,
        EntityKind::Developer,
        EntityKind::App,
        EntityKind::Subscription,
        EntityKind::Key,
        EntityKind::ApiCard,
        EntityKind::SignInLink,
        EntityKind::Session,
        EntityKind::Throttle,
        EntityKind::AccessRequest,
        EntityKind::AdminToken,
        EntityKind::AlertRule,
        EntityKind::AlertEvent,
        EntityKind::AlertDelivery,
        EntityKind::AlertOutbox,
        EntityKind::StaffSignIn,
        EntityKind::Organisation,
        EntityKind::Membership,
        EntityKind::Invitation,
        EntityKind::Revision,
    ];

    /// Stable name, used as a column value and in change notifications.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntityKind::Api => "api",
            EntityKind::Product => "product",
            EntityKind::Plan => "plan",
            EntityKind::Developer => "developer",
            EntityKind::App => "app",
            EntityKind::Subscription => "subscription",
            EntityKind::Key => "key",
            EntityKind::ApiCard => "api_card",
            EntityKind::SignInLink => "sign_in_link",
            EntityKind::Session => "session",
            EntityKind::Throttle => "throttle",
            EntityKind::AccessRequest => "access_request",
            EntityKind::AdminToken => "admin_token",
            EntityKind::AlertRule => "alert_rule",
            EntityKind::AlertEvent => "alert_event",
            EntityKind::AlertDelivery => "alert_delivery",
            EntityKind::AlertOutbox => "alert_outbox",
            EntityKind::StaffSignIn => "staff_sign_in",
            EntityKind::Organisation => "organisation",
            EntityKind::Membership => "membership",
            EntityKind::Invitation => "invitation",
            EntityKind::Revision => "revision",
        }
    }

    /// Whether [`super::CatalogSnapshot`] reads this kind: the data plane's entities, not the
    /// control plane's own records (sessions, alert logs), which can be many and which a
    /// snapshot would only throw away.
    pub const fn in_snapshot(self) -> bool {
        matches!(
            self,
            EntityKind::Api
                | EntityKind::Product
                | EntityKind::Plan
                | EntityKind::Developer
                | EntityKind::App
                | EntityKind::Subscription
                | EntityKind::Key
                | EntityKind::AccessRequest
                | EntityKind::Organisation
        )
    }

    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A value that must be unique among records of one kind, with words for the conflict error.
///
/// Invariant: `what` never contains secret material (a key's unique value is its hash, and
/// `what` for it only says "key hash").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unique {
    pub value: String,
    pub what: String,
}

/// An entity as stores keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: EntityKind,
    pub id: String,
    /// The owning entity (app of a key, developer of an app, product of a plan), for listings.
    pub parent: Option<String>,
    pub uniques: Vec<Unique>,
    /// The entity serialised as JSON.
    pub body: String,
    /// When the record stops mattering (a session, a sign-in link): stores that can expire
    /// records (DynamoDB's TTL) delete it some time after. Readers still check the time
    /// themselves, since deletion is late. Set on writes only; `None` when read back.
    pub expires_at: Option<crate::time::UnixMillis>,
}

impl Record {
    pub fn of<E: Entity>(entity: &E) -> Result<Record, StoreError> {
        let body = serde_json::to_string(entity)
            .map_err(|e| StoreError::Unavailable(format!("cannot serialise {}: {e}", E::KIND.as_str())))?;
        Ok(Record {
            kind: E::KIND,
            id: entity.id().to_owned(),
            parent: entity.parent_id().map(str::to_owned),
            uniques: entity.uniques(),
            body,
            expires_at: entity.expires_at(),
        })
    }

    /// Reads the entity back. A body that does not parse is a corrupt store, not bad input.
    pub fn decode<E: Entity>(&self) -> Result<E, StoreError> {
        serde_json::from_str(&self.body)
            .map_err(|e| StoreError::Unavailable(format!("corrupt {} record {}: {e}", self.kind.as_str(), self.id)))
    }
}

/// A stored entity type: its kind, id, owner and unique values.
pub trait Entity: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const KIND: EntityKind;
    fn id(&self) -> &str;
    fn parent_id(&self) -> Option<&str> {
        None
    }
    fn uniques(&self) -> Vec<Unique> {
        Vec::new()
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        None
    }
}

/// The unique value of a developer email: compared lower-cased, so `A@x.io` and `a@x.io` clash.
pub fn email_unique(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

/// The unique value of an admin token's hash, to find the token a bearer presents.
pub fn admin_token_unique(hex: &str) -> String {
    format!("hash:{hex}")
}

/// The unique value of a key hash, to find a key by hash.
pub fn key_hash_unique(hex: &str) -> String {
    format!("hash:{hex}")
}

/// An API claims its base path on each of its hosts (`*` when it answers on every host), so
/// two APIs can never both own `/pets` on the same host, even with different host sets.
/// Versions picked by header share a base path: each claims it with its label instead, and the
/// default version also claims the header's absence, so one request always finds one version.
fn route_uniques(api: &Api) -> Vec<Unique> {
    let by_header = api.versioning.as_ref().and_then(|v| v.header().map(|(name, default)| (v, name, default)));
    let claims = |host: &str| {
        let route = format!("route:{}@{host}", api.base_path);
        let Some((v, header, default)) = by_header else {
            let what = format!("an API already serves base path {} on host {host}", api.base_path);
            return vec![Unique { value: route, what }];
        };
        let mut claims = vec![Unique {
            value: format!("{route}#{header}={}", v.label),
            what: format!("version {} is already served at base path {} on host {host}", v.label, api.base_path),
        }];
        if default {
            claims.push(Unique {
                value: format!("{route}#{header}"),
                what: format!("another version is already the default at base path {} on host {host}", api.base_path),
            });
        }
        claims
    };
    if api.hosts.is_empty() {
        return claims("*");
    }
    let mut hosts: Vec<String> = api.hosts.iter().map(|h| h.to_lowercase()).collect();
    hosts.sort();
    hosts.dedup();
    hosts.iter().flat_map(|h| claims(h)).collect()
}

impl Entity for Api {
    const KIND: EntityKind = EntityKind::Api;
    fn id(&self) -> &str {
        &self.id
    }
    fn uniques(&self) -> Vec<Unique> {
        route_uniques(self)
    }
}

impl Entity for Revision {
    const KIND: EntityKind = EntityKind::Revision;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.api_id)
    }
}

impl Entity for Product {
    const KIND: EntityKind = EntityKind::Product;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for Plan {
    const KIND: EntityKind = EntityKind::Plan;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.product_id)
    }
}

impl Entity for Developer {
    const KIND: EntityKind = EntityKind::Developer;
    fn id(&self) -> &str {
        &self.id
    }
    fn uniques(&self) -> Vec<Unique> {
        vec![Unique { value: email_unique(&self.email), what: "a developer with this email already exists".into() }]
    }
}

impl Entity for App {
    const KIND: EntityKind = EntityKind::App;
    fn id(&self) -> &str {
        &self.id
    }
    /// An organisation's app is listed under the organisation, a personal one under its
    /// developer: closing an account reaches the person's apps only.
    fn parent_id(&self) -> Option<&str> {
        Some(self.organisation_id.as_deref().unwrap_or(&self.developer_id))
    }
}

impl Entity for Organisation {
    const KIND: EntityKind = EntityKind::Organisation;
    fn id(&self) -> &str {
        &self.id
    }
    fn uniques(&self) -> Vec<Unique> {
        let value = format!("name:{}", self.name.trim().to_lowercase());
        vec![Unique { value, what: "an organisation with this name already exists".into() }]
    }
}

impl Entity for Membership {
    const KIND: EntityKind = EntityKind::Membership;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.developer_id)
    }
}

impl Entity for Invitation {
    const KIND: EntityKind = EntityKind::Invitation;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.organisation_id)
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        Some(self.expires_at)
    }
}

impl Entity for Subscription {
    const KIND: EntityKind = EntityKind::Subscription;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.app_id)
    }
}

impl Entity for Key {
    const KIND: EntityKind = EntityKind::Key;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.app_id)
    }
    fn uniques(&self) -> Vec<Unique> {
        vec![Unique { value: key_hash_unique(self.hash.as_hex()), what: "key hash".into() }]
    }
}

impl Entity for ApiCard {
    const KIND: EntityKind = EntityKind::ApiCard;
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entity for SignInLink {
    const KIND: EntityKind = EntityKind::SignInLink;
    fn id(&self) -> &str {
        &self.id
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        Some(self.expires_at)
    }
}

impl Entity for StaffSignIn {
    const KIND: EntityKind = EntityKind::StaffSignIn;
    fn id(&self) -> &str {
        &self.id
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        Some(self.expires_at)
    }
}

impl Entity for Session {
    const KIND: EntityKind = EntityKind::Session;
    fn id(&self) -> &str {
        &self.id
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        Some(self.expires_at)
    }
}

impl Entity for Throttle {
    const KIND: EntityKind = EntityKind::Throttle;
    fn id(&self) -> &str {
        &self.id
    }
    fn expires_at(&self) -> Option<crate::time::UnixMillis> {
        Some(self.expires_at)
    }
}

impl Entity for AccessRequest {
    const KIND: EntityKind = EntityKind::AccessRequest;
    fn id(&self) -> &str {
        &self.id
    }
    fn parent_id(&self) -> Option<&str> {
        Some(&self.app_id)
    }
}

impl Entity for AdminToken {
    const KIND: EntityKind = EntityKind::AdminToken;
    fn id(&self) -> &str {
        &self.id
    }
    fn uniques(&self) -> Vec<Unique> {
        vec![Unique { value: admin_token_unique(&self.hash), what: "admin token hash".into() }]
    }
}
