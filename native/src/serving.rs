//! How `app::start` serves: the listeners' TLS, bounds and logs ([`Serving`]), and where the
//! admin API's accepted tokens come from ([`AdminAuth`]). `gatehouse dev` takes the defaults;
//! `gatehouse serve` fills them from its config file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::keys::{hash_secret, KeyHash};

use crate::adapters::upstream::UpstreamTls;
use crate::cli::CliError;
use crate::gateway;
use crate::secrets;
use crate::server::gate::ConnectionGate;
use crate::server::{Limits, Listening};
use crate::store::sqlite::SqliteRepo;
use crate::tls::ServerTls;

/// Where the admin API's accepted tokens come from.
#[derive(Debug, Clone)]
pub enum AdminAuth {
    /// `gatehouse dev`: the token in the data dir's `admin-token` file, created on first use.
    DataDir,
    /// `gatehouse serve`: these hashes (from the environment), and those of the tokens
    /// `gatehouse admin bootstrap` issued; no token is ever written to disk.
    Hashes(Vec<KeyHash>),
}

/// How the listeners serve. The default is `gatehouse dev`'s: plain HTTP, no connection bounds,
/// one timeout for every wait, no access log.
#[derive(Debug, Clone)]
pub struct Serving {
    pub gateway_tls: Option<ServerTls>,
    pub admin_tls: Option<ServerTls>,
    /// A request head must arrive within this of its first byte.
    pub header_timeout: Duration,
    /// Each read of a request body must make progress within this (the admin port keeps
    /// `admin_read_timeout` when it is shorter).
    pub body_timeout: Duration,
    /// An idle keep-alive connection is closed after this.
    pub idle_timeout: Duration,
    pub handshake_timeout: Duration,
    /// Open connections per listener, in all and per client IP.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub access_log: bool,
    pub upstream_tls: UpstreamTls,
    /// The public URLs the portal shows (links in mail, the gateway in examples); by default
    /// the listeners' own addresses.
    pub portal_url: Option<String>,
    pub gateway_url: Option<String>,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            gateway_tls: None,
            admin_tls: None,
            header_timeout: gateway::READ_TIMEOUT,
            body_timeout: gateway::READ_TIMEOUT,
            idle_timeout: gateway::READ_TIMEOUT,
            handshake_timeout: gateway::READ_TIMEOUT,
            max_connections: usize::MAX,
            max_connections_per_ip: usize::MAX,
            access_log: false,
            upstream_tls: UpstreamTls::default(),
            portal_url: None,
            gateway_url: None,
        }
    }
}

impl Serving {
    /// How a listener with `tls` serves; `cap` bounds every wait (the admin port's own timeout).
    pub(crate) fn listening(&self, tls: Option<ServerTls>, max_body_bytes: usize, cap: Duration) -> Listening {
        let limits = Limits {
            max_body_bytes,
            read_timeout: self.header_timeout.min(cap),
            body_timeout: self.body_timeout.min(cap),
            idle_timeout: self.idle_timeout.min(cap),
        };
        let gate = Arc::new(ConnectionGate::new(self.max_connections, self.max_connections_per_ip));
        Listening { limits, tls, handshake_timeout: self.handshake_timeout, gate }
    }
}

/// The admin token to show (dev only) and the hashes of every accepted one.
pub(crate) async fn admin_tokens(
    auth: &AdminAuth,
    data_dir: &Path,
    repo: &SqliteRepo,
) -> Result<(String, Vec<KeyHash>), CliError> {
    let fail = |what: &str, e: &dyn std::fmt::Display| CliError::Usage(format!("{what}: {e}"));
    match auth {
        AdminAuth::DataDir => {
            let token = secrets::admin_token(data_dir).map_err(|e| fail("cannot read the admin token", &e))?;
            let hash = hash_secret(&token);
            Ok((token, vec![hash]))
        }
        AdminAuth::Hashes(given) => {
            let mut hashes = given.clone();
            let stored = repo.admin_token_hashes().await.map_err(|e| fail("cannot read the admin token hashes", &e))?;
            hashes.extend(stored.iter().filter_map(|hex| KeyHash::from_hex(hex)));
            let named = gatehouse_core::store::Repo::list::<gatehouse_core::model::AdminToken>(repo, None)
                .await
                .unwrap_or_default();
            if hashes.is_empty() && !named.iter().any(|t| t.live()) {
                tracing::warn!("no admin token: run `gatehouse admin bootstrap` or set GATEHOUSE_ADMIN_TOKEN_SHA256");
            }
            Ok((String::new(), hashes))
        }
    }
}
