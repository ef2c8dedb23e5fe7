//! Model mapping screen: adapters over the engine's profile operations, and a live test
//! through the gateway.

use switchyard_core::engine::{BackendState, ProfileView, RouteTestResult};
use tauri::State;

use crate::error::CmdResult;
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, SharedState>) -> CmdResult<Vec<ProfileView>> {
    Ok(state.engine.profiles())
}

/// Replaces an existing profile's rules and default route.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, SharedState>,
    profile: ProfileView,
) -> CmdResult<ProfileView> {
    let saved = state.engine.save_profile(profile).await?;
    Ok(saved)
}

#[tauri::command]
#[specta::specta]
pub async fn create_profile(state: State<'_, SharedState>, name: String) -> CmdResult<ProfileView> {
    let created = state.engine.create_profile(&name).await?;
    Ok(created)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_profile(state: State<'_, SharedState>, name: String) -> CmdResult<()> {
    state.engine.delete_profile(&name).await?;
    Ok(())
}

/// Each backend now: cooling down, at its rate limit, requests in flight.
#[tauri::command]
#[specta::specta]
pub async fn backend_states(state: State<'_, SharedState>) -> CmdResult<Vec<BackendState>> {
    Ok(state.engine.backend_states())
}

/// Sends a tiny request for `model` through the running gateway (active profile) and
/// reports which backend answered it.
#[tauri::command]
#[specta::specta]
pub async fn test_route(
    state: State<'_, SharedState>,
    model: String,
) -> CmdResult<RouteTestResult> {
    Ok(state.engine.test_route(&model).await?)
}
