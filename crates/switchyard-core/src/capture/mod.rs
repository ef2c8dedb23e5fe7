//! The request inspector's captures, off by default: per profile (`capture = true`) or for a
//! while (`CaptureWindow`: the next N requests or M minutes, from the app or `switchyard
//! capture on`). A captured request keeps what the client sent, each attempt upstream and its
//! answer, what the client received, the routing and the timings (`record.rs`); credentials
//! never (`redact.rs`). The recorder builds it during the request (`trace.rs`) and hands it
//! to a bounded queue; a thread of its own compresses and stores it in the usage database
//! (`store.rs`), so capturing never waits on I/O and a full queue drops the capture, never
//! the request.

mod error;
mod record;
mod redact;
mod store;
mod trace;

use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use error::CaptureOpError;
pub use record::{
    Attempt, Capture, CaptureSummary, ClientRequest, ClientResponse, Header, TimedChunk, Timings,
    UpstreamResponse,
};
pub use redact::{REDACTED, is_credential};
pub use store::{CaptureError, Selection, delete, export_jsonl, get, list, open};
pub use trace::{MAX_BYTES, Pending, Trace};

use crate::config::CaptureConfig;
use crate::usage::UsageError;

/// The longest capture window (a day): capture is for looking at something, not a log.
pub const MAX_WINDOW_MINUTES: u32 = 24 * 60;

/// Captures waiting for the writer; past this, new ones are dropped (and counted).
const QUEUE: usize = 64;

/// Capture for a while, whatever the profile says: until a time, and/or for a number of
/// requests. Checked once per request without a lock.
#[derive(Debug, Default)]
pub struct CaptureWindow {
    /// Unix ms until which requests are captured (0: no window).
    until_ms: AtomicI64,
    /// Requests left to capture in the window (-1: no count).
    left: AtomicI64,
}

/// The capture window as the app shows it.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaptureWindowState {
    pub until_ms: Option<i64>,
    pub requests_left: Option<i64>,
}

impl CaptureWindow {
    /// Capture the next `requests` requests (if given) within `for_ms` from `now_ms`.
    pub fn open(&self, now_ms: i64, for_ms: i64, requests: Option<u32>) {
        self.left
            .store(requests.map_or(-1, i64::from), Ordering::Relaxed);
        self.until_ms
            .store(now_ms.saturating_add(for_ms.max(1)), Ordering::Release);
    }

    pub fn close(&self) {
        self.until_ms.store(0, Ordering::Release);
    }

    pub fn state(&self, now_ms: i64) -> CaptureWindowState {
        let until = self.until_ms.load(Ordering::Acquire);
        let left = self.left.load(Ordering::Relaxed);
        match until > now_ms && left != 0 {
            true => CaptureWindowState {
                until_ms: Some(until),
                requests_left: (left >= 0).then_some(left),
            },
            false => CaptureWindowState {
                until_ms: None,
                requests_left: None,
            },
        }
    }

    /// Whether this request is captured by the window (taking one from its count).
    pub fn take(&self, now_ms: i64) -> bool {
        if self.until_ms.load(Ordering::Acquire) <= now_ms {
            return false;
        }
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match left {
                -1 => Some(-1),
                0 => None,
                n => Some(n - 1),
            })
            .is_ok()
    }
}

/// The capture store of a running engine: the writer's queue and what it dropped.
pub struct Captures {
    tx: SyncSender<store::Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    path: std::path::PathBuf,
    dropped: AtomicU64,
    stored: AtomicU64,
    pub window: CaptureWindow,
}

impl Captures {
    /// Open the store in the usage database at `path` (creating or upgrading it) and start
    /// its writer, which deletes what `config` no longer keeps.
    pub fn open(path: &Path, config: &CaptureConfig) -> Result<Arc<Captures>, UsageError> {
        let conn = store::open(path)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let config = config.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-capture".into())
            .spawn(move || store::run(conn, rx, config))
            .map_err(|_| UsageError::WriterStopped)?;
        Ok(Arc::new(Captures {
            tx,
            thread: Mutex::new(Some(thread)),
            path: path.to_owned(),
            dropped: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            window: CaptureWindow::default(),
        }))
    }

    /// Capture every request for `minutes` (and at most `requests` of them, if given).
    pub fn start(&self, minutes: u32, requests: Option<u32>) -> Result<(), CaptureOpError> {
        if minutes == 0 || minutes > MAX_WINDOW_MINUTES || requests == Some(0) {
            return Err(CaptureOpError::BadWindow);
        }
        let now = crate::usage::now_ms();
        self.window.open(now, i64::from(minutes) * 60_000, requests);
        Ok(())
    }

    /// The database file the captures are in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hand a finished capture to the writer; `false` when the queue was full and it was
    /// dropped (the request itself is never held up).
    pub fn submit(&self, capture: Pending) -> bool {
        match self.tx.try_send(store::Msg::Store(Box::new(capture))) {
            Ok(()) => {
                self.stored.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        "the capture queue is full: captures were dropped (the requests were not)"
                    );
                }
                false
            }
        }
    }

    /// Captures dropped because the writer could not keep up.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Captures handed to the writer.
    pub fn submitted(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Use a new retention and size cap (applied at once).
    pub fn configure(&self, config: &CaptureConfig) {
        let _ = self.tx.try_send(store::Msg::Configure(config.clone()));
    }

    /// Wait until what was submitted so far is stored (tests, export after a request).
    pub fn flush(&self) {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(store::Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }
}

impl Drop for Captures {
    fn drop(&mut self) {
        let _ = self.tx.send(store::Msg::Stop);
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

/// The capture state the app shows.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaptureStatus {
    pub available: bool,
    pub window: CaptureWindowState,
    /// Profiles that capture every request (`capture = true`).
    pub profiles: Vec<String>,
    /// Captures dropped because the writer could not keep up (since start).
    pub dropped: u64,
}

/// A new capture id: the start time in hex then random hex, so ids sort by time.
pub fn new_id(now_ms: i64) -> String {
    use rand::Rng;
    let random: u32 = rand::rng().random();
    format!("{now_ms:011x}{random:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_down_and_ends_at_its_time() {
        let window = CaptureWindow::default();
        assert!(!window.take(1_000));
        window.open(1_000, 60_000, Some(2));
        assert_eq!(window.state(1_000).requests_left, Some(2));
        assert!(window.take(1_001) && window.take(1_002));
        assert!(!window.take(1_003), "two requests, then no more");
        assert_eq!(window.state(1_003).until_ms, None);
        window.open(1_000, 60_000, None);
        assert!(window.take(60_999));
        assert!(!window.take(61_000), "the time is up");
        window.open(1_000, 60_000, None);
        window.close();
        assert!(!window.take(2_000));
    }

    fn capture_at(id: &str, ms: i64, body: bytes::Bytes) -> Pending {
        use crate::usage::test_support::{priced, req};
        let record = priced(&req(ms, "m", "b")).record;
        Trace::new(
            std::time::Instant::now(),
            "/v1/messages",
            &http::HeaderMap::new(),
            &body,
        )
        .finish(id.to_owned(), &record)
    }

    fn capture(id: &str) -> Pending {
        capture_at(id, crate::usage::now_ms(), bytes::Bytes::from_static(b"{}"))
    }

    /// Old captures go at the retention; the oldest go when the size cap is passed.
    #[test]
    fn retention_and_the_size_cap_delete_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.db");
        let captures = Captures::open(&path, &CaptureConfig::default()).unwrap();
        let now = crate::usage::now_ms();
        assert!(captures.submit(capture_at("old", now - 8 * 86_400_000, "{}".into())));
        assert!(captures.submit(capture("new")));
        captures.flush();
        let conn = open(&path).unwrap();
        assert_eq!(list(&conn, 0).unwrap().len(), 2);
        // A week's retention (the default) applies at the next sweep: a new config is one.
        captures.configure(&CaptureConfig::default());
        captures.flush();
        let ids: Vec<String> = list(&conn, 0).unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["new"]);
        // 1 MiB cap: 600 KB bodies that pack to ~450 KB, three of them: the oldest go.
        captures.configure(&CaptureConfig {
            retention_days: 7,
            max_mib: 1,
        });
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            // xorshift over 64 printable characters: zstd cannot pack it below 3/4.
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1);
            let noise: Vec<u8> = (0..600_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                        [(x >> 58) as usize]
                })
                .collect();
            assert!(captures.submit(capture_at(id, now + 60_000 + i as i64, noise.into())));
            captures.flush();
        }
        let ids: Vec<String> = list(&conn, 0).unwrap().into_iter().map(|c| c.id).collect();
        assert!(
            !ids.contains(&"new".to_owned()) && ids.ends_with(&["b".to_owned(), "c".to_owned()]),
            "{ids:?}"
        );
        let total: i64 = conn
            .query_row("SELECT sum(size) FROM captures", [], |r| r.get(0))
            .unwrap();
        assert!(total <= 1 << 20, "{total}");
    }

    /// A writer that cannot write (another connection holds the database's write lock)
    /// makes the queue fill: further captures are dropped and counted, and `submit` returns
    /// at once instead of waiting.
    #[test]
    fn a_full_queue_drops_captures_not_requests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.db");
        let captures = Captures::open(&path, &CaptureConfig::default()).unwrap();
        let blocker = rusqlite::Connection::open(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let taken = (0..QUEUE * 3)
            .filter(|i| captures.submit(capture(&format!("c{i:03}"))))
            .count();
        // The queue, plus the batch the writer took before it met the lock.
        assert!(taken <= QUEUE + store::BATCH, "{taken}");
        assert_eq!(captures.dropped() as usize, QUEUE * 3 - taken);
        blocker.execute_batch("ROLLBACK").unwrap();
        captures.flush();
        let conn = open(&path).unwrap();
        let stored = list(&conn, 0).unwrap().len();
        assert!(stored >= 1 && stored <= taken, "{stored} of {taken}");
        assert_eq!(get(&conn, "c000").unwrap().requested_model, "m");
    }

    #[test]
    fn ids_sort_by_time() {
        let (a, b) = (new_id(1_700_000_000_000), new_id(1_700_000_000_001));
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), 19);
    }
}
