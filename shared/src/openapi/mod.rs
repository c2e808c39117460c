//! STUB — to be written (helper: admin).
