//! Applying one stored record (or its absence) to the read model: the index is updated, and
//! the snapshot gets only the entries that record changes — a key, the identities of the apps
//! it touches, or the route table when it is an API.
//!
//! A record that cannot be decoded is logged with its kind and id and treated as absent: the
//! gateway then refuses what it granted (fail closed), and nothing else is held up by it.

use gatehouse_core::keys::KeyHash;
use gatehouse_core::model::Key;
use gatehouse_core::store::{Entity, EntityKind, Record};
use serde::Deserialize;

use super::index::{Affected, CatalogIndex};
use super::snapshot::Snapshot;

/// The entity in `record`, or `None` (logged) when it cannot be decoded.
pub fn decoded<E: Entity>(record: &Record) -> Option<E> {
    match record.decode() {
        Ok(entity) => Some(entity),
        Err(error) => {
            tracing::error!(
                kind = record.kind.as_str(),
                id = %record.id,
                %error,
                "record cannot be decoded; the gateway treats it as absent"
            );
            None
        }
    }
}

/// What a snapshot must refresh after the index took a record.
pub enum Refresh {
    /// The portal's own records (catalog cards): nothing the gateway reads.
    Nothing,
    Key,
    Routes,
    Identities(Affected),
}

/// Updates the index with the stored state of `kind`/`id` (`None`: the record is gone).
pub fn index_record(index: &mut CatalogIndex, kind: EntityKind, id: &str, record: Option<&Record>) -> Refresh {
    let affected = match kind {
        EntityKind::Key => return Refresh::Key,
        EntityKind::ApiCard
        | EntityKind::SignInLink
        | EntityKind::Session
        | EntityKind::Throttle
        | EntityKind::AdminToken
        | EntityKind::AlertRule
        | EntityKind::AlertEvent
        | EntityKind::AlertDelivery
        | EntityKind::AlertOutbox
        | EntityKind::StaffSignIn
        | EntityKind::Membership
        | EntityKind::Invitation
        | EntityKind::Revision => return Refresh::Nothing,
        EntityKind::Api => {
            match record.and_then(decoded) {
                Some(api) => index.put_api(api),
                None => index.remove_api(id),
            }
            return Refresh::Routes;
        }
        EntityKind::Product => {
            put_or_remove(index, record, CatalogIndex::put_product, CatalogIndex::remove_product, id)
        }
        EntityKind::Plan => put_or_remove(index, record, CatalogIndex::put_plan, CatalogIndex::remove_plan, id),
        EntityKind::Developer => {
            put_or_remove(index, record, CatalogIndex::put_developer, CatalogIndex::remove_developer, id)
        }
        EntityKind::App => put_or_remove(index, record, CatalogIndex::put_app, CatalogIndex::remove_app, id),
        EntityKind::Organisation => {
            put_or_remove(index, record, CatalogIndex::put_organisation, CatalogIndex::remove_organisation, id)
        }
        EntityKind::Subscription => {
            put_or_remove(index, record, CatalogIndex::put_subscription, CatalogIndex::remove_subscription, id)
        }
        EntityKind::AccessRequest => {
            put_or_remove(index, record, CatalogIndex::put_access_request, CatalogIndex::remove_access_request, id)
        }
    };
    Refresh::Identities(affected)
}

/// Applies the stored state of `kind`/`id` to the index and to `snapshot`, touching only the
/// snapshot entries it changes. `record` is what the store holds now, `None` when it is gone.
pub fn apply(index: &mut CatalogIndex, snapshot: &mut Snapshot, kind: EntityKind, id: &str, record: Option<&Record>) {
    match index_record(index, kind, id, record) {
        Refresh::Nothing => {}
        Refresh::Key => apply_key(snapshot, id, record),
        Refresh::Routes => snapshot.set_routes(index.routes()),
        Refresh::Identities(apps) => recompile(index, snapshot, &apps),
    }
}

fn put_or_remove<E: Entity>(
    index: &mut CatalogIndex,
    record: Option<&Record>,
    put: fn(&mut CatalogIndex, E) -> Affected,
    remove: fn(&mut CatalogIndex, &str) -> Affected,
    id: &str,
) -> Affected {
    match record.and_then(decoded) {
        Some(entity) => put(index, entity),
        None => remove(index, id),
    }
}

/// Recompiles the identities of `apps`, and only those.
pub fn recompile(index: &CatalogIndex, snapshot: &mut Snapshot, apps: &[String]) {
    let now = crate::adapters::clock::now_millis();
    for app in apps {
        snapshot.set_identity(app, index.identity(app, now));
    }
}

/// Only the hash of a key record: enough to withdraw a key whose other fields cannot be read.
#[derive(Deserialize)]
struct HashOnly {
    hash: KeyHash,
}

fn apply_key(snapshot: &mut Snapshot, id: &str, record: Option<&Record>) {
    let Some(record) = record else {
        return snapshot.remove_key_by_id(id);
    };
    match decoded::<Key>(record) {
        Some(key) => snapshot.put_key(key),
        // Fail closed: a key we cannot read is refused, found by its hash when that much is
        // readable, else by its id.
        None => match serde_json::from_str::<HashOnly>(&record.body) {
            Ok(only) => snapshot.remove_key(&only.hash),
            Err(_) => snapshot.remove_key_by_id(id),
        },
    }
}
