//! Staff sign-in with the company's identity provider: OpenID Connect, authorization code
//! with PKCE (S256), `state` and `nonce`. The provider's groups (or roles) claim maps to a
//! Gatehouse role; the session it opens is an admin-area session naming `staff:<email>`,
//! audited like a sign-in with an admin token. The pages are in `portal::staff`.

mod config;
mod provider;
mod refusal;

pub use config::{names, parse_roles, StaffSignInSettings, CALLBACK_PATH};
pub use provider::{claim_values, code_challenge, principal, StaffProvider};
pub use refusal::StaffRefusal;
