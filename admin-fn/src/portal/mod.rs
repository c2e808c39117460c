//! The developer portal's pages and the jobs behind them.

pub mod reference;
