//! Versioned migrations tracked with `PRAGMA user_version`. Each step runs in its own
//! transaction with the version bump, so a crash leaves the file at a whole version.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::UsageError;

/// Version 1: one row per request.
const V1: &str = "
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    client TEXT,
    session_id TEXT,
    requested_model TEXT NOT NULL,
    profile TEXT NOT NULL,
    backend TEXT,
    backend_kind TEXT,
    upstream_model TEXT,
    stream INTEGER NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    error_type TEXT,
    error_message TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    ttft_ms INTEGER,
    latency_ms INTEGER NOT NULL,
    cost_usd REAL,
    attempts INTEGER NOT NULL
);
CREATE INDEX requests_started ON requests(started_at_ms);
";

/// Version 2: local/cloud and cloud-equivalent cost (savings), indexes for the GUI's filters,
/// and hourly and daily rollups the aggregate queries read instead of scanning every request.
const V2: &str = "
ALTER TABLE requests ADD COLUMN local INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN cloud_equiv_usd REAL;
CREATE INDEX requests_model ON requests(requested_model, started_at_ms);
CREATE INDEX requests_backend ON requests(backend, started_at_ms);
CREATE INDEX requests_status ON requests(status, started_at_ms);
CREATE INDEX requests_session ON requests(session_id, started_at_ms);
CREATE TABLE usage_hourly (
    hour_ms INTEGER NOT NULL,
    requested_model TEXT NOT NULL,
    backend TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    local INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    unpriced INTEGER NOT NULL,
    cloud_equiv_usd REAL NOT NULL,
    saved_usd REAL NOT NULL,
    latency_ms INTEGER NOT NULL,
    PRIMARY KEY (hour_ms, requested_model, backend, profile, status, local)
) WITHOUT ROWID;
INSERT INTO usage_hourly
SELECT (started_at_ms / 3600000) * 3600000, requested_model, COALESCE(backend, ''), profile,
       status, 0, count(*), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
       sum(cache_write_tokens), COALESCE(sum(cost_usd), 0), sum(cost_usd IS NULL), 0, 0,
       sum(latency_ms)
FROM requests GROUP BY 1, 2, 3, 4, 5;
CREATE TABLE usage_daily (
    day_ms INTEGER NOT NULL,
    requested_model TEXT NOT NULL,
    backend TEXT NOT NULL,
    profile TEXT NOT NULL,
    status TEXT NOT NULL,
    local INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    unpriced INTEGER NOT NULL,
    cloud_equiv_usd REAL NOT NULL,
    saved_usd REAL NOT NULL,
    latency_ms INTEGER NOT NULL,
    PRIMARY KEY (day_ms, requested_model, backend, profile, status, local)
) WITHOUT ROWID;
INSERT INTO usage_daily
SELECT (hour_ms / 86400000) * 86400000, requested_model, backend, profile, status, local,
       sum(requests), sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
       sum(cache_write_tokens), sum(cost_usd), sum(unpriced), sum(cloud_equiv_usd),
       sum(saved_usd), sum(latency_ms)
FROM usage_hourly GROUP BY 1, 2, 3, 4, 5, 6;
";

/// Version 3: which Claude Code agent sent a request (sessions and subagents) and which
/// rule routed it.
const V3: &str = "
ALTER TABLE requests ADD COLUMN agent_id TEXT;
ALTER TABLE requests ADD COLUMN parent_agent_id TEXT;
ALTER TABLE requests ADD COLUMN rule TEXT;
ALTER TABLE requests ADD COLUMN notes TEXT;
";

/// Version 4: the response cache (`cache/`), in this file so that it survives restarts and
/// goes wherever the usage history goes; and which requests it answered. The key is the
/// 16-byte XXH3-128 of what decides the answer (see `cache/key.rs`); `shape` says whether
/// `body` is a Messages JSON answer (`json`) or the SSE stream the client got (`sse`). The
/// token counts are the original answer's, for the usage row of a hit (priced as saved).
/// A plain rowid table: bodies run to megabytes, which WITHOUT ROWID tables handle badly.
const V4: &str = "
ALTER TABLE requests ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
CREATE TABLE response_cache (
    key BLOB NOT NULL PRIMARY KEY,
    created_at_ms INTEGER NOT NULL,
    shape TEXT NOT NULL,
    body BLOB NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    backend TEXT NOT NULL,
    upstream_model TEXT NOT NULL
);
";

/// Version 5: which key of a backend's pool a request was sent with (by name).
const V5: &str = "
ALTER TABLE requests ADD COLUMN key_name TEXT;
";

/// Version 6: the request inspector's captures (`capture/`): zstd-compressed JSON, linked
/// from their usage row by `capture_id`.
const V6: &str = "
ALTER TABLE requests ADD COLUMN capture_id TEXT;
CREATE TABLE captures (
    id TEXT NOT NULL PRIMARY KEY,
    started_at_ms INTEGER NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX captures_started ON captures (started_at_ms);
";

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Refuse a database written by a newer Switchyard (before anything touches the file).
pub(super) fn check_not_newer(conn: &Connection, path: &Path) -> Result<i64, UsageError> {
    let found = user_version(conn).map_err(|source| sqlite(path, source))?;
    if found > SCHEMA_VERSION {
        return Err(UsageError::TooNew {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// Bring the database to [`SCHEMA_VERSION`], backing up a non-empty one first.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), UsageError> {
    let found = check_not_newer(conn, path)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if found > 0 {
        backup(conn, path, found)?;
    } else {
        // Only takes effect before the first table exists.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
            .map_err(|source| sqlite(path, source))?;
    }
    if found == 0 {
        tracing::info!(path = %path.display(), version = MIGRATIONS.len(), "created the usage database");
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(|source| sqlite(path, source))?;
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", i as i64 + 1))
            .and_then(|()| tx.commit())
            .map_err(|source| sqlite(path, source))?;
        if found > 0 {
            tracing::info!(path = %path.display(), version = i + 1, "upgraded the usage database");
        }
    }
    Ok(())
}

/// `usage.sqlite3` → `usage.sqlite3.v1.bak` (a consistent copy, WAL included).
fn backup_path(path: &Path, version: i64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".v{version}.bak"));
    PathBuf::from(name)
}

fn backup(conn: &Connection, path: &Path, version: i64) -> Result<(), UsageError> {
    let mut target = backup_path(path, version);
    let mut n = 1;
    while target.exists() {
        let mut name = backup_path(path, version).into_os_string();
        name.push(format!(".{n}"));
        target = PathBuf::from(name);
        n += 1;
    }
    // VACUUM INTO would create the copy world-readable; it accepts an empty file instead, so
    // the copy is born owner-only.
    crate::fsmode::create_private_file(&target).map_err(|source| UsageError::BackupFile {
        path: target.clone(),
        source,
    })?;
    conn.execute("VACUUM INTO ?1", [target.to_string_lossy()])
        .map_err(|source| {
            // An empty file must not pass for a backup (nor push the next one to `.1`).
            let _ = std::fs::remove_file(&target);
            UsageError::Backup {
                path: path.to_owned(),
                source,
            }
        })?;
    tracing::info!(backup = %target.display(), "backed up the usage database before upgrading it");
    Ok(())
}

pub(super) fn sqlite(path: &Path, source: rusqlite::Error) -> UsageError {
    UsageError::Sqlite {
        path: path.to_owned(),
        source,
    }
}
