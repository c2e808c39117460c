//! Command-line interface. `dev` runs the whole product; every other command talks to a
//! running admin API, exactly as a script or CI job would. One module per admin resource;
//! each prints a table by default and the API's own answer with `-o json` or `-o yaml`.
//! Errors are one line on stderr and a non-zero exit.

mod admin_tokens;
mod apis;
mod apps;
mod audit;
mod body;
mod bundle;
pub mod client;
mod config;
mod contract;
mod developers;
mod keys;
mod lint;
mod locate;
mod organisations;
mod output;
mod plans;
mod products;
mod revisions;
mod subscriptions;
mod upstream_check;
mod usage;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use client::CliError;
use output::OutputArgs;

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
    /// Run in production from a config file: TLS, HTTP/2, JSON logs, no demo data.
    Serve(crate::serve::ServeArgs),
    /// Set up a `serve` install: `bootstrap` issues the first owner token.
    Admin {
        #[command(subcommand)]
        action: crate::serve::bootstrap::AdminAction,
    },
    /// Check the store of a data dir: list every record that cannot be read.
    Doctor(crate::doctor::DoctorArgs),
    /// Apply declarative config (YAML or JSON) to the admin API; every problem is listed.
    Apply {
        #[command(flatten)]
        admin: AdminArgs,
        /// The config file.
        #[arg(long, short)]
        file: PathBuf,
        /// Re-import documents even when they break callers of a live API.
        #[arg(long)]
        force: bool,
    },
    /// Export the declarative config (YAML) from the admin API.
    Export {
        #[command(flatten)]
        admin: AdminArgs,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Lint an OpenAPI document (a local file, offline): exit 1 on errors, 2 if unreadable.
    Lint(lint::LintArgs),
    /// Contract-test an API's upstream: call every operation with the document's examples and
    /// check statuses and response schemas; exit 1 if any fails (JUnit XML with --junit).
    Test(contract::TestArgs),
    /// List APIs and move them through their lifecycle.
    Apis(Resource<apis::Action>),
    /// An API's revisions (its changelog): list, diff, propose, publish (docs/versions.md).
    Revisions(Resource<revisions::Action>),
    /// Developers: list, get, create, update.
    Developers(Resource<developers::Action>),
    /// Apps: list, get, create, update.
    Apps(Resource<apps::Action>),
    /// Organisations: members and roles, invitations, and the apps they own.
    Organisations(Resource<organisations::Action>),
    /// Subscriptions: list, get, create, update (change plan), approve.
    Subscriptions(Resource<subscriptions::Action>),
    /// Products: list, get, create, update, delete.
    Products(Resource<products::Action>),
    /// Plans: list, get, create, update, delete.
    Plans(Resource<plans::Action>),
    /// API keys: create, list, get, revoke, disable, enable, rotate.
    Keys(Resource<keys::Action>),
    /// Admin tokens of named principals, each with a role: create, list, revoke (owners only).
    AdminTokens(Resource<admin_tokens::Action>),
    /// The audit trail, newest first, filtered and paged.
    Audit {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        filter: audit::Filter,
    },
    /// Usage report.
    Usage {
        #[command(flatten)]
        admin: AdminArgs,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        filter: usage::Filter,
    },
}

/// A resource command: where the admin API is, how to print, and what to do.
#[derive(Debug, Args)]
pub struct Resource<A: Subcommand> {
    #[command(flatten)]
    admin: AdminArgs,
    #[command(flatten)]
    out: OutputArgs,
    #[command(subcommand)]
    action: A,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the admin API.
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_URL", default_value = "http://127.0.0.1:8081")]
    pub admin_url: String,
    /// Admin bearer token; defaults to the `admin-token` file that `gatehouse dev` wrote in
    /// the data dir.
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The data dir of `gatehouse dev` (relative to the working directory).
    #[arg(long, global = true, env = "GATEHOUSE_DATA_DIR", default_value = ".gatehouse")]
    pub data_dir: PathBuf,
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Dev(args) => crate::dev::run(args).await,
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Admin { action } => crate::serve::bootstrap::run(action).await,
        Command::Doctor(args) => crate::doctor::run(args).await,
        Command::Apply { admin, file, force } => config::apply(&admin.client()?, &file, force).await,
        Command::Export { admin, output } => config::export(&admin.client()?, output.as_deref()).await,
        Command::Lint(args) => lint::run(&args),
        Command::Test(args) => contract::run(&args).await,
        Command::Apis(r) => apis::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Revisions(r) => revisions::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Developers(r) => developers::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Apps(r) => apps::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Organisations(r) => organisations::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Subscriptions(r) => subscriptions::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Products(r) => products::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Plans(r) => plans::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Keys(r) => keys::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::AdminTokens(r) => admin_tokens::run(&r.admin.client()?, r.action, r.out.output).await,
        Command::Audit { admin, out, filter } => audit::run(&admin.client()?, &filter, out.output).await,
        Command::Usage { admin, out, filter } => usage::run(&admin.client()?, &filter, out.output).await,
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
                        "no admin token: pass --token, set GATEHOUSE_ADMIN_TOKEN, or run `gatehouse dev` here to create {}",
                        path.display()
                    ))
                })?
            }
        };
        Ok(client::AdminClient::new(&self.admin_url, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn output_flag_is_accepted_after_the_action() {
        let cli = Cli::try_parse_from(["gatehouse", "developers", "list", "-o", "json"]).map_err(|e| e.to_string());
        assert!(cli.is_ok(), "{cli:?}");
    }
}
