//! Native adapters for the core's ports: in-memory limiter and cache, hyper upstream client,
//! in-process read model, usage aggregation into SQLite.

pub mod memory_cache;
pub mod memory_limiter;
