//! The request inspector as engine operations: turn capture on for a while or off, read a
//! capture, list and delete them, and replay one (`proxy::replay`). The CLI, the app and the
//! tests call these.

use super::Engine;
use crate::capture::{self, Capture, CaptureError, CaptureOpError, CaptureStatus, CaptureSummary};
use crate::proxy::replay::{self, ReplayReport, ReplayTo};

impl Engine {
    fn captures_store(&self) -> Result<std::sync::Arc<capture::Captures>, CaptureOpError> {
        self.gateway()
            .captures()
            .cloned()
            .ok_or(CaptureOpError::Unavailable)
    }

    async fn with_captures<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T, CaptureError> + Send + 'static,
    ) -> Result<T, CaptureOpError> {
        replay::read(self.captures_store()?, f).await
    }

    /// Capture every request for `minutes` (and at most `requests` of them, if given).
    pub fn start_capture(
        &self,
        minutes: u32,
        requests: Option<u32>,
    ) -> Result<CaptureStatus, CaptureOpError> {
        self.captures_store()?.start(minutes, requests)?;
        Ok(self.capture_status())
    }

    /// End the capture window (profiles with `capture = true` go on capturing).
    pub fn stop_capture(&self) -> CaptureStatus {
        if let Some(store) = self.gateway().captures() {
            store.window.close();
        }
        self.capture_status()
    }

    pub fn capture_status(&self) -> CaptureStatus {
        self.gateway().capture_status()
    }

    /// One capture, whole.
    pub async fn capture(&self, id: &str) -> Result<Capture, CaptureOpError> {
        let id = id.to_owned();
        self.with_captures(move |conn| capture::get(conn, &id))
            .await
    }

    /// Captures started at or after `since_ms`, oldest first.
    pub async fn list_captures(
        &self,
        since_ms: i64,
    ) -> Result<Vec<CaptureSummary>, CaptureOpError> {
        self.with_captures(move |conn| capture::list(conn, since_ms))
            .await
    }

    /// Delete one capture, or all (`None`); how many went.
    pub async fn delete_captures(&self, id: Option<String>) -> Result<usize, CaptureOpError> {
        self.with_captures(move |conn| capture::delete(conn, id.as_deref()))
            .await
    }

    /// Send a captured request again, to `to`, and put both answers side by side.
    pub async fn replay(&self, id: &str, to: ReplayTo) -> Result<ReplayReport, CaptureOpError> {
        replay::replay(self.gateway(), id, to).await
    }
}
