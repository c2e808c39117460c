//! After admission: serve from the cache or call the upstream, then decorate the response
//! with limit and lifecycle headers.

use http::{HeaderMap, Request, Response};

use super::forward::{self, Caller};
use super::{append_headers, credential, forwarded, refuse, upgrade, Adapters, Admitted, BodyOf, Gateway};
use crate::body::Body;
use crate::cache::{self, CacheRequest, Lookup, NotStored, MAX_ENTRY_BYTES};
use crate::ports::{Collected, Upstream, UpstreamError};
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
        request: &mut Request<BodyOf<A>>,
        now: UnixMillis,
    ) -> (Response<BodyOf<A>>, bool) {
        let api = self.api;
        if !api.cache.enabled {
            // No cache stage at all, as `cache::lookup` would only answer `Bypass` (and moving
            // a large `Lookup` and response through its futures costs more than that answer).
            // Nor `cache::bypassed`, which adds nothing unless told to announce the bypass. The
            // response is decorated in place: each move of it copies 144 bytes.
            let headers = std::mem::take(request.headers_mut());
            let body = request.body_mut().take();
            let (Ok(mut response) | Err(mut response)) =
                self.call_upstream(gateway, request, body, headers, false, now).await;
            self.decorate(&mut response);
            return (response, false);
        }
        let body = request.body_mut().take();
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
            Lookup::Hit(hit) => {
                let mut hit = hit.map(Body::Full);
                self.decorate(&mut hit);
                return (hit, true);
            }
            Lookup::Answer(answer) => {
                let mut answer = answer.map(Body::Full);
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
        let mut response = match self.call_upstream(gateway, request, body, headers, shared, now).await {
            Ok(response) => match lookup {
                Lookup::Bypass { announce } => {
                    let mut response = cache::bypassed(response, announce);
                    cache::invalidate(cache_port, &cache_req, &mut response).await;
                    response
                }
                lookup => match whole_for_cache(gateway, &cache_req, response, now).await {
                    Ok(whole) => cache::complete(cache_port, &cache_req, lookup, whole, now).await.map(Body::Full),
                    Err((mut streamed, why)) => {
                        cache::not_stored(lookup, &mut streamed, why);
                        streamed
                    }
                },
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
        request: &Request<BodyOf<A>>,
        body: BodyOf<A>,
        mut headers: HeaderMap,
        shared: bool,
        now: UnixMillis,
    ) -> Result<Response<BodyOf<A>>, Response<BodyOf<A>>> {
        let api = self.api;
        if api.upstream.is_mock() {
            // The document answers instead of an upstream; everything around the call (keys,
            // limits, cache, usage) is unchanged. The request body is not read.
            drop(body);
            let response = match &self.operation.mock {
                Some(operation) => crate::mock::answer(operation, &headers),
                None => refuse::upstream_invalid("The mock's responses were not prepared for this operation."),
            };
            return Ok(response.map(Body::Full));
        }
        // From the client's own fields, before anything below changes them.
        let peer = request.extensions().get::<forwarded::Peer>().copied();
        let origin = forwarded::resolve(&headers, peer, &gateway.config.trusted_proxies);
        let query = if api.upstream.forward_credential && !shared {
            request.uri().query().map(str::to_string)
        } else {
            credential::strip(&api.auth, &mut headers, request.uri().query())
        };
        let uri = forward::upstream_uri(api, self.rest(request.uri().path()), query.as_deref())
            .map_err(|e| refuse::upstream_failed(api, UpstreamError::Connect(format!("invalid upstream URL: {e}"))))
            .map_err(|refusal| refusal.map(Body::Full))?;
        let caller = self.caller.filter(|_| !shared).map(|(key, identity)| Caller {
            identity,
            key_id: &key.id,
            subject: self.subject,
        });
        // From `headers`: with caching off they were taken out of the request.
        let upgrade = upgrade::asks(request.method(), request.version(), &headers);
        let mut upstream_req = forward::build(request, body, uri, headers, caller, &gateway.signer, now);
        if !api.upstream.keep_underscore_headers {
            forward::drop_underscore_names(upstream_req.headers_mut());
        }
        forwarded::apply(upstream_req.headers_mut(), &origin, api.upstream.forwarded);
        if upgrade {
            upgrade::restore(upstream_req.headers_mut());
        }
        let call = api.upstream.call(gateway.config.max_body_bytes as u64, upgrade);
        let mut response = match gateway.adapters.upstream().send(upstream_req, &call).await {
            Ok(response) => response,
            Err(error) => return Err(refuse::upstream_failed(api, error).map(Body::Full)),
        };
        // Only a final status can be relayed: a 1xx as the answer, or a number past 599, is
        // one no client (and no Workers `Response`) can take. The one exception is the `101`
        // that accepts a WebSocket upgrade the client asked for.
        let status = response.status().as_u16();
        let switched = upgrade && upgrade::accepted(&response) && response.body().is_stream();
        if !(200..=599).contains(&status) && !switched {
            return Err(refuse::upstream_invalid(&format!(
                "The upstream answered with status {status}, which is not a final HTTP status (200-599)."
            ))
            .map(Body::Full));
        }
        forward::strip_hop_by_hop(response.headers_mut());
        if switched {
            upgrade::restore(response.headers_mut());
        }
        Ok(response)
    }

    /// Adds the limit headers and, for a deprecated API, `Deprecation`/`Sunset`/`Link`.
    fn decorate<B>(&self, response: &mut Response<B>) {
        if let Some(decision) = &self.limits {
            crate::limits::append_headers(decision, response.headers_mut());
        }
        append_headers(response, self.api.lifecycle.response_headers());
    }
}

/// The upstream's response whole, for the cache to store, or the response as it streams (with
/// why it is not stored) when the head already rules storing out or the body is past
/// [`MAX_ENTRY_BYTES`]. Only a storable, small enough body is ever held back from the client.
async fn whole_for_cache<A: Adapters>(
    gateway: &Gateway<A>,
    req: &CacheRequest<'_>,
    response: Response<BodyOf<A>>,
    now: UnixMillis,
) -> Result<Response<bytes::Bytes>, (Response<BodyOf<A>>, NotStored)> {
    let (parts, body) = response.into_parts();
    let stream = match body {
        Body::Full(bytes) => return Ok(Response::from_parts(parts, bytes)),
        Body::Stream(stream) => stream,
    };
    let head = Response::from_parts(parts, ());
    let refused = match cache::head_allows_storing(req, &head, now) {
        Err(why) => Some(why),
        Ok(_) if crate::body::declared_len(head.headers()).is_some_and(|n| n > MAX_ENTRY_BYTES as u64) => {
            Some(NotStored::TooLarge)
        }
        Ok(_) => None,
    };
    if let Some(why) = refused {
        return Err((head.map(|()| Body::Stream(stream)), why));
    }
    match gateway.adapters.upstream().collect(stream, MAX_ENTRY_BYTES).await {
        Collected::Whole(bytes) => Ok(head.map(|()| bytes)),
        Collected::TooLarge(stream) => Err((head.map(|()| Body::Stream(stream)), NotStored::TooLarge)),
        // The body broke while it was read for the cache, before the client saw any of it: the
        // client gets what every broken upstream answer gets.
        Collected::Failed(error) => Err((refuse::upstream_failed(req.api, error).map(Body::Full), NotStored::Status)),
    }
}
