//! What responses show of stored records. A key is shown without its hash: only the prefix
//! and last four characters, so a listing can never help anyone reconstruct or match it.

use gatehouse_core::keys::{check_key, KeyCheck};
use gatehouse_core::limits::LimitPolicy;
use gatehouse_core::model::{
    AccessRequest, AccessState, ClientCertificate, Key, KeyStatus, OAuthClient, Subscription, SubscriptionStatus,
};
use gatehouse_core::time::UnixMillis;
use serde::{Deserialize, Serialize};

/// A key as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyView {
    pub id: String,
    pub app_id: String,
    pub name: String,
    /// `gh_live_`: which product and environment the key belongs to.
    pub prefix: String,
    pub last4: String,
    /// As stored (`active`, `disabled`, `revoked`, …).
    pub status: KeyStatus,
    /// Whether the key works right now, including expiry and rotation grace.
    pub usable: bool,
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixMillis,
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<UnixMillis>,
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub grace_until: Option<UnixMillis>,
    pub replaced_by: Option<String>,
    /// When the key was last used: the later of the last admitted call the gateway recorded
    /// on the key (natively) and the start of the latest stored usage minute with traffic for
    /// it (every runtime, the edge included); `null` if never. After a rotation, this is how
    /// to tell when the old key stopped being used.
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<UnixMillis>,
    pub limits: Vec<LimitPolicy>,
    /// Set when the record is an OAuth client registered on the app rather than an API key:
    /// the JWTs it stands for carry this issuer and client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client: Option<OAuthClient>,
    /// Set when the record is a client certificate subject registered on the app (mTLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
}

impl KeyView {
    pub fn new(key: &Key, now: UnixMillis) -> KeyView {
        KeyView {
            id: key.id.clone(),
            app_id: key.app_id.clone(),
            name: key.name.clone(),
            prefix: key.display_prefix.clone(),
            last4: key.last4.clone(),
            status: key.status,
            usable: check_key(key, now) == KeyCheck::Active,
            created_at: key.created_at,
            expires_at: key.expires_at,
            grace_until: key.grace_until,
            replaced_by: key.replaced_by.clone(),
            last_used_at: key.last_used_at,
            limits: key.limits.clone(),
            oauth_client: key.oauth_client.clone(),
            client_certificate: key.client_certificate.clone(),
        }
    }

    /// Takes in the start of the key's latest usage minute (`Repo::keys_last_seen`).
    pub fn seen_at(mut self, minute: Option<UnixMillis>) -> KeyView {
        self.last_used_at = self.last_used_at.max(minute);
        self
    }
}

/// A subscription as the admin API (and the portal) shows it: the stored record, plus why it
/// is in its status, in words a developer reads. A pending subscription must say why it is
/// pending, never look like "not subscribed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    #[serde(flatten)]
    pub subscription: Subscription,
    /// `null` when active; otherwise why the subscription grants nothing (for `rejected`, the
    /// owner's reason as written).
    pub status_reason: Option<String>,
}

impl SubscriptionView {
    pub fn new(subscription: Subscription) -> SubscriptionView {
        let status_reason = match subscription.status {
            SubscriptionStatus::Active => None,
            SubscriptionStatus::Pending => {
                Some("Waiting for approval: this plan needs an owner's approval before the app can call it.".into())
            }
            SubscriptionStatus::Suspended => Some("Suspended by an owner: the app cannot call this product.".into()),
            SubscriptionStatus::Rejected => Some(match &subscription.rejection {
                Some(r) => r.reason.clone(),
                None => "Rejected by an owner.".into(),
            }),
        };
        SubscriptionView { subscription, status_reason }
    }
}

/// `{ "items": [...] }`: lists are wrapped so fields (paging, totals) can be added later
/// without breaking clients.
#[derive(Debug, Serialize)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// `Items<T>` is named `<T>List` in the document (e.g. `ApiList`), one schema per item type.
impl<T: utoipa::ToSchema> utoipa::PartialSchema for Items<T> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let items =
            utoipa::openapi::schema::ArrayBuilder::new().items(utoipa::openapi::Ref::from_schema_name(T::name()));
        utoipa::openapi::ObjectBuilder::new().property("items", items).required("items").into()
    }
}

impl<T: utoipa::ToSchema> utoipa::ToSchema for Items<T> {
    fn name() -> std::borrow::Cow<'static, str> {
        format!("{}List", T::name()).into()
    }

    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

/// An access request as the admin API and the portal show it: flat, with the status as of
/// now (`expired` for an approval past its expiry) and the decision's who, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessRequestView {
    pub id: String,
    pub app_id: String,
    pub developer_id: String,
    pub api_id: String,
    pub class: String,
    pub reason: String,
    pub wanted_days: u32,
    /// `pending`, `approved`, `expired`, `denied` or `revoked`.
    pub status: String,
    #[serde(with = "gatehouse_core::time::serde_rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixMillis,
    /// Who approved, denied or revoked it.
    pub decided_by: Option<String>,
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<UnixMillis>,
    /// When an approval ends (or ended).
    #[serde(default, with = "gatehouse_core::time::serde_rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<UnixMillis>,
    /// A denial's or revocation's reason.
    pub decision_reason: Option<String>,
}

impl AccessRequestView {
    pub fn new(request: AccessRequest, now: UnixMillis) -> AccessRequestView {
        let status = request.status_name(now).to_owned();
        let (decided_by, decided_at, expires_at, decision_reason) = match request.state {
            AccessState::Pending => (None, None, None, None),
            AccessState::Approved { by, at, expires_at } => (Some(by), Some(at), Some(expires_at), None),
            AccessState::Denied { by, at, reason } => (Some(by), Some(at), None, Some(reason)),
            AccessState::Revoked { by, at, reason } => {
                (Some(by), Some(at), None, (!reason.is_empty()).then_some(reason))
            }
        };
        AccessRequestView {
            id: request.id,
            app_id: request.app_id,
            developer_id: request.developer_id,
            api_id: request.api_id,
            class: request.class,
            reason: request.reason,
            wanted_days: request.wanted_days,
            status,
            created_at: request.created_at,
            decided_by,
            decided_at,
            expires_at,
            decision_reason,
        }
    }
}
