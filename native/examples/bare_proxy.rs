//! The floor under the auth+limit+proxy benchmark: Gatehouse's own HTTP/1.1 server and pooled
//! upstream client, on one current-thread runtime as the gateway runs them, with nothing in
//! between: no route, key, limit, cache, identity header or usage event. `bench/run.sh` runs
//! it with `BENCH_FLOOR=1`, so the report shows how much of the gap to nginx is the I/O layer
//! and how much the pipeline.
//!
//! `cargo run --release -p gatehouse --example bare_proxy -- 127.0.0.1:8080 http://127.0.0.1:9000`

use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::ports::{Upstream, UpstreamCall};
use gatehouse_native::adapters::upstream::PooledUpstream;
use gatehouse_native::body::GatewayBody;
use gatehouse_native::server::{self, Handler, Limits};
use http::header::HOST;
use http::{Request, Response, StatusCode, Uri};

/// The gateway binary's allocator, so the comparison is like for like.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sends every request to `upstream` + its path and query, and relays the answer.
struct BareProxy {
    upstream: String,
    client: PooledUpstream,
}

impl Handler for BareProxy {
    type Body = GatewayBody;

    async fn respond(&self, request: &mut Request<GatewayBody>, _peer: std::net::SocketAddr) -> Response<GatewayBody> {
        let path = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let Ok(uri) = Uri::try_from(format!("{}{path}", self.upstream)) else {
            return status(StatusCode::BAD_REQUEST);
        };
        let mut upstream = Request::new(request.body_mut().take());
        *upstream.method_mut() = request.method().clone();
        *upstream.uri_mut() = uri;
        *upstream.headers_mut() = std::mem::take(request.headers_mut());
        upstream.headers_mut().remove(HOST);
        let call = UpstreamCall {
            first_byte_ms: 5_000,
            idle_ms: 5_000,
            max_duration_ms: None,
            max_request_bytes: u64::MAX,
            upgrade: false,
        };
        match self.client.send(upstream, &call).await {
            Ok(response) => response,
            Err(_) => status(StatusCode::BAD_GATEWAY),
        }
    }
}

fn status(code: StatusCode) -> Response<GatewayBody> {
    let mut response = Response::new(GatewayBody::default());
    *response.status_mut() = code;
    response
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        return Err("usage: bare_proxy LISTEN_ADDR UPSTREAM_URL".into());
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let limits = Limits::new(1 << 20, Duration::from_secs(30));
        let proxy = Arc::new(BareProxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: PooledUpstream::default(),
        });
        server::serve(listener, proxy, limits, stopped).await;
        Ok(())
    })
}
