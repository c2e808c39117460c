//! The control plane's entities. They are plain data, serialised the same way in SQLite,
//! DynamoDB, Workers KV and the admin API, so every runtime agrees on one shape.

mod access_request;
mod api;
mod card;
mod catalog;
mod field_name;
mod key;
mod organisation;
mod principal;
mod revision;
mod session;
mod versioning;

pub use access_request::{AccessRequest, AccessState};
pub use api::{
    Api, AuthSettings, CacheSettings, Discriminator, DiscriminatorPlace, ImportNote, KeyLocation, Operation,
    Requirement, UpstreamSettings,
};
pub use card::{ApiCard, CARD_DESCRIPTION_CHARS};
pub use catalog::{App, Developer, Plan, Product, ProductItem, Rejection, Subscription, SubscriptionStatus};
pub use field_name::{FieldName, InvalidFieldName};
/// CIDR ranges (`Api::client_networks`), re-exported so every adapter names one type.
pub use ipnet::IpNet;
pub use key::{ClientCertificate, Key, KeyStatus, OAuthClient};
pub use organisation::{Invitation, Membership, OrgRole, Organisation};
pub use principal::{valid_principal_name, Access, AdminToken, Role};
pub use revision::Revision;
pub use session::{Session, SignInLink, StaffSignIn, Subject, Throttle};
pub use versioning::{VersionScheme, Versioning};
