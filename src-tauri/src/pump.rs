//! Keeps the tray and the window in step with the engine: its events refresh the tray and go
//! to the window.

use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::events::{RequestFinished, UsageChanged};
use crate::state::SharedState;
use crate::tray;
use switchyard_core::engine::EngineEvent;

/// Follows the engine's events for the app's lifetime.
pub fn start(app: &tauri::AppHandle, state: &SharedState) {
    let (app, state) = (app.clone(), state.clone());
    let mut rx = state.engine.subscribe();
    tauri::async_runtime::spawn(async move {
        // The tray's status line shows today's counters.
        state.engine.follow_today();
        loop {
            match rx.recv().await {
                Ok(EngineEvent::RequestFinished(record)) => {
                    let row = state.engine.live_row(*record);
                    let _ = RequestFinished { row }.emit(&app);
                }
                Ok(EngineEvent::UsageStored) => {
                    tray::refresh(&app, &state);
                    let status = state.engine.status();
                    let _ = UsageChanged { status }.emit(&app);
                }
                Ok(
                    EngineEvent::ProfileChanged(_)
                    | EngineEvent::PausedChanged(_)
                    | EngineEvent::ConfigChanged,
                ) => tray::refresh(&app, &state),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("missed {n} engine events");
                    tray::refresh(&app, &state);
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}
