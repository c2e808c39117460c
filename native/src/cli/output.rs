//! How commands print what the admin API answered: a table for people (the default), JSON or
//! YAML for scripts, or the table's columns as CSV for spreadsheets. The JSON and YAML are the
//! API's own answer, unchanged.
//!
//! The table is a few lines of padding rather than a table crate: cells are plain one-line
//! text, and the columns must stay machine-splittable (`awk '{print $1}'` on the id).

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::client::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
    /// The table's columns, written by the `csv` crate (quoting what needs it).
    Csv,
}

#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArgs {
    /// How to print the answer: table, json, yaml or csv.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// What goes in one table cell.
#[derive(Clone, Copy)]
pub enum Cell {
    /// The value at this JSON pointer; `-` when absent or null.
    Field(&'static str),
    /// Computed from the whole record.
    With(fn(&Value) -> String),
}

/// A table column: its header and what goes in it.
pub type Column = (&'static str, Cell);

/// A list answer (`{"items": [...]}`): one row per item.
pub fn list(answer: &Value, columns: &[Column], format: Format) -> Result<(), CliError> {
    let rows = || -> Vec<Vec<String>> { items(answer).iter().map(|item| row(item, columns)).collect() };
    match format {
        Format::Table => {
            print!("{}", table(columns, &rows()));
            Ok(())
        }
        Format::Csv => print_csv(columns, &rows()),
        _ => raw(answer, format),
    }
}

/// Rows under the columns' headers, as CSV on standard output.
fn print_csv(columns: &[Column], rows: &[Vec<String>]) -> Result<(), CliError> {
    let failed = |e: csv::Error| CliError::Refused(format!("cannot write CSV: {e}"));
    let mut writer = csv::Writer::from_writer(std::io::stdout());
    writer.write_record(columns.iter().map(|(name, _)| *name)).map_err(failed)?;
    for row in rows {
        writer.write_record(row).map_err(failed)?;
    }
    writer.flush().map_err(|e| CliError::Refused(format!("cannot write CSV: {e}")))
}

/// A single record: a table of one row.
pub fn one(answer: &Value, columns: &[Column], format: Format) -> Result<(), CliError> {
    match format {
        Format::Table => {
            print!("{}", table(columns, &[row(answer, columns)]));
            Ok(())
        }
        Format::Csv => print_csv(columns, &[row(answer, columns)]),
        _ => raw(answer, format),
    }
}

/// The answer as JSON or YAML; `Table` falls back to JSON for answers with no columns.
pub fn raw(answer: &Value, format: Format) -> Result<(), CliError> {
    let text = match format {
        Format::Yaml => {
            serde_yaml_ng::to_string(answer).map_err(|e| CliError::Refused(format!("cannot render YAML: {e}")))?
        }
        _ => serde_json::to_string_pretty(answer).map(|t| t + "\n").unwrap_or_default(),
    };
    print!("{text}");
    Ok(())
}

pub fn items(list: &Value) -> Vec<Value> {
    list.get("items").or(Some(list)).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// A value as one line of text: strings unquoted, null as `-`.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.replace(['\n', '\t'], " "),
        other => other.to_string(),
    }
}

fn row(item: &Value, columns: &[Column]) -> Vec<String> {
    columns
        .iter()
        .map(|(_, cell)| match cell {
            Cell::Field(pointer) => item.pointer(pointer).map_or_else(|| "-".to_string(), text),
            Cell::With(f) => f(item),
        })
        .map(|s| if s.is_empty() { "-".to_string() } else { s })
        .collect()
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
fn table(columns: &[Column], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| if i == last { c.to_string() } else { format!("{c:<w$}", w = widths[i]) })
            .collect();
        padded.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(columns.iter().map(|(h, _)| *h).collect());
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COLUMNS: &[Column] = &[("ID", Cell::Field("/id")), ("NAME", Cell::Field("/name")), ("N", Cell::With(count))];

    fn count(v: &Value) -> String {
        v["items"].as_array().map_or(0, Vec::len).to_string()
    }

    #[test]
    fn table_columns_line_up_and_the_id_is_the_first_word() {
        let rows = vec![
            row(&json!({"id": "dev_1", "name": "Grace Hopper", "items": [1, 2]}), COLUMNS),
            row(&json!({"id": "dev_22", "name": null}), COLUMNS),
        ];
        let out = table(COLUMNS, &rows);
        assert_eq!(out, "ID      NAME          N\ndev_1   Grace Hopper  2\ndev_22  -             0\n");
        let second = out.lines().nth(1).and_then(|l| l.split_whitespace().next());
        assert_eq!(second, Some("dev_1"));
    }

    #[test]
    fn a_cell_is_always_one_line() {
        assert_eq!(text(&json!("two\nlines")), "two lines");
        assert_eq!(text(&json!(true)), "true");
        assert_eq!(items(&json!({"items": [1]})), vec![json!(1)]);
    }
}
