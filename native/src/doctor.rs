//! `gatehouse doctor`: reads the store directly (no server needed, so it also works when
//! `gatehouse dev` will not start) and lists every record that cannot be decoded.
//!
//! Such records are left out of the gateway's read model, which fails closed (see
//! `gatehouse_core::store::Unreadable`); this is where an operator finds them by id.

use std::path::{Path, PathBuf};

use clap::Args;
use gatehouse_core::store::Repo;

use crate::cli::CliError;
use crate::store::sqlite::SqliteRepo;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The data dir of the instance to check.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = ".gatehouse")]
    pub data_dir: PathBuf,
}

/// Prints one line per unreadable record and fails when there is any.
pub async fn run(args: DoctorArgs) -> Result<(), CliError> {
    let report = check(&args.data_dir).await?;
    for line in &report.problems {
        println!("{line}");
    }
    match report.problems.len() {
        0 => {
            println!("ok: {} records, all readable", report.readable);
            Ok(())
        }
        n => Err(CliError::Usage(format!("{n} unreadable records (left out of the gateway, which refuses them)"))),
    }
}

/// What the store holds, as far as the gateway is concerned.
pub struct Report {
    pub readable: usize,
    /// `unreadable <kind> <id>: <reason>`, one per record.
    pub problems: Vec<String>,
}

pub async fn check(data_dir: &Path) -> Result<Report, CliError> {
    let path = data_dir.join("gatehouse.db");
    if !path.is_file() {
        return Err(CliError::Usage(format!("no store at {}", path.display())));
    }
    let repo = SqliteRepo::open(&path).map_err(|e| CliError::Usage(format!("cannot open {}: {e}", path.display())))?;
    let catalog = repo.snapshot().await.map_err(|e| CliError::Usage(format!("cannot read the store: {e}")))?;
    let readable = catalog.apis.len()
        + catalog.products.len()
        + catalog.plans.len()
        + catalog.developers.len()
        + catalog.apps.len()
        + catalog.subscriptions.len()
        + catalog.keys.len();
    let problems =
        catalog.unreadable.iter().map(|u| format!("unreadable {} {}: {}", u.kind.as_str(), u.id, u.reason)).collect();
    Ok(Report { readable, problems })
}
