//! Credentials that name an identity proved elsewhere, registered on an app: an identity
//! provider's OAuth client (proved by its tokens) or a client certificate's subject (proved
//! by the TLS handshake). Gatehouse issues no secret for them; each is a credential record
//! beside the app's keys, found by a hash of what names it, listed, disabled, enabled and
//! revoked with the keys, and never rotated.

use gatehouse_core::ids::IdKind;
use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::{App, ClientCertificate, Key, KeyStatus, OAuthClient};
use gatehouse_core::store::{Repo, StoreError};

use super::keys::add_credential;
use crate::auth::Actor;
use crate::error::AdminError;
use crate::publisher::Publisher;
use crate::state::{fresh_id, AdminState};

/// What a registration names, and so which record it becomes.
pub(crate) enum Registered {
    OAuthClient(OAuthClient),
    ClientCertificate(ClientCertificate),
}

impl Registered {
    /// How the record is told apart in lists: a marker and the last characters of its name.
    fn shown(&self) -> (&'static str, &str) {
        match self {
            Registered::OAuthClient(client) => ("oauth:", last_chars(&client.client_id, 4)),
            Registered::ClientCertificate(certificate) => ("mtls:", last_chars(&certificate.subject, 4)),
        }
    }
}

/// Writes the registration on `app` through the guarded credential write (no credential on a
/// closed account). Refused (409, `taken`) when the same identity is registered already, on
/// this app or another: one identity calls as one app.
pub(crate) async fn register<R: Repo, P: Publisher>(
    s: &AdminState<R, P>,
    actor: &Actor,
    action: &str,
    app: &App,
    (hash, name): (KeyHash, String),
    registered: Registered,
    taken: &str,
) -> Result<Key, AdminError> {
    let now = s.now();
    let (display_prefix, last4) = registered.shown();
    let (oauth_client, client_certificate) = match &registered {
        Registered::OAuthClient(client) => (Some(client.clone()), None),
        Registered::ClientCertificate(certificate) => (None, Some(certificate.clone())),
    };
    add_credential(s, actor, action, app, || {
        let key = Key {
            id: fresh_id(IdKind::Key)?,
            app_id: app.id.clone(),
            name: name.clone(),
            hash: hash.clone(),
            display_prefix: display_prefix.to_owned(),
            last4: last4.to_owned(),
            status: KeyStatus::Active,
            created_at: now,
            expires_at: None,
            grace_until: None,
            replaced_by: None,
            last_used_at: None,
            limits: Vec::new(),
            oauth_client: oauth_client.clone(),
            client_certificate: client_certificate.clone(),
        };
        Ok((key, ()))
    })
    .await
    .map(|(key, ())| key)
    .map_err(|e| match e {
        AdminError::Store(StoreError::Conflict(_)) => AdminError::conflict(taken),
        other => other,
    })
}

/// The last `n` characters of `text` (all of it when shorter), on a character boundary.
fn last_chars(text: &str, n: usize) -> &str {
    let start = text.char_indices().rev().nth(n - 1).map_or(0, |(at, _)| at);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::last_chars;

    #[test]
    fn the_last_characters_are_cut_on_a_character_boundary() {
        assert_eq!(last_chars("Q7pT0x9Kq2", 4), "9Kq2");
        assert_eq!(last_chars("abc", 4), "abc");
        assert_eq!(last_chars("CN=Zoë Müller", 4), "ller");
        assert_eq!(last_chars("ÄÖÜßé", 4), "ÖÜßé");
    }
}
