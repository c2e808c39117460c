use serde::{Deserialize, Serialize};

use crate::keys::KeyHash;
use crate::limits::LimitPolicy;
use crate::time::UnixMillis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    /// Temporarily off; can be enabled again.
    Disabled,
    /// Past `expires_at`. Stored once noticed; verification also checks the time itself.
    Expired,
    /// Permanently off.
    Revoked,
}

/// An API key as the control plane stores it. The secret itself is never stored: only its
/// SHA-256 hash, plus the prefix and last four characters so people can tell keys apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub hash: KeyHash,
    /// `<prefix>_<env>_`, e.g. `gh_live_`.
    pub display_prefix: String,
    pub last4: String,
    pub status: KeyStatus,
    #[serde(with = "crate::time::serde_rfc3339")]
    pub created_at: UnixMillis,
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    pub expires_at: Option<UnixMillis>,
    /// Set on the old key when it is rotated: it keeps working until then.
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    pub grace_until: Option<UnixMillis>,
    /// The key that replaced this one in a rotation.
    #[serde(default)]
    pub replaced_by: Option<String>,
    #[serde(default, with = "crate::time::serde_rfc3339_opt")]
    pub last_used_at: Option<UnixMillis>,
    /// Limits on this key alone, on top of the app's plan limits.
    #[serde(default)]
    pub limits: Vec<LimitPolicy>,
    /// Set when this record is not an API key but an OAuth client registered on the app: its
    /// `hash` is [`crate::jwt::client_hash`] of these, and the gateway finds it from a verified
    /// JWT's issuer and client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client: Option<OAuthClient>,
    /// Set when this record is a client certificate subject registered on the app (mTLS): its
    /// `hash` is [`crate::pipeline::client_certificate::certificate_hash`] of the subject. At
    /// most one of `oauth_client` and `client_certificate` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<ClientCertificate>,
}

/// An identity provider's client, registered on an app so its access tokens call as the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct OAuthClient {
    /// The token issuer (`iss`), exactly as tokens carry it.
    pub issuer: String,
    /// The client id (`client_id`, `azp` or the API's configured claim); `*` stands for every
    /// client of the issuer that has no registration of its own.
    pub client_id: String,
}

/// A client certificate's subject, registered on an app so that calls over a mutual-TLS
/// connection with a certificate of that subject call as the app. The subject is trusted
/// because the listener verified the certificate against its client CA (natively) or
/// Cloudflare did against the zone's mTLS CA (at the edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ClientCertificate {
    /// The subject's distinguished name in RFC 4514 form, most specific part first, as
    /// `openssl x509 -noout -subject -nameopt RFC2253` prints it: `CN=billing,O=Acme Corp`.
    pub subject: String,
}
