//! [`UsageReader`]: a read-only handle on the usage database for async callers (the desktop
//! app). Reads never block the engine's writer (WAL lets a reader and the writer work at once)
//! and never run on an async worker: every query goes through the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::config::Config;

use super::{
    Filter, HistoryPage, MAX_PAGE_SIZE, RequestRow, SessionSummary, Today, UsageError, UsageFilter,
    UsageStore, UsageSummary, export_csv,
};

/// A lazily opened read-only connection to the usage database. One connection serves the
/// screens' short queries (in turn); an export opens its own so a long export does not hold
/// up the others.
pub struct UsageReader {
    path: PathBuf,
    conn: Mutex<Option<UsageStore>>,
}

impl UsageReader {
    pub fn new(path: PathBuf) -> Arc<Self> {
        Arc::new(UsageReader {
            path,
            conn: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` on the store, on the blocking pool.
    pub async fn query<T, F>(self: &Arc<Self>, f: F) -> Result<T, UsageError>
    where
        T: Send + 'static,
        F: FnOnce(&UsageStore) -> Result<T, UsageError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.query_blocking(f)).await?
    }

    /// Run `f` on the store on this thread (for callers already on the blocking pool).
    pub fn query_blocking<T>(
        &self,
        f: impl FnOnce(&UsageStore) -> Result<T, UsageError>,
    ) -> Result<T, UsageError> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let store = match conn.take() {
            Some(store) => store,
            None => UsageStore::open_read_only(&self.path)?,
        };
        let result = f(&store);
        // After an error, reopen next time: the file may have been replaced (a restored
        // backup, a new run).
        if result.is_ok() {
            *conn = Some(store);
        }
        result
    }

    /// One page of the history, newest first.
    pub async fn history_page(
        self: &Arc<Self>,
        filter: UsageFilter,
        page: u32,
        page_size: u32,
    ) -> Result<HistoryPage, UsageError> {
        self.query(move |s| s.history_page(&filter, page, page_size))
            .await
    }

    /// The latest `limit` requests (at most [`MAX_PAGE_SIZE`]), newest first.
    pub async fn recent(self: &Arc<Self>, limit: u32) -> Result<Vec<RequestRow>, UsageError> {
        let limit = limit.min(MAX_PAGE_SIZE);
        self.query(move |s| s.recent(&Filter::default(), limit, 0))
            .await
    }

    pub async fn summary(
        self: &Arc<Self>,
        filter: UsageFilter,
        config: Arc<Config>,
    ) -> Result<UsageSummary, UsageError> {
        self.query(move |s| s.summary(&filter, &config)).await
    }

    /// Claude Code sessions with a request in the filter's range, newest first.
    pub async fn sessions(
        self: &Arc<Self>,
        filter: UsageFilter,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, UsageError> {
        self.query(move |s| s.sessions(&filter.store_filter(), limit))
            .await
    }

    pub async fn today(self: &Arc<Self>) -> Result<Today, UsageError> {
        self.query(UsageStore::today).await
    }

    /// Export what the filter selects (its text search aside) to `path` as CSV, on a
    /// connection of its own. Returns the rows written.
    pub async fn export_csv(&self, filter: UsageFilter, path: PathBuf) -> Result<u64, UsageError> {
        let db = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let store = UsageStore::open_read_only(&db)?;
            export_csv(&store, &filter.store_filter(), &path)
        })
        .await?
    }
}
