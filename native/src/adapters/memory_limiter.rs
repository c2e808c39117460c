//! STUB — being written (helper: core-policies).
