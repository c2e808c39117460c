//! `gatehouse`: run everything on one machine (`gatehouse dev`) or talk to a running admin API.

use std::process::ExitCode;

use clap::Parser;
use gatehouse_native::cli::{run, Cli, Command};

/// mimalloc instead of the system allocator: a proxied request makes a few dozen small
/// allocations, and glibc's malloc/free took about 12 % of the gateway's CPU under load
/// (bench/README.md); mimalloc's per-thread free lists make them close to free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve` sets its logs up from its config file.
    if !matches!(cli.command, Command::Serve(_)) {
        gatehouse_native::logging::init(cli.verbose);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
