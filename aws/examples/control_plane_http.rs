//! The AWS control plane exactly as the admin Lambda wires it (`gatehouse_aws::lambda::app`:
//! the admin router over `DynamoRepo`, changes published by `KvPublisher` through the
//! Cloudflare API), served over plain HTTP instead of `lambda_http`, so an end-to-end test can
//! put a real control plane in front of a real edge: `edge/tests/access.test.mjs` runs it
//! against moto and a Cloudflare API stand-in that writes into Miniflare's Workers KV.
//!
//! Configured like the Lambda (`GATEHOUSE_*`, see `gatehouse_aws::config::names`) plus the AWS
//! SDK's own variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, …),
//! and `GATEHOUSE_LISTEN` (default `127.0.0.1:0`). It creates the tables first (on an
//! emulator; on AWS the SAM template does), then prints `listening on http://<addr>`.
//! The client's address (which the Lambda reads from the API Gateway event) is the TCP peer.
//!
//! Not for production: plain HTTP, and none of the native server's connection bounds.

use std::error::Error;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use gatehouse_admin::ClientAddr;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    gatehouse_aws::lambda::init_tracing();
    let config = gatehouse_aws::lambda::config_from_env();
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    gatehouse_aws::create_tables(&client, &config.tables).await?;
    let app = gatehouse_aws::lambda::app(config, client)?.layer(middleware::from_fn(peer_address));
    let addr = std::env::var("GATEHOUSE_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await?;
    Ok(())
}

/// The TCP peer as the client's address, for the audit trail and sign-in throttling.
async fn peer_address(ConnectInfo(peer): ConnectInfo<SocketAddr>, mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(ClientAddr(peer.ip()));
    next.run(request).await
}
