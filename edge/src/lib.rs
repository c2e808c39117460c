//! Edge placeholder crate
