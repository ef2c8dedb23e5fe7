//! The request inspector: capture on for a while or off, a capture whole, delete, replay. The
//! engine does the work (`Engine::start_capture`, `capture`, `replay`, ...); these commands
//! only pass arguments and translate errors.

use switchyard_core::capture::{Capture, CaptureStatus};
use switchyard_core::engine::{ReplayReport, ReplayTo};
use tauri::State;

use crate::error::CmdResult;
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn capture_status(state: State<'_, SharedState>) -> CmdResult<CaptureStatus> {
    Ok(state.engine.capture_status())
}

/// Capture every request for `minutes` (at most `requests` of them, if given).
#[tauri::command]
#[specta::specta]
pub async fn start_capture(
    state: State<'_, SharedState>,
    minutes: u32,
    requests: Option<u32>,
) -> CmdResult<CaptureStatus> {
    Ok(state.engine.start_capture(minutes, requests)?)
}

#[tauri::command]
#[specta::specta]
pub async fn stop_capture(state: State<'_, SharedState>) -> CmdResult<CaptureStatus> {
    Ok(state.engine.stop_capture())
}

/// One capture, whole (the inspector's four views come from it).
#[tauri::command]
#[specta::specta]
pub async fn get_capture(state: State<'_, SharedState>, id: String) -> CmdResult<Capture> {
    Ok(state.engine.capture(&id).await?)
}

/// Delete one capture, or all of them (`id` absent); how many went.
#[tauri::command]
#[specta::specta]
pub async fn delete_captures(state: State<'_, SharedState>, id: Option<String>) -> CmdResult<u32> {
    let gone = state.engine.delete_captures(id).await?;
    Ok(u32::try_from(gone).unwrap_or(u32::MAX))
}

/// Send a captured request again to another target or profile; both answers side by side.
#[tauri::command]
#[specta::specta]
pub async fn replay_capture(
    state: State<'_, SharedState>,
    id: String,
    to: ReplayTo,
) -> CmdResult<ReplayReport> {
    Ok(state.engine.replay(&id, to).await?)
}
