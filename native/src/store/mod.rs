//! The native control-plane store: [`SqliteRepo`], one SQLite file, implementing the core's
//! [`gatehouse_core::store::Repo`] port. The in-memory twin is `gatehouse_core::store::MemoryRepo`;
//! both run the same contract suite (`contract.rs`). The same file holds the gateway's quota
//! counts ([`counters::SqliteCounters`]).

mod audit;
pub mod counters;
mod rollups;
mod schema;
pub mod sqlite;

pub use sqlite::SqliteRepo;

#[cfg(test)]
mod contract;
