//! The setup checklist: adapters over the engine's first-hour operations (engines found,
//! adding one, mapping Claude Code's model families).

use switchyard_core::discovery::EngineKind;
use switchyard_core::engine::{BackendInfo, ProfileView, SetupState};
use switchyard_core::setup::FamilyModels;
use tauri::State;

use crate::error::CmdResult;
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn setup_state(state: State<'_, SharedState>) -> CmdResult<SetupState> {
    Ok(state.engine.setup_state().await)
}

/// Adds a found engine as a backend in one click.
#[tauri::command]
#[specta::specta]
pub async fn add_found_engine(
    state: State<'_, SharedState>,
    base_url: String,
    engine: EngineKind,
) -> CmdResult<BackendInfo> {
    Ok(state.engine.add_found_engine(&base_url, engine).await?)
}

/// Points the profile's opus / sonnet / haiku rules at one backend's models.
#[tauri::command]
#[specta::specta]
pub async fn map_families(
    state: State<'_, SharedState>,
    profile: String,
    backend: String,
    models: FamilyModels,
) -> CmdResult<ProfileView> {
    Ok(state
        .engine
        .map_families(&profile, &backend, models)
        .await?)
}
