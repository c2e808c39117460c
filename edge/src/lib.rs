//! Gatehouse at the edge: the data plane as a Cloudflare Worker.
//!
//! The crate holds only the Worker's adapters for the core's ports (Workers KV read model,
//! Durable Object limiter and revocation list, Cache API, `fetch` upstream, signed usage
//! batches, WebCrypto JWT signatures with key sets shared through KV) and a thin
//! `#[event(fetch)]` entry; every policy stays in `gatehouse-core`. It must never grow policy
//! of its own, and the Worker never calls `passThroughOnException()`: an error becomes a
//! problem+json answer, never an unauthenticated trip to the origin.
//!
//! The modules at the top level are pure (no JS, no I/O) and are unit-tested on the host; the
//! [`worker`] module binds them to the Workers runtime and exists only on `wasm32`.

pub mod client_certificate;
pub mod key_sets;
pub mod layout;
pub mod purged;
pub mod revoked;
pub mod usage_batch;
pub mod wire;

#[cfg(target_arch = "wasm32")]
mod worker;

pub use gatehouse_core as core;
