//! Gatehouse on one machine: the gateway, the admin API and the CLI in one binary, over an
//! embedded SQLite store. Entry points stay thin; policy lives in `gatehouse-core`, the admin
//! API in `gatehouse-admin`, and this crate only supplies native adapters and wiring.

pub mod access_log;
pub mod adapters;
pub mod admin_server;
pub mod alerting;
pub mod app;
pub mod body;
pub mod cli;
pub mod deadline;
pub mod demo;
pub mod dev;
pub mod doctor;
pub mod fuzzing;
pub mod gateway;
pub mod http1;
pub mod logging;
pub mod metering;
pub mod metrics;
pub mod publisher;
pub mod request_id;
pub mod secrets;
pub mod seed;
pub mod serve;
pub mod server;
pub mod serving;
pub mod store;
pub mod tls;
