//! Gatehouse control plane: the admin API router. STUB — being written (helper: admin).
