//! The usage history as the window sees it: a read-only handle on the engine's SQLite store
//! (the same file `switchyard serve` writes), and the mapping from store rows to IPC rows.
//!
//! Reads never block the engine's writer (WAL lets a reader and the writer work at once) and
//! never run on the UI thread: every query goes through [`UsageReader::query`], which runs it
//! on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::usage::{self, PricedRecord, RequestStatus, UsageError, UsageStore};

use crate::error::{CmdResult, CommandError, ErrorKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Ok,
    Error,
    Cancelled,
}

impl From<RowStatus> for RequestStatus {
    fn from(s: RowStatus) -> Self {
        match s {
            RowStatus::Ok => RequestStatus::Ok,
            RowStatus::Error => RequestStatus::Error,
            RowStatus::Cancelled => RequestStatus::Cancelled,
        }
    }
}

impl From<RequestStatus> for RowStatus {
    fn from(s: RequestStatus) -> Self {
        match s {
            RequestStatus::Ok => RowStatus::Ok,
            RequestStatus::Error => RowStatus::Error,
            RequestStatus::Cancelled => RowStatus::Cancelled,
        }
    }
}

impl RowStatus {
    /// The store keeps the status as text; anything unexpected (a newer writer's status)
    /// is shown as an error rather than hidden.
    fn parse(s: &str) -> Self {
        match s {
            "ok" => RowStatus::Ok,
            "cancelled" => RowStatus::Cancelled,
            _ => RowStatus::Error,
        }
    }
}

/// One request as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
pub struct RequestRow {
    /// The store's row id; `None` for a request announced live and not yet written.
    pub id: Option<i64>,
    pub started_at_ms: i64,
    pub client: Option<String>,
    pub requested_model: String,
    pub profile: String,
    pub backend: Option<String>,
    pub backend_kind: Option<String>,
    pub upstream_model: Option<String>,
    pub stream: bool,
    pub status: RowStatus,
    pub http_status: u16,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub ttft_ms: Option<u64>,
    pub latency_ms: u64,
    pub attempts: u32,
    /// What the request cost (0 for local backends); `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// What it would have cost at the requested (Claude) model's price; `None` when unknown.
    pub cloud_equivalent_usd: Option<f64>,
    /// Answered by a backend on this machine or the private network.
    pub local: bool,
}

/// Counts are never negative in the store; a corrupt value shows as 0 rather than wrapping.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl From<usage::RequestRow> for RequestRow {
    fn from(r: usage::RequestRow) -> Self {
        Self {
            id: Some(r.id),
            started_at_ms: r.started_at_ms,
            client: r.client,
            requested_model: r.requested_model,
            profile: r.profile,
            backend: r.backend,
            backend_kind: r.backend_kind,
            upstream_model: r.upstream_model,
            stream: r.stream,
            status: RowStatus::parse(&r.status),
            http_status: r.http_status,
            error_type: r.error_type,
            error_message: r.error_message,
            input_tokens: count(r.input_tokens),
            output_tokens: count(r.output_tokens),
            cache_read_tokens: count(r.cache_read_tokens),
            cache_write_tokens: count(r.cache_write_tokens),
            ttft_ms: r.ttft_ms.map(count),
            latency_ms: count(r.latency_ms),
            attempts: r.attempts,
            cost_usd: r.cost_usd,
            cloud_equivalent_usd: r.cloud_equiv_usd,
            local: r.local,
        }
    }
}

impl From<PricedRecord> for RequestRow {
    /// A request just finished, priced the way the writer will price it.
    fn from(p: PricedRecord) -> Self {
        let r = p.record;
        Self {
            id: None,
            started_at_ms: r.started_at_ms,
            client: r.client,
            requested_model: r.requested_model,
            profile: r.profile,
            backend: r.backend,
            backend_kind: r.backend_kind,
            upstream_model: r.upstream_model,
            stream: r.stream,
            status: r.status.into(),
            http_status: r.http_status,
            error_type: r.error_type,
            error_message: r.error_message,
            input_tokens: r.usage.input_tokens,
            output_tokens: r.usage.output_tokens,
            cache_read_tokens: r.usage.cache_read_input_tokens,
            cache_write_tokens: r.usage.cache_creation_input_tokens,
            ttft_ms: r.ttft_ms,
            latency_ms: r.latency_ms,
            attempts: r.attempts,
            cost_usd: p.cost_usd,
            cloud_equivalent_usd: p.cloud_equiv_usd,
            local: p.local,
        }
    }
}

impl From<UsageError> for CommandError {
    fn from(e: UsageError) -> Self {
        let kind = match &e {
            UsageError::TooNew { .. } | UsageError::NeedsUpgrade { .. } => ErrorKind::Unavailable,
            UsageError::WriterStopped => ErrorKind::Engine,
            _ => ErrorKind::Io,
        };
        let message = e.to_string();
        // Messages start lowercase in the engine; the window shows them as sentences.
        let mut chars = message.chars();
        let message = match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect(),
            None => message,
        };
        Self::new(kind, message)
    }
}

/// A lazily opened read-only connection to the usage database. One connection serves the
/// screens' short queries (in turn); an export opens its own so a long export does not hold
/// up the Overview.
pub struct UsageReader {
    path: PathBuf,
    conn: Mutex<Option<UsageStore>>,
}

impl UsageReader {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            conn: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the store, on the blocking pool.
    pub async fn query<T, F>(self: &std::sync::Arc<Self>, f: F) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&UsageStore) -> Result<T, UsageError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.query_blocking(f))
            .await
            .map_err(|e| CommandError::new(ErrorKind::Engine, format!("usage query failed: {e}")))?
    }

    /// Run `f` on the store on this thread (tests, and callers already on the blocking pool).
    pub fn query_blocking<T>(
        &self,
        f: impl FnOnce(&UsageStore) -> Result<T, UsageError>,
    ) -> CmdResult<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_none() {
            *conn = Some(UsageStore::open_read_only(&self.path)?);
        }
        let Some(store) = conn.as_ref() else {
            return Err(CommandError::new(
                ErrorKind::Engine,
                "the usage database is not open",
            ));
        };
        let result = f(store);
        if result.is_err() {
            // Reopen next time: the file may have been replaced (restored backup, new run).
            *conn = None;
        }
        Ok(result?)
    }
}

#[cfg(test)]
mod tests {
    use switchyard_core::anthropic::Usage;
    use switchyard_core::usage::{Filter, UsageRecord};

    use super::*;

    fn record(ms: i64, backend: &str, status: RequestStatus) -> UsageRecord {
        UsageRecord {
            started_at_ms: ms,
            client: Some("claude-cli/2.1.30".into()),
            session_id: Some("s-1".into()),
            requested_model: "claude-sonnet-4-5".into(),
            profile: "local".into(),
            backend: Some(backend.into()),
            backend_kind: Some("ollama".into()),
            upstream_model: Some("qwen2.5-coder:7b".into()),
            stream: true,
            status,
            http_status: if status == RequestStatus::Ok {
                200
            } else {
                529
            },
            error_type: (status == RequestStatus::Error).then(|| "overloaded_error".into()),
            error_message: (status == RequestStatus::Error).then(|| "Overloaded".into()),
            usage: Usage {
                input_tokens: 1200,
                output_tokens: 34,
                cache_read_input_tokens: 500,
                cache_creation_input_tokens: 7,
            },
            ttft_ms: Some(180),
            latency_ms: 950,
            attempts: 2,
        }
    }

    fn priced(r: UsageRecord, local: bool, cost: Option<f64>, equiv: Option<f64>) -> PricedRecord {
        PricedRecord {
            record: r,
            local,
            cost_usd: cost,
            cloud_equiv_usd: equiv,
        }
    }

    #[test]
    fn stored_rows_map_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let mut store = UsageStore::open(&path).unwrap();
        store
            .insert(&[
                priced(
                    record(1_000, "ollama", RequestStatus::Ok),
                    true,
                    Some(0.0),
                    Some(0.0042),
                ),
                priced(
                    record(2_000, "kimi", RequestStatus::Error),
                    false,
                    None,
                    None,
                ),
            ])
            .unwrap();
        drop(store);

        let reader = UsageReader::new(path);
        let rows: Vec<RequestRow> = reader
            .query_blocking(|s| s.recent(&Filter::default(), 10, 0))
            .unwrap()
            .into_iter()
            .map(RequestRow::from)
            .collect();
        assert_eq!(rows.len(), 2);
        // Newest first.
        let (err, ok) = (&rows[0], &rows[1]);
        assert!(ok.id.is_some() && err.id.is_some() && ok.id != err.id);
        assert_eq!(ok.started_at_ms, 1_000);
        assert_eq!(ok.status, RowStatus::Ok);
        assert_eq!(ok.client.as_deref(), Some("claude-cli/2.1.30"));
        assert_eq!(ok.backend.as_deref(), Some("ollama"));
        assert_eq!(ok.upstream_model.as_deref(), Some("qwen2.5-coder:7b"));
        assert_eq!(
            (
                ok.input_tokens,
                ok.output_tokens,
                ok.cache_read_tokens,
                ok.cache_write_tokens
            ),
            (1200, 34, 500, 7)
        );
        assert_eq!(
            (ok.ttft_ms, ok.latency_ms, ok.attempts),
            (Some(180), 950, 2)
        );
        assert!(ok.local);
        assert_eq!(ok.cost_usd, Some(0.0));
        assert_eq!(ok.cloud_equivalent_usd, Some(0.0042));

        assert_eq!(err.status, RowStatus::Error);
        assert_eq!(err.http_status, 529);
        assert_eq!(err.error_type.as_deref(), Some("overloaded_error"));
        assert!(!err.local);
        // Unknown price stays unknown: never 0.
        assert_eq!(err.cost_usd, None);
        assert_eq!(err.cloud_equivalent_usd, None);
    }

    #[test]
    fn live_rows_match_what_the_store_will_show() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let p = priced(
            record(5_000, "kimi", RequestStatus::Cancelled),
            false,
            Some(0.01),
            Some(0.02),
        );
        let live = RequestRow::from(p.clone());
        let mut store = UsageStore::open(&path).unwrap();
        store.insert(&[p]).unwrap();
        let stored = RequestRow::from(
            store
                .recent(&Filter::default(), 1, 0)
                .unwrap()
                .into_iter()
                .next()
                .unwrap(),
        );
        assert_eq!(live.id, None);
        assert_eq!(live.status, RowStatus::Cancelled);
        assert_eq!(RequestRow { id: None, ..stored }, live);
    }

    #[test]
    fn a_missing_database_is_a_readable_error() {
        let dir = tempfile::tempdir().unwrap();
        let reader = UsageReader::new(dir.path().join("nope").join("usage.sqlite3"));
        let err = reader
            .query_blocking(|s| s.totals(&Filter::default()))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(
            err.message.starts_with("Usage database "),
            "{}",
            err.message
        );
        assert!(err.message.contains("usage.sqlite3"), "{}", err.message);
    }
}
