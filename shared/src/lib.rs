//! Gatehouse core: the domain, the policies and the data-plane request pipeline.
//!
//! This crate is shared by every runtime (Cloudflare Worker, AWS Lambda, the native binary).
//! It must never do I/O, read the environment, draw randomness or read a clock: time arrives
//! as a parameter (`now`, Unix milliseconds), random bytes arrive from the caller, and the
//! outside world is reached only through the ports in [`ports`]. It builds for
//! `wasm32-unknown-unknown` as well as the host, and CI checks both.

pub mod alerts;
pub mod audience;
pub mod body;
pub mod cache;
pub mod config;
pub mod decimal;
pub mod entitlements;
pub mod field_value;
pub mod hex;
pub mod ids;
pub mod jwt;
pub mod keys;
pub mod lifecycle;
pub mod limits;
pub mod mock;
pub mod model;
pub mod openapi;
pub mod pipeline;
pub mod ports;
pub mod problem;
pub mod recent;
pub mod revocation;
pub mod routing;
pub mod sensitivity;
pub mod signing;
pub mod store;
pub mod time;
pub mod usage;
pub mod validation;
pub mod verdict;
