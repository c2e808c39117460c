//! `gatehouse audit`: the audit trail, newest first, one page at a time (`--cursor` with the
//! `next` the previous page printed to stderr).

use clap::Args;
use serde_json::Value;

use super::client::{AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Args)]
pub struct Filter {
    /// The principal (`alice`, `developer:dev_…`).
    #[arg(long)]
    pub actor: Option<String>,
    /// An action (`key.revoke`), or a family ending in a dot (`key.`).
    #[arg(long)]
    pub action: Option<String>,
    /// A record id among the entry's targets.
    #[arg(long)]
    pub target: Option<String>,
    /// RFC 3339 or Unix milliseconds, inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 or Unix milliseconds, exclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// Entries per page, 1 to 500.
    #[arg(long)]
    pub limit: Option<u16>,
    /// Where the page starts: the `next` of the previous one.
    #[arg(long)]
    pub cursor: Option<String>,
}

impl Filter {
    /// The query string, each value percent-encoded.
    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let limit = self.limit.map(|l| l.to_string());
        let params = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
            ("limit", &limit),
            ("cursor", &self.cursor),
        ];
        for (name, value) in params {
            if let Some(v) = value {
                query.append_pair(name, v);
            }
        }
        query.finish()
    }
}

const COLUMNS: &[Column] = &[
    ("AT", Cell::Field("/at")),
    ("ACTOR", Cell::Field("/actor")),
    ("ROLE", Cell::Field("/role")),
    ("ACTION", Cell::Field("/action")),
    ("TARGETS", Cell::With(targets)),
    ("FROM", Cell::Field("/from")),
    ("REASON", Cell::Field("/reason")),
];

fn targets(entry: &Value) -> String {
    let ids: Vec<String> = entry["targets"].as_array().into_iter().flatten().map(output::text).collect();
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(",")
    }
}

pub async fn run(client: &AdminClient, filter: &Filter, format: Format) -> Result<(), CliError> {
    let page = client.get(&format!("/v1/audit?{}", filter.query())).await?;
    output::list(&page, COLUMNS, format)?;
    if let (Format::Table, Some(next)) = (format, page["next"].as_str()) {
        eprintln!("older entries: --cursor {next}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_encoded_and_only_the_given_ones_sent() {
        let filter = Filter {
            actor: Some("developer:dev_1".into()),
            action: Some("key.".into()),
            target: None,
            from: Some("2026-01-01T00:00:00+01:00".into()),
            to: None,
            limit: Some(2),
            cursor: None,
        };
        assert_eq!(
            filter.query(),
            "actor=developer%3Adev_1&action=key.&from=2026-01-01T00%3A00%3A00%2B01%3A00&limit=2"
        );
    }
}
