//! The response cache (issue 19, item 4): an answer kept and replayed for an identical
//! request, without calling the backend. Off unless `[cache] enabled = true` and the
//! profile's `cache = true`.
//!
//! - [`key`]: what makes two requests identical (the key is a 128-bit XXH3).
//! - [`convert`]: one stored answer served in the other shape (a stored stream to a
//!   non-streaming request, a stored JSON answer to a streaming one).
//! - `store`: the SQLite side, the `response_cache` table of the usage database (schema
//!   version 4), written by a thread of its own.
//!
//! **What is stored** is the answer as the client got it, in the shape it got it: the
//! Messages JSON, or the SSE bytes of a stream (without the pings the gateway added). A hit
//! of the same shape replays those bytes exactly (a stream has the same events, byte for
//! byte, as the original client received them); the other shape is converted at the hit.
//! Only complete answers are stored: an error, a cancelled or cut-off stream, an `error`
//! event, and any stop reason other than `end_turn`, `tool_use`, `max_tokens` and
//! `stop_sequence` (`pause_turn` and `refusal` ask for a different next request, not the
//! same answer again) are never cached.
//!
//! **The request path never waits for the disk.** An in-memory index (key → age, size,
//! last use) says whether there is an answer; only then is its body read, on the blocking
//! pool, with a read-only connection. A new answer is visible at once (the index holds it in
//! memory until the writer thread has committed it), so a client that repeats a request
//! right away already gets the hit; the writer commits it and evicts, off the request path.
//! Answers waiting for the writer take at most 64 MiB and 256 entries (a slow disk): past
//! that, a new answer is simply not cached.
//!
//! **Eviction**: an entry older than `ttl_s` is never served, and the writer deletes
//! expired ones every minute; when the entries take more than `max_mib` (body sizes plus a
//! row's overhead), the expired and then the least recently used go first. Last use is
//! kept in memory only (a hit writes nothing); after a restart the order is by age. One
//! answer may take at most a quarter of `max_mib` and never more than 16 MiB: a stream is
//! collected on the side as it is relayed, and past that it is simply not kept.

mod convert;
mod key;
mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use bytes::{Bytes, BytesMut};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::anthropic::{StopReason, Usage};
use crate::config::CacheConfig;
use crate::usage::{UsageError, UsageStore};

pub use convert::{ConvertError, message_to_sse, sse_to_message};
pub use key::{Target, key};

/// The header every answer of a profile with caching on carries: `hit` or `miss`.
pub const CACHE_HEADER: &str = "x-switchyard-cache";

/// One answer may take at most this much (and at most a quarter of `max_mib`).
pub const MAX_ENTRY_BYTES: u64 = 16 << 20;

/// What a row costs besides its body (key, times, counts, names), counted towards `max_mib`.
const ROW_OVERHEAD: u64 = 128;

/// Stores queued for the writer at most; beyond, an answer is simply not cached.
const QUEUE: usize = 256;

/// Memory the answers waiting for the writer may take (they are served from memory until
/// written); beyond, new answers are not cached until the writer catches up (a slow disk).
const PENDING_MAX_BYTES: u64 = 64 << 20;

/// Read-only connections kept for hits (more are opened when busier, then closed).
const READERS_KEPT: usize = 4;

/// Whether an answer that stopped for `reason` may be replayed: a finished turn, a tool call,
/// a cut at `max_tokens` or a stop sequence. `pause_turn` (a server tool wants the turn
/// continued), `refusal`, a context-window stop and an unknown reason are not kept.
pub fn cacheable_stop(reason: Option<StopReason>) -> bool {
    matches!(
        reason,
        Some(
            StopReason::EndTurn
                | StopReason::ToolUse
                | StopReason::MaxTokens
                | StopReason::StopSequence
        )
    )
}

/// Whether a complete (non-streaming) Messages answer may be cached: a `message` whose stop
/// reason [`cacheable_stop`] accepts. Reads only those two fields.
pub fn cacheable_json(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: Option<String>,
        stop_reason: Option<StopReason>,
    }
    serde_json::from_slice::<Head>(body)
        .is_ok_and(|h| h.kind.as_deref() == Some("message") && cacheable_stop(h.stop_reason))
}

/// The shape a stored answer has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A Messages response body.
    Json,
    /// The SSE bytes of a stream.
    Sse,
}

impl Shape {
    fn as_str(self) -> &'static str {
        match self {
            Shape::Json => "json",
            Shape::Sse => "sse",
        }
    }

    fn from_stored(text: &str) -> Option<Shape> {
        match text {
            "json" => Some(Shape::Json),
            "sse" => Some(Shape::Sse),
            _ => None,
        }
    }
}

/// One answer: its bytes as the client got them (a stream's as the chunks were relayed) and
/// the original's usage, for the usage row of a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAnswer {
    pub shape: Shape,
    pub parts: Vec<Bytes>,
    pub usage: Usage,
}

impl CachedAnswer {
    pub fn len(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes in one piece.
    pub fn joined(&self) -> Bytes {
        match self.parts.as_slice() {
            [one] => one.clone(),
            parts => {
                let mut out = BytesMut::with_capacity(self.len());
                for part in parts {
                    out.extend_from_slice(part);
                }
                out.freeze()
            }
        }
    }

    /// The body for a request that streams (`stream`) or not: the stored bytes when the
    /// shape matches, else converted.
    pub fn body_for(&self, stream: bool) -> Result<Bytes, ConvertError> {
        match (self.shape, stream) {
            (Shape::Sse, true) | (Shape::Json, false) => Ok(self.joined()),
            (Shape::Sse, false) => sse_to_message(&self.joined()).map(Bytes::from),
            (Shape::Json, true) => message_to_sse(&self.joined()).map(Bytes::from),
        }
    }
}

/// What the index says about a key.
pub enum Probe {
    Miss,
    /// Not yet written by the writer: the answer is here, in memory.
    Ready(Arc<CachedAnswer>),
    /// In the database: read it with [`ResponseCache::read`] (blocking).
    Stored,
}

struct Meta {
    created_ms: i64,
    used_ms: i64,
    size: u64,
    /// Set until the writer has committed the answer.
    pending: Option<Arc<CachedAnswer>>,
}

#[derive(Default)]
struct Index {
    entries: HashMap<u128, Meta>,
    /// The sum of the entries' sizes.
    bytes: u64,
    /// The part of it not yet written (held in memory).
    pending_bytes: u64,
}

impl Index {
    fn insert(&mut self, key: u128, meta: Meta) {
        self.bytes = self.bytes.saturating_add(meta.size);
        if meta.pending.is_some() {
            self.pending_bytes = self.pending_bytes.saturating_add(meta.size);
        }
        if let Some(old) = self.entries.insert(key, meta) {
            self.forget(&old);
        }
    }

    fn remove(&mut self, key: u128) -> Option<Meta> {
        let meta = self.entries.remove(&key)?;
        self.forget(&meta);
        Some(meta)
    }

    fn forget(&mut self, meta: &Meta) {
        self.bytes = self.bytes.saturating_sub(meta.size);
        if meta.pending.is_some() {
            self.pending_bytes = self.pending_bytes.saturating_sub(meta.size);
        }
    }

    /// The writer has committed `key`'s answer: from now on it is read from the database.
    fn written(&mut self, key: u128) {
        if let Some(meta) = self.entries.get_mut(&key)
            && meta.pending.take().is_some()
        {
            self.pending_bytes = self.pending_bytes.saturating_sub(meta.size);
        }
    }

    fn is_pending(&self, key: u128, answer: &Arc<CachedAnswer>) -> bool {
        self.entries
            .get(&key)
            .and_then(|m| m.pending.as_ref())
            .is_some_and(|p| Arc::ptr_eq(p, answer))
    }

    /// Removes what must go (from the index; the caller deletes the rows) and returns it:
    /// every expired entry when `sweep`, and while the entries take more than `max` bytes,
    /// the expired and then the least recently used. Entries not yet written stay (the
    /// writer is about to store them).
    fn evict(&mut self, now_ms: i64, ttl_ms: i64, max: u64, sweep: bool) -> Vec<u128> {
        let expired = |m: &Meta| now_ms.saturating_sub(m.created_ms) >= ttl_ms;
        let mut out = Vec::new();
        if sweep {
            out.extend(
                self.entries
                    .iter()
                    .filter(|(_, m)| m.pending.is_none() && expired(m))
                    .map(|(k, _)| *k),
            );
            for key in &out {
                self.remove(*key);
            }
        }
        if self.bytes > max {
            let mut order: Vec<(bool, i64, u128)> = self
                .entries
                .iter()
                .filter(|(_, m)| m.pending.is_none())
                .map(|(k, m)| (!expired(m), m.used_ms, *k))
                .collect();
            order.sort_unstable();
            for (_, _, key) in order {
                if self.bytes <= max {
                    break;
                }
                self.remove(key);
                out.push(key);
            }
        }
        out
    }
}

/// What the writer thread and the request path share.
struct Shared {
    index: Mutex<Index>,
    ttl_ms: AtomicI64,
    max_bytes: AtomicU64,
}

impl Shared {
    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ttl_ms(&self) -> i64 {
        self.ttl_ms.load(Ordering::Relaxed)
    }

    fn max_bytes(&self) -> u64 {
        self.max_bytes.load(Ordering::Relaxed)
    }
}

/// The response cache of a running engine (see the module).
pub struct ResponseCache {
    shared: Arc<Shared>,
    tx: SyncSender<store::Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
}

impl ResponseCache {
    /// Open the cache in the usage database at `path` (creating or upgrading it), load the
    /// index of what it holds, drop what `config` no longer allows, and start the writer.
    pub fn open(path: &Path, config: &CacheConfig) -> Result<Arc<ResponseCache>, UsageError> {
        let conn = UsageStore::open(path)?.into_connection();
        let shared = Arc::new(Shared {
            index: Mutex::new(Index::default()),
            ttl_ms: AtomicI64::new(0),
            max_bytes: AtomicU64::new(0),
        });
        set_limits(&shared, config);
        let loaded = store::load(&conn, &shared, crate::usage::now_ms()).map_err(|source| {
            crate::usage::UsageError::Sqlite {
                path: path.to_owned(),
                source,
            }
        })?;
        if loaded > 0 {
            tracing::info!(entries = loaded, "response cache loaded");
        }
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-cache".into())
            .spawn(move || store::run(conn, rx, &thread_shared))
            .map_err(|_| UsageError::WriterStopped)?;
        Ok(Arc::new(ResponseCache {
            shared,
            tx,
            thread: Mutex::new(Some(thread)),
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
        }))
    }

    /// Use a new config's TTL and size limit from now on (a lower limit evicts at the next
    /// store or sweep).
    pub fn configure(&self, config: &CacheConfig) {
        set_limits(&self.shared, config);
    }

    /// The most one answer may take, in bytes.
    pub fn entry_cap(&self) -> usize {
        let cap = (self.shared.max_bytes() / 4).min(MAX_ENTRY_BYTES);
        usize::try_from(cap).unwrap_or(usize::MAX)
    }

    /// Answers kept (written or about to be) and the bytes they take.
    pub fn stats(&self) -> (usize, u64) {
        let index = self.shared.index();
        (index.entries.len(), index.bytes)
    }

    /// Whether there is a fresh answer for `key` (no I/O; marks it used).
    pub fn probe(&self, key: u128, now_ms: i64) -> Probe {
        let ttl_ms = self.shared.ttl_ms();
        let mut index = self.shared.index();
        let Some(meta) = index.entries.get_mut(&key) else {
            return Probe::Miss;
        };
        if now_ms.saturating_sub(meta.created_ms) >= ttl_ms {
            return Probe::Miss;
        }
        meta.used_ms = now_ms;
        match &meta.pending {
            Some(answer) => Probe::Ready(answer.clone()),
            None => Probe::Stored,
        }
    }

    /// The stored answer for `key`, from the database (blocking: call it on the blocking
    /// pool). `None` when it went meanwhile (evicted) or cannot be read.
    pub fn read(&self, key: u128) -> Option<CachedAnswer> {
        let conn = {
            let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
            readers.pop()
        };
        let conn = match conn {
            Some(conn) => conn,
            None => match Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ) {
                Ok(conn) => conn,
                Err(err) => {
                    tracing::warn!(%err, "cannot read the response cache");
                    return None;
                }
            },
        };
        let answer = read_answer(&conn, key);
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.len() < READERS_KEPT {
            readers.push(conn);
        }
        match answer {
            Ok(answer) => answer,
            Err(err) => {
                tracing::warn!(%err, "cannot read the response cache");
                None
            }
        }
    }

    /// Keep `answer` for `key`: visible to the next request at once, written to the
    /// database by the writer thread. Too large an answer, or a writer that cannot keep up,
    /// means the answer is simply not cached.
    pub fn store(&self, key: u128, answer: CachedAnswer, backend: &str, upstream_model: &str) {
        let len = answer.len();
        if answer.is_empty() || len > self.entry_cap() {
            return;
        }
        let now = crate::usage::now_ms();
        let answer = Arc::new(answer);
        let size = len as u64 + ROW_OVERHEAD;
        {
            let mut index = self.shared.index();
            if index.pending_bytes.saturating_add(size) > PENDING_MAX_BYTES {
                tracing::debug!("response cache writer behind: an answer was not cached");
                return;
            }
            index.insert(
                key,
                Meta {
                    created_ms: now,
                    used_ms: now,
                    size,
                    pending: Some(answer.clone()),
                },
            );
        }
        let msg = store::Msg::Store(Box::new(store::Entry {
            key,
            created_ms: now,
            answer: answer.clone(),
            backend: backend.to_owned(),
            upstream_model: upstream_model.to_owned(),
        }));
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.tx.try_send(msg) {
            let mut index = self.shared.index();
            if index.is_pending(key, &answer) {
                index.remove(key);
            }
            tracing::debug!("response cache writer busy: an answer was not cached");
        }
    }

    /// Block until every answer stored before this call is in the database.
    pub fn flush(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(store::Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Write what is queued and stop the writer (blocking; later calls do nothing).
    pub fn shutdown(&self) {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.tx.send(store::Msg::Stop);
            if thread.join().is_err() {
                tracing::error!("the response cache writer thread panicked");
            }
        }
    }
}

fn set_limits(shared: &Shared, config: &CacheConfig) {
    let ttl_ms = i64::try_from(config.ttl_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    shared.ttl_ms.store(ttl_ms, Ordering::Relaxed);
    shared
        .max_bytes
        .store(config.max_bytes(), Ordering::Relaxed);
}

fn read_answer(conn: &Connection, key: u128) -> rusqlite::Result<Option<CachedAnswer>> {
    let mut stmt = conn.prepare_cached(
        "SELECT shape, body, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
         FROM response_cache WHERE key = ?1",
    )?;
    let row = stmt
        .query_row([key.to_be_bytes()], |row| {
            let count = |i: usize| -> rusqlite::Result<u64> {
                Ok(u64::try_from(row.get::<_, i64>(i)?).unwrap_or(0))
            };
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                Usage {
                    input_tokens: count(2)?,
                    output_tokens: count(3)?,
                    cache_read_input_tokens: count(4)?,
                    cache_creation_input_tokens: count(5)?,
                },
            ))
        })
        .optional()?;
    Ok(row.and_then(|(shape, body, usage)| {
        Some(CachedAnswer {
            shape: Shape::from_stored(&shape)?,
            parts: vec![Bytes::from(body)],
            usage,
        })
    }))
}

#[cfg(test)]
mod tests;
