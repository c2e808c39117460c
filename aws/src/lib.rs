//! Gatehouse's control plane on AWS: [`DynamoRepo`] (the store port over DynamoDB),
//! [`KvPublisher`] (changes to the edge's Workers KV read model, revocations to the Worker)
//! and the Lambda entry points' wiring ([`lambda`]) serving the admin router unchanged, plus
//! the scheduled usage compaction. Table design, ingest idempotency and write cost: `docs/aws.md`.
//!
//! It must never log key material or secrets, never do slow work at Lambda start-up (clients
//! are built once, lazily connected), and never hold policy: that lives in `gatehouse-core`
//! and `gatehouse-admin`.

pub mod alerts;
pub mod config;
pub mod dynamo;
pub mod kv;
pub mod lambda;

pub use config::Config;
pub use dynamo::{create_tables, DynamoRepo, DynamoTables};
pub use kv::KvPublisher;
