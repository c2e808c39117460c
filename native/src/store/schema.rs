//! The SQLite schema and its migrations, tracked with `PRAGMA user_version` so opening an
//! older file upgrades it in place and opening a newer one is refused rather than misread.

use rusqlite::Connection;

/// Migration `i` moves a database from version `i` to `i + 1`. Append only; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE records (
        seq    INTEGER PRIMARY KEY AUTOINCREMENT,
        kind   TEXT NOT NULL,
        id     TEXT NOT NULL,
        parent TEXT,
        body   TEXT NOT NULL,
        UNIQUE (kind, id)
    );
    CREATE INDEX records_by_parent ON records (kind, parent);
    CREATE TABLE uniques (
        kind  TEXT NOT NULL,
        value TEXT NOT NULL,
        id    TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    CREATE INDEX uniques_by_holder ON uniques (kind, id);
    CREATE TABLE rollups (
        minute       INTEGER NOT NULL,
        api_id       TEXT NOT NULL,
        operation_id TEXT NOT NULL,
        key_id       TEXT NOT NULL,
        app_id       TEXT NOT NULL,
        developer_id TEXT NOT NULL,
        requests     INTEGER NOT NULL,
        s1xx INTEGER NOT NULL, s2xx INTEGER NOT NULL, s3xx INTEGER NOT NULL,
        s4xx INTEGER NOT NULL, s5xx INTEGER NOT NULL,
        bytes_in     INTEGER NOT NULL,
        bytes_out    INTEGER NOT NULL,
        cache_hits   INTEGER NOT NULL,
        outcomes     TEXT NOT NULL,
        latency      TEXT NOT NULL,
        PRIMARY KEY (minute, api_id, operation_id, key_id, app_id, developer_id)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        at      INTEGER NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        targets TEXT NOT NULL
    );
"#,
    r#"
    -- Usage batch ids already added (Repo::add_usage_batch), so a redelivery adds nothing.
    CREATE TABLE usage_batches (
        batch_id    TEXT PRIMARY KEY,
        rollups     INTEGER NOT NULL
    ) WITHOUT ROWID;
"#,
    r#"
    -- Quota counts of the native gateway (store/counters.rs): saved behind every flush, or
    -- before the call for exact quotas, and loaded at start-up. Burst state is not kept.
    CREATE TABLE quota_counters (
        counter      TEXT PRIMARY KEY,
        window_start INTEGER NOT NULL,
        used         INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX quota_counters_by_expiry ON quota_counters (expires_at);
"#,
    r#"
    -- Each key's latest usage minute, kept by every rollup write (key listings show "last
    -- used"). A table of one small row per key rather than an index on rollups (key_id,
    -- minute): a flush touches a few pages of it, where such an index took one page per key
    -- (a flush of 100 rollups went from 0.5 to 1.3 ms; benches/portal_reads.rs).
    CREATE TABLE key_last_seen (
        key_id TEXT PRIMARY KEY,
        minute INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO key_last_seen (key_id, minute)
        SELECT key_id, MAX(minute) FROM rollups WHERE key_id <> '' GROUP BY key_id;
    -- Who called an API in a window (the callers list), read from this narrow index instead
    -- of the wide rollup rows; it grows in time order within each API, so a flush appends.
    CREATE INDEX rollups_by_api ON rollups (api_id, minute, developer_id, app_id, requests);
"#,
    r#"
    -- Requests per end user (a bearer token's `sub`), as a JSON object like `outcomes`.
    ALTER TABLE rollups ADD COLUMN end_users TEXT NOT NULL DEFAULT '{}';
"#,
    r#"
    -- Hashes of the owner tokens `gatehouse admin bootstrap` issued (`gatehouse serve`); the
    -- tokens themselves are shown once and never stored.
    CREATE TABLE admin_tokens (
        hash       TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
"#,
    r#"
    -- The audit trail's newer facts (role, client address, reason, details) as the whole
    -- entry's JSON; rows written before keep it NULL and read from their columns. Indexes for
    -- GET /v1/audit's filters by actor and by time (newest first is by seq, the primary key).
    ALTER TABLE audit ADD COLUMN entry TEXT;
    CREATE INDEX audit_by_actor ON audit (actor, seq);
    CREATE INDEX audit_by_at ON audit (at, seq);
"#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: usize = MIGRATIONS.len();

/// Sets the connection up (WAL, so readers never wait for the writer) and migrates.
pub fn prepare(conn: &mut Connection) -> rusqlite::Result<Result<(), String>> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > CURRENT_VERSION {
        return Ok(Err(format!("database schema v{version} is newer than this build (v{CURRENT_VERSION})")));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(Ok(()))
}
