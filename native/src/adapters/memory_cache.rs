//! STUB — being written (helper: core-cache).
