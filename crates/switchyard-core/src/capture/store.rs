//! Captures in the usage database (table `captures`, zstd-compressed JSON): the writer thread
//! that stores them off the request path and enforces the retention and the size cap, and the
//! reads the inspector, the export and replay use.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::record::{Capture, CaptureSummary};
use crate::config::CaptureConfig;

/// How often old captures are deleted when nothing else happens.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const DAY_MS: i64 = 86_400_000;
/// zstd's default level: a 90 KB Claude Code request packs to ~15 KB in about a millisecond,
/// off the request path.
const LEVEL: i32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("the capture database failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the capture {id} cannot be read ({detail}); delete it")]
    Corrupt { id: String, detail: String },
    #[error("there is no capture {0} (it may have passed its retention, or been deleted)")]
    NotFound(String),
    #[error("the export could not be written: {0}")]
    Write(String),
}

pub(super) enum Msg {
    Store(Box<super::Pending>),
    Configure(CaptureConfig),
    Flush(SyncSender<()>),
    Stop,
}

fn pack(capture: &Capture) -> Option<Vec<u8>> {
    let json = serde_json::to_vec(capture).ok()?;
    zstd::encode_all(json.as_slice(), LEVEL).ok()
}

fn unpack(id: &str, data: &[u8]) -> Result<Capture, CaptureError> {
    let corrupt = |detail: String| CaptureError::Corrupt {
        id: id.to_owned(),
        detail,
    };
    let json = zstd::decode_all(data).map_err(|e| corrupt(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))
}

/// Captures written in one transaction at most (a burst is stored together).
pub(super) const BATCH: usize = 32;

pub(super) fn run(mut conn: Connection, rx: Receiver<Msg>, mut config: CaptureConfig) {
    // What the table holds, kept here so that a store needs no scan to enforce the cap.
    let mut total = sweep(&conn, &config, crate::usage::now_ms());
    loop {
        let first = match rx.recv_timeout(SWEEP_EVERY) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                total = sweep(&conn, &config, crate::usage::now_ms());
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut batch = Vec::new();
        let mut then = None;
        match first {
            Msg::Store(pending) => batch.push(*pending),
            other => then = Some(other),
        }
        while then.is_none() && batch.len() < BATCH {
            match rx.try_recv() {
                Ok(Msg::Store(pending)) => batch.push(*pending),
                Ok(other) => then = Some(other),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            match store(&mut conn, batch) {
                Ok(added) => {
                    total += added;
                    total = trim_to_size(&conn, &config, total).unwrap_or(total);
                }
                Err(err) => tracing::warn!("captures could not be stored: {err}"),
            }
        }
        match then {
            Some(Msg::Configure(new)) => {
                config = new;
                total = sweep(&conn, &config, crate::usage::now_ms());
            }
            Some(Msg::Flush(ack)) => {
                let _ = ack.send(());
            }
            Some(Msg::Stop) => return,
            Some(Msg::Store(_)) | None => {}
        }
    }
}

/// Store a batch in one transaction; the bytes it added.
fn store(conn: &mut Connection, batch: Vec<super::Pending>) -> rusqlite::Result<i64> {
    let tx = conn.transaction()?;
    let mut added = 0;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO captures (id, started_at_ms, size, data) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for pending in batch {
            let capture = pending.into_capture();
            let Some(data) = pack(&capture) else {
                continue;
            };
            let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
            insert.execute(params![capture.id, capture.started_at_ms, size, data])?;
            added += size;
        }
    }
    tx.commit()?;
    Ok(added)
}

/// Delete what passed its retention, then the oldest until the cap holds; the bytes left.
fn sweep(conn: &Connection, config: &CaptureConfig, now_ms: i64) -> i64 {
    let cutoff = now_ms.saturating_sub(i64::from(config.retention_days).saturating_mul(DAY_MS));
    let result = conn
        .execute("DELETE FROM captures WHERE started_at_ms < ?1", [cutoff])
        .and_then(|_| {
            conn.query_row("SELECT coalesce(sum(size), 0) FROM captures", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .and_then(|total| trim_to_size(conn, config, total));
    match result {
        Ok(total) => total,
        Err(err) => {
            tracing::warn!("old captures could not be deleted: {err}");
            0
        }
    }
}

/// Delete the oldest captures until `total` fits the cap; the bytes left.
fn trim_to_size(conn: &Connection, config: &CaptureConfig, total: i64) -> rusqlite::Result<i64> {
    let cap = i64::try_from(config.max_mib.saturating_mul(1 << 20)).unwrap_or(i64::MAX);
    if total <= cap {
        return Ok(total);
    }
    let mut left = total;
    let mut stmt = conn.prepare("SELECT id, size FROM captures ORDER BY started_at_ms, id")?;
    let mut doomed = Vec::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    for row in rows {
        let (id, size) = row?;
        if left <= cap {
            break;
        }
        left -= size;
        doomed.push(id);
    }
    let tx = conn.unchecked_transaction()?;
    for id in &doomed {
        tx.execute("DELETE FROM captures WHERE id = ?1", [id])?;
    }
    tx.commit()?;
    Ok(left)
}

/// One capture, whole.
pub fn get(conn: &Connection, id: &str) -> Result<Capture, CaptureError> {
    let data: Option<Vec<u8>> = conn
        .query_row("SELECT data FROM captures WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match data {
        Some(data) => unpack(id, &data),
        None => Err(CaptureError::NotFound(id.to_owned())),
    }
}

/// Captures started at or after `since_ms`, oldest first.
pub fn list(conn: &Connection, since_ms: i64) -> Result<Vec<CaptureSummary>, CaptureError> {
    let mut stmt = conn.prepare(
        "SELECT id, started_at_ms, size FROM captures WHERE started_at_ms >= ?1 ORDER BY started_at_ms, id",
    )?;
    let rows = stmt.query_map([since_ms], |r| {
        Ok(CaptureSummary {
            id: r.get(0)?,
            started_at_ms: r.get(1)?,
            stored_bytes: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Delete one capture (`Some(id)`) or all; how many went.
pub fn delete(conn: &Connection, id: Option<&str>) -> Result<usize, CaptureError> {
    Ok(match id {
        Some(id) => conn.execute("DELETE FROM captures WHERE id = ?1", [id])?,
        None => conn.execute("DELETE FROM captures", [])?,
    })
}

/// A connection to the usage database at `path` for reading captures.
pub fn open(path: &Path) -> Result<Connection, crate::usage::UsageError> {
    Ok(crate::usage::UsageStore::open(path)?.into_connection())
}

/// Which captures an export writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    One(String),
    Since(i64),
}

/// Write the selected captures as JSON Lines (one capture per line, oldest first; each
/// record's `id` is what `switchyard replay` takes); how many were written.
pub fn export_jsonl(
    conn: &Connection,
    selection: &Selection,
    out: &mut dyn std::io::Write,
) -> Result<usize, CaptureError> {
    let ids: Vec<String> = match selection {
        Selection::One(id) => vec![id.clone()],
        Selection::Since(ms) => list(conn, *ms)?.into_iter().map(|c| c.id).collect(),
    };
    let mut written = 0;
    for id in ids {
        let capture = get(conn, &id)?;
        let line = serde_json::to_string(&capture).map_err(|err| CaptureError::Corrupt {
            id: id.clone(),
            detail: err.to_string(),
        })?;
        writeln!(out, "{line}").map_err(|err| CaptureError::Write(err.to_string()))?;
        written += 1;
    }
    Ok(written)
}
