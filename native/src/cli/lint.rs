//! `gatehouse lint FILE`: the core's lint rules on a local file, offline, with no admin API
//! (the same report `POST /v1/apis/lint` answers; rules in docs/lint.md).
//!
//! Exit status: 0 when nothing of error severity was found, 1 when something was (or, with
//! `--strict`, a warning), 2 when the file cannot be read or parsed. Findings are printed
//! either way, so a CI log shows why a build failed.

use std::path::PathBuf;

use clap::Args;
use gatehouse_core::openapi::{lint, LintReport, Severity};
use serde_json::Value;

use super::client::CliError;
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The OpenAPI document (3.0, 3.1 or Swagger 2.0; JSON or YAML); `-` reads standard input.
    pub file: PathBuf,
    /// Fail on warnings too, not only on errors.
    #[arg(long)]
    pub strict: bool,
    /// How to print the report: table, json, yaml or csv.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

const COLUMNS: &[Column] = &[
    ("SEVERITY", Cell::Field("/severity")),
    ("RULE", Cell::Field("/rule")),
    ("POINTER", Cell::Field("/pointer")),
    ("MESSAGE", Cell::Field("/message")),
];

pub fn run(args: &LintArgs) -> Result<(), CliError> {
    let shown = args.file.display();
    let text = read(&args.file).map_err(|e| CliError::Input(format!("cannot read {shown}: {e}")))?;
    let report = lint(&text).map_err(|problem| {
        let at = if problem.pointer.is_empty() { String::new() } else { format!(" at {}", problem.pointer) };
        CliError::Input(format!("{shown}{at}: {}", problem.message))
    })?;
    let answer = serde_json::to_value(&report).unwrap_or(Value::Null);
    match args.output {
        Format::Table => {
            if !report.findings.is_empty() {
                output::list(&answer["findings"], COLUMNS, Format::Table)?;
            }
            println!("{}", summary(&report));
        }
        Format::Csv => output::list(&answer["findings"], COLUMNS, Format::Csv)?,
        format => output::raw(&answer, format)?,
    }
    verdict(&report, args.strict)
}

/// The file, or standard input for `-` (`curl … | gatehouse lint -`).
fn read(file: &std::path::Path) -> std::io::Result<String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
        return Ok(text);
    }
    std::fs::read_to_string(file)
}

/// `2 errors, 1 warning, 0 info`, and a note when the document was Swagger 2.0.
fn summary(report: &LintReport) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    let mut line =
        format!("{}, {}, {} info", plural(report.errors, "error"), plural(report.warnings, "warning"), report.infos);
    if report.converted_from_swagger2 {
        line.push_str(" (Swagger 2.0, converted to OpenAPI 3.0.3: pointers refer to the converted form)");
    }
    line
}

/// Whether the findings fail the run: errors always, warnings with `--strict`.
fn verdict(report: &LintReport, strict: bool) -> Result<(), CliError> {
    let failing = match report.worst() {
        Some(Severity::Error) => true,
        Some(Severity::Warning) => strict,
        _ => false,
    };
    if failing {
        let why = if report.errors > 0 { "errors" } else { "warnings (--strict)" };
        return Err(CliError::Findings(format!("lint failed: {}, counting {why}", summary(report))));
    }
    Ok(())
}
