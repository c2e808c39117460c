use serde::{Deserialize, Serialize};

use super::FieldName;
use crate::jwt::JwtSettings;
use crate::lifecycle::Lifecycle;
use crate::time::UnixMillis;

/// A published (or draft) API: where it lives at the edge, where it forwards to, and which
/// operations its OpenAPI document declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Api {
    pub id: String,
    pub name: String,
    /// The API's own version label (from `info.version`), e.g. `1.2.0`.
    pub version: String,
    /// Path prefix at the gateway, always starting with `/` and without a trailing `/`
    /// (except the root `/`). Unique together with `hosts`.
    pub base_path: String,
    /// Hosts this API answers on; empty means every host.
    #[serde(default)]
    pub hosts: Vec<String>,
    pub upstream: UpstreamSettings,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub cache: CacheSettings,
    pub lifecycle: Lifecycle,
    /// Operations taken from the OpenAPI document, in document order.
    pub operations: Vec<Operation>,
    /// The OpenAPI document as imported, kept for docs, export and mocking.
    pub openapi: serde_json::Value,
    /// What the last import of the document ignored and why (e.g. a security scheme the
    /// gateway cannot check), so the owner sees it wherever the API is read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_report: Vec<ImportNote>,
    /// When not empty, only clients in these networks (CIDR ranges, the client address as
    /// read through the trusted proxies) reach the API; to anyone else it does not exist: the
    /// gateway answers as for a path no API serves. Kept apart from `auth`, which a new
    /// document replaces, so re-importing never opens an internal API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schema(value_type = Vec<String>, example = json!(["10.0.0.0/8", "fd00::/8"])))]
    pub client_networks: Vec<ipnet::IpNet>,
    /// This API as one version of a family served side by side (by path or by header);
    /// `None` for an API with a single version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<super::Versioning>,
    /// Requests checked against the document before the upstream sees them, and responses
    /// checked and logged; off unless turned on (docs/validation.md).
    #[serde(default, skip_serializing_if = "crate::validation::ValidationSettings::is_off")]
    pub validation: crate::validation::ValidationSettings,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub created_at: UnixMillis,
    #[serde(with = "crate::time::serde_rfc3339")]
    #[cfg_attr(feature = "schema", schema(value_type = String, format = DateTime))]
    pub updated_at: UnixMillis,
}

/// Where and how the gateway forwards calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct UpstreamSettings {
    /// Absolute `http`/`https` URL; the request path below `base_path` is appended. Or
    /// [`UpstreamSettings::MOCK`] (`mock:`): the gateway answers from the OpenAPI document's
    /// examples and schemas itself (docs/mock.md).
    #[cfg_attr(feature = "schema", schema(pattern = r"^(https?://[^/]|mock:$)"))]
    pub url: String,
    #[serde(default = "UpstreamSettings::default_timeout_ms")]
    #[cfg_attr(feature = "schema", schema(minimum = 1, maximum = 300_000))]
    pub timeout_ms: u64,
    /// Forward the caller's API key to the upstream. Off by default: the upstream gets the
    /// signed identity headers instead.
    #[serde(default)]
    pub forward_credential: bool,
    /// Which forwarding fields the upstream gets (`x_forwarded`, `forwarded`, `both`,
    /// `none`); client-sent copies are always removed (see `pipeline::forwarded`).
    #[serde(default)]
    pub forwarded: crate::pipeline::forwarded::ForwardedHeaders,
    /// Keep request header names that contain `_`. Off by default, as in nginx: an upstream
    /// that reads `_` as `-` would otherwise see a second `Content-Length` or `Host` the
    /// gateway never checked.
    #[serde(default)]
    pub keep_underscore_headers: bool,
    /// Largest request body accepted (413 past it); `None` takes the gateway's default
    /// (`GATEHOUSE_MAX_BODY_BYTES`, 1 MiB). Bodies stream to the upstream either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(minimum = 0))]
    pub max_body_bytes: Option<u64>,
    /// Longest silence between two reads of a streamed body (either way) or WebSocket
    /// messages before the call is ended; `timeout_ms` bounds only the wait for the response
    /// head. Default [`UpstreamSettings::DEFAULT_IDLE_TIMEOUT_MS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(minimum = 1))]
    pub idle_timeout_ms: Option<u64>,
    /// Longest a call may last, streamed body or WebSocket included; `None` (the default)
    /// lets a healthy stream run as long as it keeps moving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(minimum = 1))]
    pub max_duration_ms: Option<u64>,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            url: String::new(),
            timeout_ms: Self::default_timeout_ms(),
            forward_credential: false,
            forwarded: Default::default(),
            keep_underscore_headers: false,
            max_body_bytes: None,
            idle_timeout_ms: None,
            max_duration_ms: None,
        }
    }
}

impl UpstreamSettings {
    /// The upstream URL of an API the gateway mocks from its document (`crate::mock`).
    pub const MOCK: &'static str = "mock:";

    /// Whether calls are answered by the mock rather than forwarded.
    pub fn is_mock(&self) -> bool {
        self.url == Self::MOCK
    }

    pub const fn default_timeout_ms() -> u64 {
        10_000
    }

    /// nginx's `proxy_read_timeout`: long enough for a token stream's pauses, short enough
    /// that a dead upstream does not hold a connection for long.
    pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;

    /// The call's time and size bounds, with `default_max_body` (the gateway's) where the API
    /// sets none.
    pub fn call(&self, default_max_body: u64, upgrade: bool) -> crate::ports::UpstreamCall {
        crate::ports::UpstreamCall {
            first_byte_ms: self.timeout_ms,
            idle_ms: self.idle_timeout_ms.unwrap_or(Self::DEFAULT_IDLE_TIMEOUT_MS),
            max_duration_ms: self.max_duration_ms,
            max_request_bytes: self.max_body_bytes.unwrap_or(default_max_body),
            upgrade,
        }
    }
}

/// How callers present their credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct AuthSettings {
    /// Where to look for an API key, in order. Empty means the API is public.
    pub key_locations: Vec<KeyLocation>,
    /// How `Authorization: Bearer` JWTs are checked, for operations that accept them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtSettings>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        let x_api_key = FieldName::parse("x-api-key").unwrap_or_else(|_| unreachable!("a valid field name"));
        AuthSettings { key_locations: vec![KeyLocation::Header { name: x_api_key }, KeyLocation::Bearer], jwt: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum KeyLocation {
    /// A request header, e.g. `X-API-Key` (matched case-insensitively).
    Header {
        #[cfg_attr(feature = "schema", schema(value_type = String, pattern = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"))]
        name: FieldName,
    },
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// A query parameter, e.g. `?api_key=`; removed before forwarding.
    Query { name: String },
}

/// Edge caching for an API. Off unless enabled: a gateway must not surprise an API owner by
/// caching what the upstream did not ask to be cached.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct CacheSettings {
    pub enabled: bool,
    /// Responses are the same for every caller, so one cached copy may serve all identities.
    /// When false (the default) an authenticated caller only ever sees its own cached copies.
    #[serde(default)]
    pub public: bool,
    /// Freshness for responses that carry no `Cache-Control`/`Expires` of their own.
    #[serde(default)]
    pub default_ttl_secs: Option<u32>,
}

/// One alternative of an operation's security: the credentials that must all be presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Requirement {
    /// An API key.
    #[serde(default)]
    pub key: bool,
    /// A JWT carrying all these scopes (`[]` for any valid token); `None` when no JWT is
    /// needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Vec<String>>,
    /// A client certificate (mutual TLS) that the listener verified. Alone, its subject names
    /// the caller (a registered [`crate::model::ClientCertificate`]); beside a key or a token,
    /// it must only be present, and the other credential names the caller.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_certificate: bool,
}

impl Requirement {
    /// The requirement of operations whose records predate JWTs: a key.
    pub const KEY: Requirement = Requirement { key: true, jwt: None, client_certificate: false };
    /// A token with these scopes, alone.
    pub fn token(scopes: Vec<String>) -> Requirement {
        Requirement { key: false, jwt: Some(scopes), client_certificate: false }
    }

    /// A client certificate alone: its registered subject names the caller.
    pub fn names_caller_by_certificate(&self) -> bool {
        self.client_certificate && !self.key && self.jwt.is_none()
    }
}

/// One operation from the OpenAPI document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Operation {
    /// `operationId`, or `<METHOD> <path>` when the document gives none.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// OpenAPI path template relative to `base_path`, e.g. `/pets/{petId}`.
    pub path: String,
    /// `security: []` on the operation: callable without a credential.
    #[serde(default)]
    pub public: bool,
    /// Scopes the caller's plan must grant (from the operation's API-key requirements).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The ways in, from the document's security requirements: any one alternative admits
    /// (OR), and each names every credential it needs (AND). Empty means an API key, as
    /// for every operation imported before JWTs were read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirement>,
    #[serde(default)]
    pub summary: Option<String>,
    /// What a request must also carry to reach this operation rather than another on the
    /// same path: from a path key such as `/things?action=start` or
    /// `/#X-Amz-Target=Service.Op` (all must hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discriminators: Vec<Discriminator>,
    /// Why every call is refused: the operation's security names only schemes the gateway
    /// cannot check (the import report says which). Refusing is the safe reading of a
    /// requirement the gateway cannot enforce; falling back to an API key would not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// What `x-gatehouse-sensitivity` asks the gateway to enforce, compiled at import;
    /// `None` when the operation has no sensitive data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<Object>))]
    pub sensitivity: Option<Box<crate::sensitivity::OperationSensitivity>>,
    /// The responses a mock upstream answers with, compiled from the document when a mock
    /// API is published to the read model ([`crate::mock::prepare`]); never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schema(value_type = Option<Object>))]
    pub mock: Option<Box<crate::mock::MockOperation>>,
    /// The checks of [`Api::validation`] for this operation, prepared from the document when
    /// the API enters a route table ([`crate::validation::prepare`]); never stored.
    #[serde(skip)]
    pub validator: Option<std::sync::Arc<crate::validation::OperationValidator>>,
}

/// One thing an import ignored, located by JSON Pointer (RFC 6901) into the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct ImportNote {
    pub pointer: String,
    pub message: String,
}

/// A query parameter or header value that selects one operation among several on a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
pub struct Discriminator {
    #[serde(rename = "in")]
    pub place: DiscriminatorPlace,
    /// The parameter's name (a header name is matched case-insensitively).
    pub name: String,
    /// The value it must have; `None`: present with any value (`/tags/{arn}#tagKeys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscriminatorPlace {
    Query,
    Header,
}
