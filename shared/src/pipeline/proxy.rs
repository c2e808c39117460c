//! After admission: serve from the cache or call the upstream, then decorate the response
//! with limit and lifecycle headers.

use bytes::Bytes;
use http::{HeaderMap, Request, Response};

use super::forward::{self, Caller};
use super::{append_headers, credential, forwarded, refuse, Adapters, Admitted, Gateway};
use crate::cache::{self, CacheRequest, Lookup};
use crate::ports::{Upstream, UpstreamError};
use crate::time::UnixMillis;

impl Admitted<'_> {
    /// The response, and whether the cache answered it.
    ///
    /// With caching off the request's own header map becomes the upstream request's (taken,
    /// not copied). With caching on it is copied: the cache still reads the request's fields
    /// (`Vary`, `Authorization`, `Cache-Control`) once the upstream has answered.
    pub(super) async fn forward<A: Adapters>(
        self,
        gateway: &Gateway<A>,
        request: &mut Request<Bytes>,
        now: UnixMillis,
    ) -> (Response<Bytes>, bool) {
        let api = self.api;
        if !api.cache.enabled {
            // No cache stage at all, as `cache::lookup` would only answer `Bypass` (and moving
            // a large `Lookup` and response through its futures costs more than that answer).
            // Nor `cache::bypassed`, which adds nothing unless told to announce the bypass. The
            // response is decorated in place: each move of it copies 144 bytes.
            let headers = std::mem::take(request.headers_mut());
            let (Ok(mut response) | Err(mut response)) =
                self.call_upstream(gateway, request, headers, false, now).await;
            self.decorate(&mut response);
            return (response, false);
        }
        let request = &*request;
        // A token's end user is part of who is calling: two users of one app never share a
        // cached copy.
        let with_subject;
        let identity = match (&self.caller, self.subject) {
            (Some((_, identity)), Some(subject)) => {
                with_subject = format!("{}\u{1f}{subject}", identity.app_id);
                Some(with_subject.as_str())
            }
            (caller, _) => caller.as_ref().map(|(_, identity)| identity.app_id.as_str()),
        };
        let path_and_query = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        let cache_req =
            CacheRequest { api, method: request.method(), path_and_query, headers: request.headers(), identity };
        let cache_port = gateway.adapters.cache();
        let lookup = match cache::lookup(cache_port, &cache_req, now).await {
            Lookup::Hit(mut hit) => {
                self.decorate(&mut hit);
                return (hit, true);
            }
            Lookup::Answer(mut answer) => {
                self.decorate(&mut answer);
                return (answer, false);
            }
            lookup => lookup,
        };
        // A public API's entries serve every caller, so a request whose answer may be stored
        // for all goes upstream without anything that says who asked (docs/config.md).
        let shared = api.cache.public && !matches!(lookup, Lookup::Bypass { .. });
        let mut headers = request.headers().clone();
        for (name, value) in lookup.conditional_headers() {
            headers.insert(name, value);
        }
        let mut response = match self.call_upstream(gateway, request, headers, shared, now).await {
            Ok(response) => match lookup {
                Lookup::Bypass { announce } => {
                    let mut response = cache::bypassed(response, announce);
                    cache::invalidate(cache_port, &cache_req, &mut response).await;
                    response
                }
                lookup => cache::complete(cache_port, &cache_req, lookup, response, now).await,
            },
            Err(mut refusal) => {
                cache::failed(lookup, &mut refusal);
                refusal
            }
        };
        self.decorate(&mut response);
        (response, false)
    }

    /// Sends `request` upstream with `headers` (the credential removed unless the API forwards
    /// it, the caller's signed identity added): the answer without its hop-by-hop fields, or
    /// the `502`/`504` to send instead. A `shared` request (its answer may serve every caller)
    /// carries neither the credential nor the identity.
    async fn call_upstream<A: Adapters>(
        &self,
        gateway: &Gateway<A>,
        request: &Request<Bytes>,
        mut headers: HeaderMap,
        shared: bool,
        now: UnixMillis,
    ) -> Result<Response<Bytes>, Response<Bytes>> {
        let api = self.api;
        // From the client's own fields, before anything below changes them.
        let peer = request.extensions().get::<forwarded::Peer>().copied();
        let origin = forwarded::resolve(&headers, peer, &gateway.config.trusted_proxies);
        let query = if api.upstream.forward_credential && !shared {
            request.uri().query().map(str::to_string)
        } else {
            credential::strip(&api.auth, &mut headers, request.uri().query())
        };
        let uri = forward::upstream_uri(api, self.rest(request.uri().path()), query.as_deref())
            .map_err(|e| refuse::upstream_failed(api, UpstreamError::Connect(format!("invalid upstream URL: {e}"))))?;
        let caller = self.caller.filter(|_| !shared).map(|(key, identity)| Caller {
            identity,
            key_id: &key.id,
            subject: self.subject,
        });
        let mut upstream_req = forward::build(request, uri, headers, caller, &gateway.signer, now);
        if !api.upstream.keep_underscore_headers {
            forward::drop_underscore_names(upstream_req.headers_mut());
        }
        forwarded::apply(upstream_req.headers_mut(), &origin, api.upstream.forwarded);
        let mut response = match gateway.adapters.upstream().send(upstream_req, api.upstream.timeout_ms).await {
            Ok(response) => response,
            Err(error) => return Err(refuse::upstream_failed(api, error)),
        };
        // Only a final status can be relayed: a 1xx as the answer, or a number past 599, is
        // one no client (and no Workers `Response`) can take.
        let status = response.status().as_u16();
        if !(200..=599).contains(&status) {
            return Err(refuse::upstream_invalid(&format!(
                "The upstream answered with status {status}, which is not a final HTTP status (200-599)."
            )));
        }
        forward::strip_hop_by_hop(response.headers_mut());
        Ok(response)
    }

    /// Adds the limit headers and, for a deprecated API, `Deprecation`/`Sunset`/`Link`.
    fn decorate(&self, response: &mut Response<Bytes>) {
        if let Some(decision) = &self.limits {
            crate::limits::append_headers(decision, response.headers_mut());
        }
        append_headers(response, self.api.lifecycle.response_headers());
    }
}
