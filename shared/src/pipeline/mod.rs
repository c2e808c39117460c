//! Request pipeline — in progress.
