//! The provider's analytics page in the admin area: each view's table and its CSV download
//! hold the same rows, named for people (app names, developer emails), over the chosen range.
#![allow(clippy::unwrap_used)]

mod common;

use common::portal::admin_session;
use common::{text, Harness, START};
use gatehouse_core::store::Repo;
use gatehouse_core::usage::{Rollup, RollupKey, RollupValues};
use serde_json::json;

fn calls(minute: i64, api: &str, app: &str, developer: &str, requests: u64, errors: u64) -> Rollup {
    let key = RollupKey {
        minute,
        api_id: api.into(),
        operation_id: "listPets".into(),
        key_id: format!("key_{app}"),
        app_id: app.into(),
        developer_id: developer.into(),
    };
    let mut values = RollupValues { requests, ..RollupValues::default() };
    values.status_classes = [0, requests - errors, 0, errors, 0];
    (0..requests).for_each(|i| values.latency.record(if i % 2 == 0 { 2_000 } else { 40_000 }));
    Rollup { key, values }
}

/// The rows of the table of view `id` on `html`, cell texts.
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let start = html.find(&format!("<table data-view=\"{id}\">")).unwrap_or_else(|| panic!("view {id}"));
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .map(|row| row.split("<td>").skip(1).map(|cell| cell[..cell.find("</td>").unwrap()].to_owned()).collect())
        .collect()
}

#[tokio::test]
async fn each_view_shows_named_rows_and_its_csv_holds_exactly_those_rows() {
    let h = Harness::new();
    let api = h.pets_api().await;
    let api_id = text(&api.body["id"]);
    h.call("POST", &format!("/v1/apis/{api_id}/lifecycle"), Some(json!({"action": "publish"}))).await;
    let app = h.app("ada@example.com").await;
    let app_name = "Helpdesk";
    h.call("PATCH", &format!("/v1/apps/{app}"), Some(json!({"name": app_name}))).await;
    let developer = text(&h.call("GET", &format!("/v1/apps/{app}"), None).await.body["developer_id"]);
    let minute = START - START.rem_euclid(60_000) - 10 * 60_000;
    h.repo
        .add_rollups(&[
            calls(minute, &api_id, &app, &developer, 10, 2),
            calls(minute + 60_000, &api_id, &app, &developer, 6, 0),
            calls(minute, &api_id, "app_gone", "dev_gone", 3, 3),
            calls(minute - 3 * 86_400_000, &api_id, &app, &developer, 50, 0),
        ])
        .await
        .unwrap();
    let jar = admin_session(&h).await;

    let page = h.browse("GET", "/admin/analytics?range=day", &jar.header(), &[]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let apps = table_rows(&page.html, "apps");
    assert_eq!(apps[0][..3], [app_name.to_owned(), "16".into(), "2".into()], "top consumer first: {apps:?}");
    assert_eq!(apps[1][..3], ["app_gone".to_owned(), "3".into(), "3".into()]);
    let developers = table_rows(&page.html, "developers");
    assert_eq!(developers[0][0], "ada@example.com");
    let errors = table_rows(&page.html, "errors");
    assert_eq!(errors[0][..2], ["Pets listPets".to_owned(), "5".into()]);
    assert_eq!(table_rows(&page.html, "series").iter().map(|r| r[1].parse::<u64>().unwrap()).sum::<u64>(), 19);
    assert!(page.html.contains("id=\"chart-latency\""), "charts are on the page");

    let csv = h.browse("GET", "/admin/analytics.csv?view=apps&range=day", &jar.header(), &[]).await.html;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "app,requests,errors,error_rate_pct,p95_ms,cache_hits,bytes_out");
    let from_csv: Vec<Vec<String>> = lines[1..].iter().map(|l| l.split(',').map(str::to_owned).collect()).collect();
    assert_eq!(from_csv, apps, "the download holds exactly the page's rows");

    let month = h.browse("GET", "/admin/analytics?range=30d", &jar.header(), &[]).await;
    assert_eq!(table_rows(&month.html, "apps")[0][1], "66", "30 days take the older minute in");
    let weeks = table_rows(&month.html, "developer-weeks");
    assert_eq!(weeks.len(), 8);
    assert_eq!(weeks.last().unwrap()[1..], ["1".to_owned(), "2".into()], "ada is new this week; two developers called");
    let unknown = h.browse("GET", "/admin/analytics.csv?view=nope", &jar.header(), &[]).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(h.browse("GET", "/admin/analytics", "", &[]).await.status, 303, "admins only");
}
