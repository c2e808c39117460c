//! Native adapters for the core's ports: in-memory limiter and cache, pooled HTTP/1.1 upstream client,
//! in-process read model, usage aggregation into the store.

pub mod clock;
pub mod memory_cache;
pub mod memory_limiter;
pub mod read_model;
pub mod sqlite_limiter;
pub mod tokens;
pub mod upstream;
pub mod usage;
