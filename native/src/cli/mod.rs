//! Command-line interface. `dev` runs the whole product; every other command talks to a
//! running admin API, exactly as a script or CI job would.

pub mod client;
mod commands;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use client::CliError;

#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about = "API management: gateway, admin API and CLI on one machine")]
pub struct Cli {
    /// Log at debug level.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway, the admin API and a demo upstream with an embedded SQLite store.
    Dev(crate::dev::DevArgs),
    /// Check the store of a data dir: list every record that cannot be read.
    Doctor(crate::doctor::DoctorArgs),
    /// Apply declarative config (YAML or JSON) to the admin API.
    Apply {
        #[command(flatten)]
        admin: AdminArgs,
        /// The config file.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// Export the declarative config (YAML) from the admin API.
    Export {
        #[command(flatten)]
        admin: AdminArgs,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Create, list, revoke and rotate API keys.
    Keys {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Usage report.
    Usage {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        filter: UsageFilter,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Create a key for an app; the secret is printed once.
    Create {
        #[arg(long)]
        app: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an app's keys (never their secrets).
    List {
        #[arg(long)]
        app: String,
    },
    /// Revoke a key at once.
    Revoke { key_id: String },
    /// Issue a new key; the old one keeps working for the grace period.
    Rotate {
        key_id: String,
        /// Seconds the old key stays valid.
        #[arg(long, default_value_t = 86_400)]
        grace_secs: u64,
    },
}

#[derive(Debug, Args)]
pub struct UsageFilter {
    #[arg(long)]
    pub api_id: Option<String>,
    #[arg(long)]
    pub key_id: Option<String>,
    #[arg(long)]
    pub app_id: Option<String>,
    /// RFC 3339 start (default: 24 hours ago).
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 end (default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// minute, hour, day or total.
    #[arg(long, default_value = "hour")]
    pub group_by: String,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the admin API.
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_URL", default_value = "http://127.0.0.1:8081")]
    pub admin_url: String,
    /// Admin bearer token; defaults to the token file `gatehouse dev` wrote in the data dir.
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[arg(long, global = true, env = "GATEHOUSE_DATA_DIR", default_value = ".gatehouse")]
    pub data_dir: PathBuf,
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Dev(args) => crate::dev::run(args).await,
        Command::Doctor(args) => crate::doctor::run(args).await,
        Command::Apply { admin, file } => commands::apply(&admin.client()?, &file).await,
        Command::Export { admin, output } => commands::export(&admin.client()?, output.as_deref()).await,
        Command::Keys { admin, action } => commands::keys(&admin.client()?, action).await,
        Command::Usage { admin, filter } => commands::usage(&admin.client()?, &filter).await,
    }
}

impl AdminArgs {
    fn client(&self) -> Result<client::AdminClient, CliError> {
        let token = match &self.token {
            Some(token) => token.clone(),
            None => {
                let path = self.data_dir.join(crate::dev::ADMIN_TOKEN_FILE);
                std::fs::read_to_string(&path).map(|t| t.trim().to_string()).map_err(|_| {
                    CliError::Usage(format!(
                        "no admin token: pass --token, set GATEHOUSE_ADMIN_TOKEN, or run `gatehouse dev` to create {}",
                        path.display()
                    ))
                })?
            }
        };
        Ok(client::AdminClient::new(&self.admin_url, token))
    }
}
