//! The cache's SQLite side: loading the index at start, and the writer thread that commits
//! new answers, evicts, and sweeps expired ones every minute. It has its own connection to
//! the usage database (WAL: the usage writer, readers and it work side by side; a write
//! waits up to the busy timeout for the other writer's transaction).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::Duration;

use rusqlite::{Connection, params};

use super::{CachedAnswer, Index, Meta, ROW_OVERHEAD, Shared};

/// How often expired answers are deleted when nothing else happens.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

pub(super) enum Msg {
    Store(Box<Entry>),
    Flush(SyncSender<()>),
    Stop,
}

pub(super) struct Entry {
    pub key: u128,
    pub created_ms: i64,
    pub answer: Arc<CachedAnswer>,
    pub backend: String,
    pub upstream_model: String,
}

/// Fill the index from the table; rows past their TTL or over the size limit (as the config
/// says now) are deleted. Returns the entries kept.
pub(super) fn load(conn: &Connection, shared: &Shared, now_ms: i64) -> rusqlite::Result<usize> {
    let mut index = Index::default();
    let mut bad: Vec<Vec<u8>> = Vec::new();
    {
        let mut stmt =
            conn.prepare("SELECT key, created_at_ms, length(body) FROM response_cache")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (key, created_ms, len) = row?;
            match <[u8; 16]>::try_from(key.as_slice()) {
                Ok(bytes) => index.insert(
                    u128::from_be_bytes(bytes),
                    Meta {
                        created_ms,
                        // Last use is not stored: after a restart the oldest go first.
                        used_ms: created_ms,
                        size: u64::try_from(len).unwrap_or(0) + ROW_OVERHEAD,
                        pending: None,
                    },
                ),
                Err(_) => bad.push(key),
            }
        }
    }
    let gone = index.evict(now_ms, shared.ttl_ms(), shared.max_bytes(), true);
    if !gone.is_empty() || !bad.is_empty() {
        let tx = conn.unchecked_transaction()?;
        delete(&tx, &gone)?;
        for key in &bad {
            tx.execute("DELETE FROM response_cache WHERE key = ?1", [key])?;
        }
        tx.commit()?;
    }
    let kept = index.entries.len();
    *shared.index() = index;
    Ok(kept)
}

pub(super) fn run(mut conn: Connection, rx: Receiver<Msg>, shared: &Shared) {
    loop {
        match rx.recv_timeout(SWEEP_EVERY) {
            Ok(Msg::Store(entry)) => write(&mut conn, shared, &entry),
            Ok(Msg::Flush(ack)) => {
                let _ = ack.send(());
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => sweep(&mut conn, shared),
        }
    }
}

/// Commit one answer (unless a newer one for the same key replaced it meanwhile), with the
/// evictions its size calls for, in one transaction.
fn write(conn: &mut Connection, shared: &Shared, entry: &Entry) {
    let now = crate::usage::now_ms();
    let gone = {
        let mut index = shared.index();
        if !index.is_pending(entry.key, &entry.answer) {
            return;
        }
        index.evict(now, shared.ttl_ms(), shared.max_bytes(), false)
    };
    let answer = &entry.answer;
    let body = answer.joined();
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let result = conn.transaction().and_then(|tx| {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO response_cache (key, created_at_ms, shape, body,
             input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, backend,
             upstream_model) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            entry.key.to_be_bytes(),
            entry.created_ms,
            answer.shape.as_str(),
            &body[..],
            to_i64(answer.usage.input_tokens),
            to_i64(answer.usage.output_tokens),
            to_i64(answer.usage.cache_read_input_tokens),
            to_i64(answer.usage.cache_creation_input_tokens),
            entry.backend,
            entry.upstream_model,
        ])?;
        delete(&tx, &gone)?;
        tx.commit()
    });
    let mut index = shared.index();
    let written = index.is_pending(entry.key, &entry.answer);
    match result {
        Ok(()) => {
            if written {
                index.written(entry.key);
            }
        }
        Err(err) => {
            // Not kept in memory instead: that memory would have no bound.
            if written {
                index.remove(entry.key);
            }
            tracing::warn!(%err, "could not store an answer in the response cache");
        }
    }
}

/// Delete what expired (and what a lowered size limit no longer fits).
pub(super) fn sweep(conn: &mut Connection, shared: &Shared) {
    let gone = shared.index().evict(
        crate::usage::now_ms(),
        shared.ttl_ms(),
        shared.max_bytes(),
        true,
    );
    if gone.is_empty() {
        return;
    }
    // The freed pages go back to the file system (the database is in incremental
    // auto-vacuum mode), so a cache that emptied does not keep the file at its peak size.
    let result = conn
        .transaction()
        .and_then(|tx| delete(&tx, &gone).and_then(|()| tx.commit()))
        .and_then(|()| conn.execute_batch("PRAGMA incremental_vacuum"));
    if let Err(err) = result {
        tracing::warn!(%err, "could not delete expired answers from the response cache");
    }
}

fn delete(tx: &rusqlite::Transaction<'_>, keys: &[u128]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached("DELETE FROM response_cache WHERE key = ?1")?;
    for key in keys {
        stmt.execute([key.to_be_bytes()])?;
    }
    Ok(())
}
