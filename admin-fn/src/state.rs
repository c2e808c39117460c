//! `AdminState`: what every handler shares — the store, the publisher, the accepted admin
//! token hashes, settings and the clock — and `commit`, the one path every write takes.

use std::sync::Arc;

use gatehouse_core::ids::{new_id, IdKind};
use gatehouse_core::keys::{KeyEnv, KeyHash};
use gatehouse_core::model::{Api, ApiCard};
use gatehouse_core::store::{Entity, EntityKind, Etag, Record, Repo, StoreError, Write};
use gatehouse_core::time::UnixMillis;
use rand::rngs::OsRng;
use rand::TryRngCore;

use crate::auth::Actor;
use crate::error::AdminError;
use crate::mail::Mailer;
use crate::portal::PortalSettings;
use crate::preconditions::{IfMatch, Tagged};
use crate::publisher::{Change, ChangeOp, Publisher};
use crate::staff::{StaffProvider, StaffSignInSettings};

/// How often a write is re-applied to a record that another write changed under it before the
/// caller is told to retry. Each attempt re-reads, so only a record under constant concurrent
/// writes could use them all.
const MAX_ATTEMPTS: usize = 16;

/// What one attempt of a conditional write produces: the writes, the changes to publish, and
/// the answer to give if they commit.
pub(crate) type Attempt<T> = (Vec<Write>, Vec<Change>, T);

/// The clock, injected so tests control time (the core never reads one).
pub type Clock = Arc<dyn Fn() -> UnixMillis + Send + Sync>;

/// The default bound on an admin request body: an OpenAPI description as large as the
/// importer takes ([`gatehouse_core::openapi::MAX_DOCUMENT_BYTES`], 10 MiB) still fits once it is
/// a JSON string inside a body, where escaping newlines and quotes adds up to half again.
pub const MAX_BODY_BYTES: usize = gatehouse_core::openapi::MAX_DOCUMENT_BYTES * 3 / 2 + 64 * 1024;

/// Tunables with safe defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// Largest request body accepted; larger ones get 413 before they are parsed.
    pub max_body_bytes: usize,
    /// Environment of keys this control plane issues (`gh_live_…` or `gh_test_…`).
    pub key_env: KeyEnv,
    /// How long a rotated key keeps working when the caller gives no `grace_secs`.
    pub default_grace_secs: u64,
    /// Allowed clock difference for signed usage batches (see `gatehouse_core::signing`).
    pub signature_tolerance_secs: i64,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            max_body_bytes: MAX_BODY_BYTES,
            key_env: KeyEnv::Live,
            default_grace_secs: 24 * 3600,
            signature_tolerance_secs: gatehouse_core::signing::DEFAULT_TOLERANCE_SECS,
        }
    }
}

/// Shared state of the admin router. Cheap to clone.
pub struct AdminState<R, P> {
    pub(crate) repo: Arc<R>,
    pub(crate) publisher: Arc<P>,
    /// SHA-256 hashes of the accepted admin tokens: the tokens themselves are never held.
    pub(crate) admin_tokens: Arc<Vec<KeyHash>>,
    pub(crate) settings: Arc<AdminSettings>,
    /// Secret the edge signs usage batches with; `None` turns `POST /v1/usage/batches` off.
    pub(crate) ingest_secret: Option<Arc<Vec<u8>>>,
    pub(crate) portal: Arc<PortalSettings>,
    /// How the portal sends mail; `None` turns sign-in off.
    pub(crate) mailer: Option<Arc<dyn Mailer>>,
    /// The company's identity provider for staff sign-in; `None`: admin tokens only.
    pub(crate) staff: Option<Arc<StaffProvider>>,
    clock: Clock,
}

impl<R, P> Clone for AdminState<R, P> {
    fn clone(&self) -> Self {
        AdminState {
            repo: Arc::clone(&self.repo),
            publisher: Arc::clone(&self.publisher),
            admin_tokens: Arc::clone(&self.admin_tokens),
            settings: Arc::clone(&self.settings),
            ingest_secret: self.ingest_secret.clone(),
            portal: Arc::clone(&self.portal),
            mailer: self.mailer.clone(),
            staff: self.staff.clone(),
            clock: Arc::clone(&self.clock),
        }
    }
}

impl<R: Repo, P: Publisher> AdminState<R, P> {
    /// `admin_token_hashes` are `hash_secret(token)` of each accepted bearer token; the entry
    /// point reads the tokens from its secret store and passes only their hashes.
    pub fn new(
        repo: Arc<R>,
        publisher: Arc<P>,
        admin_token_hashes: Vec<KeyHash>,
        settings: AdminSettings,
        clock: Clock,
    ) -> Self {
        let admin_tokens = Arc::new(admin_token_hashes);
        let (settings, portal) = (Arc::new(settings), Arc::new(PortalSettings::default()));
        AdminState {
            repo,
            publisher,
            admin_tokens,
            settings,
            ingest_secret: None,
            portal,
            mailer: None,
            staff: None,
            clock,
        }
    }

    /// Sets how the portal sends mail (sign-in links, notices).
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Sets how the developer portal presents itself (its name, the gateway's URL).
    pub fn with_portal(mut self, portal: PortalSettings) -> Self {
        self.portal = Arc::new(portal);
        self
    }

    /// Lets staff sign in to the admin area with the company's identity provider.
    pub fn with_staff_sign_in(mut self, settings: StaffSignInSettings) -> Self {
        self.staff = Some(Arc::new(StaffProvider::new(settings)));
        self
    }

    /// Turns on usage ingest, accepting batches signed with `secret` (the edge's ingest secret).
    pub fn with_ingest_secret(mut self, secret: Vec<u8>) -> Self {
        self.ingest_secret = Some(Arc::new(secret));
        self
    }

    pub fn now(&self) -> UnixMillis {
        (self.clock)()
    }

    /// Writes `writes` in one transaction, records who did it, then publishes each change.
    /// Publishing comes last: the store of record must hold a change before the edge sees it.
    pub(crate) async fn commit(
        &self,
        actor: &Actor,
        action: &str,
        writes: Vec<Write>,
        changes: Vec<Change>,
    ) -> Result<(), AdminError> {
        self.repo.transact(with_catalog_cards(writes)?).await?;
        let targets = changes.iter().map(|c| c.id.clone()).collect();
        self.record(actor, action, targets).await;
        for change in changes {
            self.publisher.changed(change).await?;
        }
        Ok(())
    }

    /// Appends the audit entry for `actor` doing `action` to `targets`, for actions that write
    /// no record through [`AdminState::commit`] (a sign-in). A failed append is logged, not
    /// answered: the change it describes has happened.
    pub(crate) async fn record(&self, actor: &Actor, action: &str, targets: Vec<String>) {
        let entry = actor.entry(self.now(), action, targets);
        if let Err(e) = self.repo.append_audit(&entry).await {
            tracing::warn!(error = %e, action, "audit entry not written");
        }
    }

    /// Loads an entity with its `ETag`, turning a missing record into a 404 that names it.
    pub(crate) async fn load_tagged<E: Entity>(&self, what: &str, id: &str) -> Result<(E, Etag), AdminError> {
        let record = match self.repo.get_record(E::KIND, id).await {
            Err(StoreError::NotFound) => return Err(AdminError::not_found(what, id)),
            other => other?,
        };
        Ok((record.decode()?, Etag::of_body(&record.body)))
    }

    /// Writes against the version of `id` read here, atomically (compare-and-set on its
    /// `ETag`, `Write::UpdateIf`/`DeleteIf`). If another write changed the record in between,
    /// the attempt is made again on the fresh record, so its change is kept, not overwritten:
    /// two PATCHes of different fields both land. With `If-Match`, the client has already
    /// decided against one version, so a mismatch is a 412 instead.
    pub(crate) async fn conditional<E: Entity, T>(
        &self,
        actor: &Actor,
        action: &str,
        (what, id): (&str, &str),
        if_match: &IfMatch,
        mut attempt: impl FnMut(E, Etag) -> Result<Attempt<T>, AdminError>,
    ) -> Result<T, AdminError> {
        for _ in 0..MAX_ATTEMPTS {
            let (entity, etag) = self.load_tagged::<E>(what, id).await?;
            if_match.check(&etag)?;
            let (writes, changes, answer) = attempt(entity, etag)?;
            match self.commit(actor, action, writes, changes).await {
                Err(AdminError::Store(StoreError::Changed)) if !if_match.is_given() => continue,
                other => return other.map(|()| answer),
            }
        }
        Err(AdminError::conflict(format!("the {what} kept changing while this change was made; retry")))
    }

    /// Changes `id` with `edit` through [`AdminState::conditional`]; `edit` may add writes of
    /// other records (a rotation's new key) that commit with it. Answers the new version.
    pub(crate) async fn modify<E: Entity>(
        &self,
        actor: &Actor,
        action: &str,
        (what, id): (&str, &str),
        if_match: &IfMatch,
        mut edit: impl FnMut(&mut E) -> Result<Vec<(Write, Change)>, AdminError>,
    ) -> Result<Tagged<E>, AdminError> {
        self.conditional(actor, action, (what, id), if_match, |mut entity: E, expected| {
            let (mut writes, mut changes): (Vec<Write>, Vec<Change>) = edit(&mut entity)?.into_iter().unzip();
            let record = Record::of(&entity)?;
            let etag = Etag::of_body(&record.body);
            // Last, so the records it refers to (a rotation's new key) reach the edge first.
            writes.push(Write::UpdateIf { record, expected });
            changes.push(Change::of(&entity, ChangeOp::Updated));
            Ok((writes, changes, Tagged(etag, entity)))
        })
        .await
    }

    /// Loads an entity, turning a missing record into a 404 that names it.
    pub(crate) async fn load<E: gatehouse_core::store::Entity>(&self, what: &str, id: &str) -> Result<E, AdminError> {
        match self.repo.get::<E>(id).await {
            Err(StoreError::NotFound) => Err(AdminError::not_found(what, id)),
            other => Ok(other?),
        }
    }
}

/// `writes`, plus the catalog card of every API they write or delete, in the same batch: the
/// portal's catalog can never show a card that disagrees with its API. Every write to the
/// store goes through [`AdminState::commit`], so this is the one place cards are kept.
fn with_catalog_cards(mut writes: Vec<Write>) -> Result<Vec<Write>, AdminError> {
    let mut cards = Vec::new();
    for write in &writes {
        match write {
            Write::Insert(r) | Write::Update(r) | Write::Put(r) | Write::UpdateIf { record: r, .. }
                if r.kind == EntityKind::Api =>
            {
                cards.push(Write::put(&ApiCard::of(&r.decode::<Api>()?))?);
            }
            Write::Delete { kind: EntityKind::Api, id } | Write::DeleteIf { kind: EntityKind::Api, id, .. } => {
                cards.push(Write::Remove { kind: EntityKind::ApiCard, id: id.clone() });
            }
            _ => {}
        }
    }
    writes.extend(cards);
    Ok(writes)
}

/// Writes the catalog card of every API that has none (a store written before cards
/// existed); answers how many it wrote. Run at start-up; cheap when nothing is missing.
pub async fn ensure_catalog_cards<R: Repo>(repo: &R) -> Result<usize, StoreError> {
    let cards: std::collections::HashSet<String> =
        repo.list_records(EntityKind::ApiCard, None).await?.into_iter().map(|r| r.id).collect();
    let mut writes = Vec::new();
    for record in repo.list_records(EntityKind::Api, None).await? {
        if !cards.contains(&record.id) {
            // A record that does not decode is skipped here as everywhere (see `Unreadable`).
            if let Ok(api) = record.decode::<Api>() {
                writes.push(Write::put(&ApiCard::of(&api))?);
            }
        }
    }
    let written = writes.len();
    if written > 0 {
        repo.transact(writes).await?;
    }
    Ok(written)
}

/// The `ETag` a new entity will have once stored.
pub(crate) fn etag_of<E: Entity>(entity: &E) -> Result<Etag, AdminError> {
    Ok(Etag::of_body(&Record::of(entity)?.body))
}

/// Random bytes from the operating system's CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], AdminError> {
    let mut bytes = [0u8; N];
    OsRng.try_fill_bytes(&mut bytes).map_err(|e| AdminError::Internal(format!("OS random source failed: {e}")))?;
    Ok(bytes)
}

/// A fresh prefixed id (`api_…`, `key_…`).
pub(crate) fn fresh_id(kind: IdKind) -> Result<String, AdminError> {
    Ok(new_id(kind, &random::<16>()?))
}
