//! The setup checklist: adapters over the engine's first-hour operations (engines found,
//! adding one, mapping Claude Code's model families).

use serde::Serialize;
use specta::Type;
use switchyard_core::discovery::EngineKind;
use switchyard_core::engine::{BackendInfo, FoundEngine, ProfileView};
use switchyard_core::setup::FamilyModels;
use tauri::State;

use crate::error::CmdResult;
use crate::state::SharedState;

/// What the checklist shows when it opens.
#[derive(Debug, Clone, Serialize, Type)]
pub struct SetupState {
    /// This start wrote the default config.
    pub first_run: bool,
    /// Engines that answered, each with a suggested opus / sonnet / haiku mapping.
    pub engines: Vec<FoundEngine>,
    /// The base URLs that were probed (shown when none answered).
    pub tried: Vec<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn setup_state(state: State<'_, SharedState>) -> CmdResult<SetupState> {
    Ok(SetupState {
        first_run: state.engine.first_run(),
        engines: state.engine.discover_engines().await,
        tried: state.engine.discovery_urls(),
    })
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
