//! Gatehouse at the edge: the data plane as a Cloudflare Worker.
//!
//! This crate will hold only the Worker's adapters for the core's ports (Workers KV read
//! model, Durable Object limiter, Cache API, `fetch` upstream) and a thin `#[event(fetch)]`
//! entry; every policy stays in `gatehouse-core`. It must never grow policy of its own.
//! The Worker itself is built in the edge issue; today the crate fixes the dependency
//! direction (edge → core) and is checked for wasm32 with the core.

pub use gatehouse_core as core;
