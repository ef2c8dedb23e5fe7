//! Overview screen: gateway status, profile switch, pause, recent requests.

use switchyard_core::engine::GatewayStatus;
use switchyard_core::usage::RequestRow;
use tauri::State;

use crate::error::CmdResult;
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn get_status(state: State<'_, SharedState>) -> CmdResult<GatewayStatus> {
    state.engine.refresh_today().await?;
    Ok(state.engine.status())
}

#[tauri::command]
#[specta::specta]
pub async fn set_active_profile(
    state: State<'_, SharedState>,
    name: String,
) -> CmdResult<GatewayStatus> {
    // The engine's ProfileChanged event refreshes the tray.
    state.engine.set_active_profile(&name).await?;
    Ok(state.engine.status())
}

#[tauri::command]
#[specta::specta]
pub async fn set_paused(state: State<'_, SharedState>, paused: bool) -> CmdResult<GatewayStatus> {
    state.engine.set_paused(paused);
    Ok(state.engine.status())
}

/// The latest requests from the usage database, newest first (at most 500).
#[tauri::command]
#[specta::specta]
pub async fn recent_requests(
    state: State<'_, SharedState>,
    limit: u32,
) -> CmdResult<Vec<RequestRow>> {
    Ok(state.engine.usage_history()?.recent(limit).await?)
}
