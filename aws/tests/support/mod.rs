//! Test harness for DynamoDB: one moto server per test process (started here unless
//! `GATEHOUSE_TEST_DYNAMODB_ENDPOINT` names one already running), and fresh tables per test.
//! A missing moto is a failure with instructions, never a skip.
#![allow(dead_code)]

pub mod api_gateway;

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use gatehouse_aws::{create_tables, DynamoRepo, DynamoTables};

pub const ENDPOINT_ENV: &str = "GATEHOUSE_TEST_DYNAMODB_ENDPOINT";

fn moto_binary() -> String {
    if let Ok(bin) = std::env::var("GATEHOUSE_MOTO_SERVER") {
        return bin;
    }
    let venv = format!("{}/.cache/gatehouse/venv/bin/python", std::env::var("HOME").unwrap_or_default());
    if std::path::Path::new(&venv).exists() {
        // Serial, as scripts/test-aws.sh runs it (see scripts/moto-serial.py for why).
        return format!("{venv} {}/../scripts/moto-serial.py", env!("CARGO_MANIFEST_DIR"));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.exists());
    match on_path {
        Some(found) => found.to_string_lossy().into_owned(),
        None => panic!(
            "moto_server not found (venv {venv} or PATH): run scripts/test-aws.sh, which installs \
             moto[server]==5.2.5, or set {ENDPOINT_ENV} to a running DynamoDB emulator"
        ),
    }
}

/// Starts moto on a free port with a watchdog shell that stops it when this process exits.
fn start_moto() -> String {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let script = format!(
        "{bin} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill $m 2>/dev/null",
        bin = moto_binary(),
        parent = std::process::id()
    );
    // The watchdog shell outlives this process on purpose (it stops moto when we are gone);
    // nothing here waits for it.
    #[allow(clippy::zombie_processes)]
    Command::new("sh").arg("-c").arg(script).stdin(Stdio::null()).spawn().expect("sh");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start on 127.0.0.1:{port}; run scripts/test-aws.sh (it installs moto[server]==5.2.5 \
             into ~/.cache/gatehouse/venv) or set {ENDPOINT_ENV}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("http://127.0.0.1:{port}")
}

pub fn endpoint() -> String {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| std::env::var(ENDPOINT_ENV).unwrap_or_else(|_| start_moto())).clone()
}

/// Client settings for the emulator, to add to (e.g. an interceptor) before building.
pub fn config() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "static"))
}

pub fn client() -> Client {
    Client::from_conf(config().build())
}

/// Table names unique to this test in this process.
pub fn tables() -> DynamoTables {
    static N: AtomicU32 = AtomicU32::new(0);
    let tag = format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    DynamoTables { catalog: format!("catalog-{tag}"), usage: format!("usage-{tag}") }
}

/// A `DynamoRepo` over freshly created tables.
pub async fn fresh_repo() -> DynamoRepo {
    let (client, tables) = (client(), tables());
    create_tables(&client, &tables).await.expect("create tables");
    DynamoRepo::new(client, tables)
}

/// The window summaries' heads of `hour` in the usage `table` (`tail#<hour>`, `s#<window>`), in
/// sort-key order.
pub async fn window_summary_heads(
    table: &str,
    hour: i64,
) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = client()
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :s)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("tail#{hour:015}")))
        .expression_attribute_values(":s", AttributeValue::S("s#".into()))
        .send()
        .await
        .expect("window summaries");
    out.items.unwrap_or_default()
}
