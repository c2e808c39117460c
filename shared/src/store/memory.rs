//! `MemoryRepo`: the store port on a `std::sync::Mutex`, for router tests and as the
//! reference behaviour the persistent adapters are checked against. No I/O.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::{ready, Future};
use std::sync::{Mutex, MutexGuard};

use super::{
    app_calls, last_seen, refuse_put_with_uniques, summarise, AppCalls, AuditEntry, AuditFilter, AuditPage,
    BatchOutcome, CatalogSnapshot, EntityKind, Etag, Record, Repo, StoreError, UsageQuery, UsageRow, Write,
};
use crate::model::Key;
use crate::time::UnixMillis;
use crate::usage::{Rollup, RollupKey, RollupValues};

/// Records with their creation sequence, and the unique values they hold.
#[derive(Debug, Clone, Default)]
struct Tables {
    records: HashMap<(EntityKind, String), (u64, Record)>,
    uniques: HashMap<(EntityKind, String), String>,
    next_seq: u64,
}

#[derive(Debug, Default)]
struct State {
    tables: Tables,
    rollups: BTreeMap<RollupKey, RollupValues>,
    batches: HashSet<String>,
    audit: Vec<AuditEntry>,
}

/// In-memory twin of the persistent stores.
#[derive(Debug, Default)]
pub struct MemoryRepo {
    state: Mutex<State>,
}

impl MemoryRepo {
    pub fn new() -> MemoryRepo {
        MemoryRepo::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Unavailable("memory store lock poisoned".into()))
    }

    fn sorted(&self, keep: impl Fn(&Record) -> bool) -> Result<Vec<Record>, StoreError> {
        let state = self.state()?;
        let mut found: Vec<&(u64, Record)> = state.tables.records.values().filter(|(_, r)| keep(r)).collect();
        found.sort_by_key(|(seq, _)| *seq);
        Ok(found.into_iter().map(|(_, r)| r.clone()).collect())
    }
}

impl Tables {
    fn apply(&mut self, write: Write) -> Result<(), StoreError> {
        match write {
            Write::Insert(record) => {
                let at = (record.kind, record.id.clone());
                if self.records.contains_key(&at) {
                    return Err(StoreError::Conflict(format!("{} id {} is taken", record.kind.as_str(), record.id)));
                }
                self.claim_uniques(&record)?;
                self.next_seq += 1;
                self.records.insert(at, (self.next_seq, record));
            }
            Write::Update(record) => {
                let at = (record.kind, record.id.clone());
                let seq = self.records.get(&at).map(|(seq, _)| *seq).ok_or(StoreError::NotFound)?;
                self.release_uniques(record.kind, &record.id);
                self.claim_uniques(&record)?;
                self.records.insert(at, (seq, record));
            }
            Write::Delete { kind, id } => {
                self.records.remove(&(kind, id.clone())).ok_or(StoreError::NotFound)?;
                self.release_uniques(kind, &id);
            }
            Write::Put(record) => {
                refuse_put_with_uniques(&record)?;
                let at = (record.kind, record.id.clone());
                let seq = match self.records.get(&at) {
                    Some((seq, _)) => *seq,
                    None => {
                        self.next_seq += 1;
                        self.next_seq
                    }
                };
                self.records.insert(at, (seq, record));
            }
            Write::Remove { kind, id } => drop(self.records.remove(&(kind, id))),
            Write::UpdateIf { record, expected } => {
                self.expect(record.kind, &record.id, &expected)?;
                self.apply(Write::Update(record))?;
            }
            Write::DeleteIf { kind, id, expected } => {
                self.expect(kind, &id, &expected)?;
                self.apply(Write::Delete { kind, id })?;
            }
        }
        Ok(())
    }

    /// `Changed` unless the stored body still has the tag `expected`.
    fn expect(&self, kind: EntityKind, id: &str, expected: &Etag) -> Result<(), StoreError> {
        let (_, stored) = self.records.get(&(kind, id.to_owned())).ok_or(StoreError::NotFound)?;
        match Etag::of_body(&stored.body) == *expected {
            true => Ok(()),
            false => Err(StoreError::Changed),
        }
    }

    fn claim_uniques(&mut self, record: &Record) -> Result<(), StoreError> {
        for unique in &record.uniques {
            let at = (record.kind, unique.value.clone());
            match self.uniques.get(&at) {
                Some(holder) if *holder != record.id => return Err(StoreError::Conflict(unique.what.clone())),
                _ => {
                    self.uniques.insert(at, record.id.clone());
                }
            }
        }
        Ok(())
    }

    fn release_uniques(&mut self, kind: EntityKind, id: &str) {
        self.uniques.retain(|(k, _), holder| *k != kind || holder != id);
    }
}

impl Repo for MemoryRepo {
    fn transact(&self, writes: Vec<Write>) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.state().and_then(|mut state| {
            // Work on a copy and swap it in only when every write succeeded: all or nothing.
            let mut tables = state.tables.clone();
            writes.into_iter().try_for_each(|w| tables.apply(w))?;
            state.tables = tables;
            Ok(())
        }))
    }

    fn get_record(&self, kind: EntityKind, id: &str) -> impl Future<Output = Result<Record, StoreError>> + Send {
        let found = self.state().and_then(|state| {
            state.tables.records.get(&(kind, id.to_owned())).map(|(_, r)| r.clone()).ok_or(StoreError::NotFound)
        });
        ready(found)
    }

    fn list_records(
        &self,
        kind: EntityKind,
        parent: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send {
        ready(self.sorted(|r| r.kind == kind && parent.is_none_or(|p| r.parent.as_deref() == Some(p))))
    }

    fn find_unique(
        &self,
        kind: EntityKind,
        value: &str,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send {
        let found = self.state().map(|state| {
            let id = state.tables.uniques.get(&(kind, value.to_owned()))?;
            state.tables.records.get(&(kind, id.clone())).map(|(_, r)| r.clone())
        });
        ready(found)
    }

    fn snapshot(&self) -> impl Future<Output = Result<CatalogSnapshot, StoreError>> + Send {
        ready(self.sorted(|_| true).and_then(|records| CatalogSnapshot::from_records(&records)))
    }

    fn add_rollups(&self, rollups: &[Rollup]) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.state().map(|mut state| {
            for r in rollups {
                state.rollups.entry(r.key.clone()).or_default().merge(&r.values);
            }
        }))
    }

    fn add_usage_batch(
        &self,
        batch_id: &str,
        rollups: &[Rollup],
    ) -> impl Future<Output = Result<BatchOutcome, StoreError>> + Send {
        ready(self.state().map(|mut state| {
            if !state.batches.insert(batch_id.to_owned()) {
                return BatchOutcome::Duplicate;
            }
            for r in rollups {
                state.rollups.entry(r.key.clone()).or_default().merge(&r.values);
            }
            BatchOutcome::Applied
        }))
    }

    fn query_usage(&self, query: &UsageQuery) -> impl Future<Output = Result<Vec<UsageRow>, StoreError>> + Send {
        ready(self.state().map(|state| summarise(query, &state.rollups)))
    }

    fn mark_keys_used(&self, used: &[(String, UnixMillis)]) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.state().and_then(|mut state| {
            for (id, at) in used {
                let Some((_, record)) = state.tables.records.get_mut(&(EntityKind::Key, id.clone())) else {
                    continue;
                };
                // A key record that does not decode is skipped: it must not stop the others'
                // marks (the snapshot lists it as unreadable).
                let Ok(mut key) = record.decode::<Key>() else {
                    continue;
                };
                key.last_used_at = Some(key.last_used_at.map_or(*at, |t| t.max(*at)));
                *record = Record::of(&key)?;
            }
            Ok(())
        }))
    }

    fn keys_last_seen(
        &self,
        key_ids: &[String],
    ) -> impl Future<Output = Result<BTreeMap<String, UnixMillis>, StoreError>> + Send {
        ready(self.state().map(|state| last_seen(&state.rollups, key_ids)))
    }

    fn app_calls(
        &self,
        api_id: &str,
        from: UnixMillis,
        to: UnixMillis,
    ) -> impl Future<Output = Result<Vec<AppCalls>, StoreError>> + Send {
        ready(self.state().map(|state| app_calls(&state.rollups, api_id, from, to)))
    }

    fn audit_about(&self, ids: &BTreeSet<String>) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        let about = |e: &&AuditEntry| e.targets.iter().any(|t| ids.contains(t));
        ready(self.state().map(|state| state.audit.iter().filter(about).cloned().collect()))
    }

    fn append_audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send {
        ready(self.state().map(|mut state| state.audit.push(entry.clone())))
    }

    fn recent_audit(&self, limit: usize) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send {
        ready(self.state().map(|state| state.audit.iter().rev().take(limit).cloned().collect()))
    }

    /// The cursor is the position of the last entry given.
    fn query_audit(
        &self,
        filter: &AuditFilter,
        cursor: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<AuditPage, StoreError>> + Send {
        let read = || {
            let state = self.state()?;
            let before = match cursor {
                None => state.audit.len(),
                Some(c) => c.parse::<usize>().map_err(|_| StoreError::Conflict("not an audit cursor".into()))?,
            };
            let mut matching = state.audit.iter().enumerate().take(before).rev().filter(|(_, e)| filter.matches(e));
            let entries: Vec<(usize, &AuditEntry)> = matching.by_ref().take(limit).collect();
            let more = matching.next().is_some();
            let next = entries.last().filter(|_| more).map(|(i, _)| i.to_string());
            Ok(AuditPage { entries: entries.into_iter().map(|(_, e)| e.clone()).collect(), next })
        };
        ready(read())
    }
}
