//! Gatehouse on one machine. In progress.
