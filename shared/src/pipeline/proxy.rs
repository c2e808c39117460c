//! After admission: serve from the cache or call the upstream, then decorate the response
//! with limit and lifecycle headers.

use bytes::Bytes;
use http::{Request, Response};

use super::forward::{self, Caller};
use super::{append_headers, credential, refuse, Adapters, Admitted, Gateway};
use crate::cache::{self, CacheRequest, Lookup};
use crate::ports::{Upstream, UpstreamError};
use crate::time::UnixMillis;

impl Admitted<'_> {
    /// The response, and whether the cache answered it.
    pub(super) async fn forward<A: Adapters>(
        self,
        gateway: &Gateway<A>,
        request: &Request<Bytes>,
        now: UnixMillis,
    ) -> (Response<Bytes>, bool) {
        let api = self.api;
        let identity = self.caller.as_ref().map(|(_, identity)| identity.app_id.as_str());
        let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let cache_req =
            CacheRequest { api, method: request.method(), path_and_query, headers: request.headers(), identity };
        let cache_port = gateway.adapters.cache();
        // Caching off skips the cache stage's futures, as `cache::lookup` would only answer
        // `Bypass` (and moving a large `Lookup` and response through them costs more than
        // that answer).
        let lookup = if api.cache.enabled {
            match cache::lookup(cache_port, &cache_req, now).await {
                Lookup::Hit(hit) => return (self.decorate(hit), true),
                lookup => lookup,
            }
        } else {
            Lookup::Bypass { announce: false }
        };

        let mut headers = request.headers().clone();
        let query = if api.upstream.forward_credential {
            request.uri().query().map(str::to_string)
        } else {
            credential::strip(&api.auth, &mut headers, request.uri().query())
        };
        for (name, value) in lookup.conditional_headers() {
            headers.insert(name, value);
        }
        let url = forward::upstream_url(api, self.rest(request.uri().path()), query.as_deref());
        let caller = self.caller.map(|(key, identity)| Caller { identity, key_id: &key.id });
        let upstream_req = match forward::build(request, &url, headers, caller, &gateway.signer, now) {
            Ok(req) => req,
            Err(_) => return (refuse::upstream_failed(false), false),
        };
        let mut response = match gateway.adapters.upstream().send(upstream_req, api.upstream.timeout_ms).await {
            Ok(response) => response,
            Err(UpstreamError::Timeout) => return (self.decorate(refuse::upstream_failed(true)), false),
            Err(_) => return (self.decorate(refuse::upstream_failed(false)), false),
        };
        forward::strip_hop_by_hop(response.headers_mut());
        let response = match lookup {
            Lookup::Bypass { announce } => cache::bypassed(response, announce),
            lookup => cache::complete(cache_port, &cache_req, lookup, response, now).await,
        };
        (self.decorate(response), false)
    }

    /// Adds the limit headers and, for a deprecated API, `Deprecation`/`Sunset`/`Link`.
    fn decorate(self, mut response: Response<Bytes>) -> Response<Bytes> {
        let lifecycle = self.api.lifecycle.response_headers();
        append_headers(&mut response, self.limit_headers);
        append_headers(&mut response, lifecycle);
        response
    }
}
