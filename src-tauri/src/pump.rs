//! Keeps the tray and the window in step with the engine: engine events refresh the tray and
//! go to the window; finished requests have the usage writer commit, then today's counters are
//! re-read and the window told.

use std::time::Duration;

use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::events::{RequestFinished, UsageChanged};
use crate::state::SharedState;
use crate::tray;
use switchyard_core::engine::EngineEvent;

/// Starts both loops for the app's lifetime.
pub fn start(app: &tauri::AppHandle, state: &SharedState) {
    pump_events(app.clone(), state.clone());
    follow_usage(app.clone(), state.clone());
}

/// Forwards engine events to the tray and the window.
fn pump_events(app: tauri::AppHandle, state: SharedState) {
    let mut rx = state.engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(EngineEvent::RequestFinished(record)) => {
                    let row = state.engine.live_row(*record);
                    let _ = RequestFinished { row }.emit(&app);
                    state.stored.notify_one();
                }
                Ok(
                    EngineEvent::ProfileChanged(_)
                    | EngineEvent::PausedChanged(_)
                    | EngineEvent::ConfigChanged,
                ) => tray::refresh(&app, &state),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("missed {n} engine events");
                    state.stored.notify_one();
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// How often today's counters are re-read without a request of ours: the day rolls over, and
/// another process (`switchyard serve` on the same data dir) may be writing too.
const USAGE_POLL: Duration = Duration::from_secs(60);

/// After requests finish: have the writer commit them (it batches for up to 250 ms), re-read
/// today's counters, then tell the tray and the window. A burst of requests is one pass.
fn follow_usage(app: tauri::AppHandle, state: SharedState) {
    tauri::async_runtime::spawn(async move {
        let mut ours = true;
        loop {
            if ours && let Err(err) = state.engine.flush_usage().await {
                tracing::warn!(%err, "the usage writer did not flush");
            }
            let before = state.today();
            if let Err(err) = state.refresh_today().await {
                tracing::warn!(%err, "could not read today's usage");
            }
            if ours || state.today() != before {
                tray::refresh(&app, &state);
                let _ = UsageChanged {
                    status: state.status(),
                }
                .emit(&app);
            }
            ours = tokio::time::timeout(USAGE_POLL, state.stored.notified())
                .await
                .is_ok();
        }
    });
}
