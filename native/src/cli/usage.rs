//! `gatehouse usage`: request counts, status classes and latency percentiles from the stored
//! per-minute rollups.

use clap::Args;
use serde_json::Value;

use super::client::{AdminClient, CliError};
use super::output::{self, Cell, Column, Format};

#[derive(Debug, Args)]
pub struct Filter {
    #[arg(long)]
    pub api_id: Option<String>,
    #[arg(long)]
    pub operation_id: Option<String>,
    #[arg(long)]
    pub key_id: Option<String>,
    #[arg(long)]
    pub app_id: Option<String>,
    #[arg(long)]
    pub developer_id: Option<String>,
    /// RFC 3339 or Unix milliseconds, inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// RFC 3339 or Unix milliseconds, exclusive.
    #[arg(long)]
    pub to: Option<String>,
    /// minute, hour, day or total.
    #[arg(long, default_value = "hour")]
    pub group_by: String,
    /// A row per api, operation, key, app or developer within each period.
    #[arg(long)]
    pub by: Option<String>,
}

impl Filter {
    /// The query string, each value percent-encoded (an RFC 3339 offset holds `+` and `:`).
    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("group_by", &self.group_by);
        let params = [
            ("api_id", &self.api_id),
            ("operation_id", &self.operation_id),
            ("key_id", &self.key_id),
            ("app_id", &self.app_id),
            ("developer_id", &self.developer_id),
            ("from", &self.from),
            ("to", &self.to),
            ("by", &self.by),
        ];
        for (name, value) in params {
            if let Some(v) = value {
                query.append_pair(name, v);
            }
        }
        query.finish()
    }
}

/// The total is the second column: `awk 'NR==2 {print $2}'`.
const COLUMNS: &[Column] = &[
    ("PERIOD", Cell::With(period)),
    ("REQUESTS", Cell::With(|r| count(&r["requests"]))),
    ("2XX", Cell::With(|r| count(&r["status_classes"][1]))),
    ("4XX", Cell::With(|r| count(&r["status_classes"][3]))),
    ("5XX", Cell::With(|r| count(&r["status_classes"][4]))),
    ("P50_MS", Cell::With(|r| ms(&r["p50_us"]))),
    ("P95_MS", Cell::With(|r| ms(&r["p95_us"]))),
    ("P99_MS", Cell::With(|r| ms(&r["p99_us"]))),
    ("CACHED", Cell::With(|r| count(&r["cache_hits"]))),
];

fn period(row: &Value) -> String {
    row["bucket"].as_str().unwrap_or("total").to_string()
}

fn count(v: &Value) -> String {
    v.as_u64().unwrap_or(0).to_string()
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("-".to_string(), |us| format!("{:.1}", us / 1000.0))
}

/// With `-o csv`, the admin API's own export (every figure of each row); otherwise the
/// report, with a GROUP column when it is broken down.
pub async fn run(client: &AdminClient, filter: &Filter, format: Format) -> Result<(), CliError> {
    if format == Format::Csv {
        print!("{}", client.get_text(&format!("/v1/usage/export.csv?{}", filter.query())).await?);
        return Ok(());
    }
    let report = client.get(&format!("/v1/usage?{}", filter.query())).await?;
    if filter.by.is_some() {
        let mut columns: Vec<Column> = vec![COLUMNS[0], ("GROUP", Cell::Field("/group"))];
        columns.extend_from_slice(&COLUMNS[1..]);
        return output::list(&report, &columns, format);
    }
    output::list(&report, COLUMNS, format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        let filter = Filter {
            api_id: Some("api_1".into()),
            operation_id: None,
            key_id: None,
            app_id: None,
            developer_id: None,
            from: Some("2026-01-01T00:00:00+01:00".into()),
            to: None,
            group_by: "day".into(),
            by: None,
        };
        assert_eq!(filter.query(), "group_by=day&api_id=api_1&from=2026-01-01T00%3A00%3A00%2B01%3A00");
    }
}
