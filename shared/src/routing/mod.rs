//! Request routing: host and longest path prefix pick the API, then the OpenAPI path template
//! and method pick the operation (see [`template`] for precedence, [`index`] for the match).

pub mod index;
pub mod probe;
pub mod template;
#[cfg(test)]
mod version_tests;

use std::sync::Arc;

use http::HeaderMap;

use crate::lifecycle::Lifecycle;
use crate::model::{Api, Operation};
pub use index::{Extras, PathIndex};

/// Every servable API, ordered so the longest base path is tried first, each with its paths
/// compiled once here rather than on every request.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    apis: Vec<Arc<Api>>,
    /// `indexes[i]` is `apis[i]`'s.
    indexes: Vec<PathIndex>,
}

/// A request matched to an API and one of its operations.
#[derive(Debug, Clone)]
pub struct Route<'t, 'p> {
    pub api: &'t Arc<Api>,
    pub operation: &'t Operation,
    /// `operation`'s index in `api.operations`, to refer to it without a borrow.
    pub operation_index: usize,
    /// The request path below the API's base path: a suffix of the path, starting with `/`,
    /// or empty when the path is the base path itself (which the API sees as `/`).
    pub rest: &'p str,
}

/// Why a request did not match an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMatch {
    /// No API at this host and path.
    NoApi,
    /// The API exists but has no operation for this path.
    NoOperation,
    /// The path exists but not for this method.
    MethodNotAllowed,
    /// APIs versioned by header serve this path, but none is the version the request names
    /// (or none is the default, when it names none).
    NoVersion,
}

impl RouteTable {
    /// Builds the table; drafts are left out because the gateway never serves them.
    pub fn new(apis: impl IntoIterator<Item = Api>) -> RouteTable {
        RouteTable::from_shared(apis.into_iter().map(Arc::new))
    }

    /// Builds the table from APIs already shared, so a read model that keeps its APIs can
    /// rebuild the table after one API changed without copying the others.
    pub fn from_shared(apis: impl IntoIterator<Item = Arc<Api>>) -> RouteTable {
        let mut apis: Vec<Arc<Api>> = apis.into_iter().filter(|a| a.lifecycle != Lifecycle::Draft).collect();
        apis.sort_by(|a, b| b.base_path.len().cmp(&a.base_path.len()).then_with(|| a.id.cmp(&b.id)));
        let indexes = apis.iter().map(|api| PathIndex::new(&api.operations)).collect();
        RouteTable { apis, indexes }
    }

    pub fn apis(&self) -> &[Arc<Api>] {
        &self.apis
    }

    /// The API that owns `path` on `host`: the longest base path that is a whole-segment
    /// prefix (of APIs versioned by header, the default version).
    pub fn api_for<'p>(&self, host: &str, path: &'p str) -> Option<(&Arc<Api>, &'p str)> {
        self.position_for(host, path, None).ok().map(|(i, rest)| (&self.apis[i], rest))
    }

    /// The index of the API for the request, and the path below its base. Of APIs sharing a
    /// base path as versions picked by header, the one the header names (the default one
    /// when it is absent). The scan by host and base path is the same as for unversioned
    /// APIs; only the API it finds is asked about versions, and when it is not the version
    /// asked for, the scan goes on after it. Allocation-free like the rest of the match.
    fn position_for<'p>(
        &self,
        host: &str,
        path: &'p str,
        headers: Option<&HeaderMap>,
    ) -> Result<(usize, &'p str), NoMatch> {
        let host = host.split(':').next().unwrap_or(host);
        let mut from = 0;
        let mut missed = NoMatch::NoApi;
        while let Some((i, rest)) = self.first_from(from, host, path) {
            if picked_version(&self.apis[i], headers) {
                return Ok((i, rest));
            }
            missed = NoMatch::NoVersion;
            from = i + 1;
        }
        Err(missed)
    }

    /// The first API at or after index `from` that serves `host` and owns `path`.
    fn first_from<'p>(&self, from: usize, host: &str, path: &'p str) -> Option<(usize, &'p str)> {
        self.apis.get(from..)?.iter().enumerate().find_map(|(k, api)| {
            if !api.hosts.is_empty() && !api.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                return None;
            }
            let rest = strip_base(&api.base_path, path)?;
            Some((from + k, rest))
        })
    }

    /// Routes by host, method and path only: operations told apart by a query parameter or
    /// header are reached only through [`RouteTable::resolve_with`].
    pub fn resolve<'p>(&self, host: &str, method: &str, path: &'p str) -> Result<Route<'_, 'p>, NoMatch> {
        self.resolve_with(host, method, path, Extras::default())
    }

    /// Routes a request, using its query and headers for operations whose path keys carry a
    /// discriminator (`/things?action=start`).
    pub fn resolve_with<'p>(
        &self,
        host: &str,
        method: &str,
        path: &'p str,
        extras: Extras,
    ) -> Result<Route<'_, 'p>, NoMatch> {
        let (i, rest) = self.position_for(host, path, extras.headers)?;
        let api = &self.apis[i];
        let operation_index = self.indexes[i].find(&api.operations, method, path_below_base(rest), extras)?;
        Ok(Route { api, operation: &api.operations[operation_index], operation_index, rest })
    }
}

/// Whether `api` is the version the request asks for: always for an API not versioned by
/// header; else when the header names its label, or when the header is absent and it is the
/// default version.
fn picked_version(api: &Api, headers: Option<&HeaderMap>) -> bool {
    let Some((name, default)) = api.versioning.as_ref().and_then(|v| v.header()) else { return true };
    match headers.and_then(|h| h.get(name)) {
        Some(value) => api.versioning.as_ref().is_some_and(|v| value.as_bytes() == v.label.as_bytes()),
        None => default,
    }
}

/// The path an API sees for `rest`, a [`Route::rest`]: the base path itself is its `/`.
pub fn path_below_base(rest: &str) -> &str {
    if rest.is_empty() {
        "/"
    } else {
        rest
    }
}

/// `/pets/42` below `/v1` for `/v1/pets/42` (empty for `/v1` itself); `None` unless `base`
/// ends on a segment boundary.
fn strip_base<'p>(base: &str, path: &'p str) -> Option<&'p str> {
    let rest = path.strip_prefix(base.trim_end_matches('/'))?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthSettings, CacheSettings, UpstreamSettings};

    fn api(id: &str, base: &str, hosts: &[&str], ops: &[(&str, &str)], lifecycle: Lifecycle) -> Api {
        Api {
            id: id.into(),
            name: id.into(),
            version: "1".into(),
            base_path: base.into(),
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            upstream: UpstreamSettings {
                url: "http://127.0.0.1:1".into(),
                timeout_ms: 1000,
                forward_credential: false,
                ..Default::default()
            },
            auth: AuthSettings::default(),
            cache: CacheSettings::default(),
            lifecycle,
            operations: ops
                .iter()
                .map(|(m, p)| Operation {
                    id: format!("{m} {p}"),
                    method: m.to_string(),
                    path: p.to_string(),
                    public: false,
                    scopes: vec![],
                    ..Default::default()
                })
                .collect(),
            openapi: serde_json::Value::Null,
            import_report: Vec::new(),
            client_networks: Vec::new(),
            versioning: None,
            validation: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn table() -> RouteTable {
        let live = Lifecycle::Published { published_at: 0 };
        RouteTable::new([
            api("api_short", "/pets", &[], &[("GET", "/{id}"), ("GET", "/")], live.clone()),
            api("api_long", "/pets/v2", &[], &[("GET", "/{id}")], live.clone()),
            api("api_host", "/", &["api.example.com"], &[("POST", "/orders")], live),
            api("api_draft", "/drafts", &[], &[("GET", "/")], Lifecycle::Draft),
        ])
    }

    #[test]
    fn longest_base_path_wins_on_segment_boundaries() {
        let t = table();
        assert_eq!(t.resolve("h", "GET", "/pets/v2/7").map(|r| r.api.id.clone()), Ok("api_long".into()));
        let r = t.resolve("h", "GET", "/pets/7").expect("route");
        assert_eq!((r.api.id.as_str(), r.rest, r.operation.path.as_str()), ("api_short", "/7", "/{id}"));
        assert_eq!(t.resolve("h", "GET", "/petsx/7").err(), Some(NoMatch::NoApi));
        assert_eq!(t.resolve("h", "GET", "/pets").map(|r| r.rest), Ok(""), "the base path itself is `/` below it");
    }

    #[test]
    fn hosts_methods_and_drafts_are_respected() {
        let t = table();
        assert!(t.resolve("API.example.com:8080", "POST", "/orders").is_ok());
        assert_eq!(t.resolve("other.com", "POST", "/orders").err(), Some(NoMatch::NoApi));
        assert_eq!(t.resolve("h", "DELETE", "/pets/7").err(), Some(NoMatch::MethodNotAllowed));
        assert_eq!(t.resolve("h", "GET", "/pets/7/toys").err(), Some(NoMatch::NoOperation));
        assert_eq!(t.resolve("h", "GET", "/drafts").err(), Some(NoMatch::NoApi));
        assert!(t.resolve("h", "HEAD", "/pets/7").is_ok());
    }

    #[test]
    fn template_parameters_match_exactly_one_segment() {
        let live = Lifecycle::Published { published_at: 0 };
        let t = RouteTable::new([api("a", "/", &[], &[("GET", "/pets/{id}"), ("GET", "/")], live)]);
        assert!(t.resolve("h", "GET", "/pets/42").is_ok());
        assert_eq!(t.resolve("h", "GET", "/pets/").err(), Some(NoMatch::NoOperation));
        assert_eq!(t.resolve("h", "GET", "/pets/42/x").err(), Some(NoMatch::NoOperation));
        assert!(t.resolve("h", "GET", "/").is_ok());
    }
}
