//! Gatehouse on one machine. In progress.
pub mod adapters;
