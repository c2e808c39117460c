//! `HyperUpstream`: the upstream port over hyper's pooled HTTP/1.1 client.
//!
//! One client per gateway thread keeps idle connections per upstream host, so a steady stream
//! of calls pays no TCP handshake, and a connection is only ever used by the thread (and
//! runtime) that opened it. Timeouts cover the whole exchange, body included.

use std::time::Duration;

use bytes::Bytes;
use gatehouse_core::ports::{Upstream, UpstreamError};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Upstream responses above this are refused rather than buffered without bound.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The upstream port; the pooled clients themselves live per thread.
#[derive(Clone, Default)]
pub struct HyperUpstream;

type PooledClient = Client<HttpConnector, Full<Bytes>>;

thread_local! {
    static CLIENT: PooledClient = new_client();
}

fn new_client() -> PooledClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .build(connector)
}

impl Upstream for HyperUpstream {
    async fn send(
        &self,
        request: http::Request<Bytes>,
        timeout_ms: u64,
    ) -> Result<http::Response<Bytes>, UpstreamError> {
        let client = CLIENT.with(PooledClient::clone);
        let exchange = async move {
            let response = client.request(request.map(Full::new)).await.map_err(|e| {
                if e.is_connect() {
                    UpstreamError::Connect(e.to_string())
                } else {
                    UpstreamError::Protocol(e.to_string())
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| UpstreamError::Protocol(e.to_string()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body))
        };
        tokio::time::timeout(Duration::from_millis(timeout_ms), exchange).await.unwrap_or(Err(UpstreamError::Timeout))
    }
}
