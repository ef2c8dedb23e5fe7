//! Backends screen: adapters over the engine's backend operations (list, save, delete with
//! its routes, keys, check) and "Import LiteLLM config…". No validation, HTTP or file reading
//! here: the engine owns them.

use std::path::Path;

use secrecy::SecretString;
use switchyard_core::discovery::{BackendCheck, CheckedModel};
use switchyard_core::engine::{BackendDraft, BackendInfo, BackendRemoval, DeleteMode, Dependent};
use switchyard_core::litellm::ImportReport;
use tauri::State;
use tauri_plugin_dialog::DialogExt;

use crate::error::CmdResult;
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn list_backends(state: State<'_, SharedState>) -> CmdResult<Vec<BackendInfo>> {
    Ok(state.engine.list_backends().await)
}

/// Creates a backend, or replaces the one called `original_id` (which may be renamed: its
/// routes and its key follow).
#[tauri::command]
#[specta::specta]
pub async fn save_backend(
    state: State<'_, SharedState>,
    draft: BackendDraft,
    original_id: Option<String>,
) -> CmdResult<BackendInfo> {
    let saved = state
        .engine
        .save_backend(draft, original_id.as_deref())
        .await?;
    Ok(state.engine.backend_info(&saved.id).await?)
}

/// The routes that use a backend (shown before deleting it).
#[tauri::command]
#[specta::specta]
pub async fn backend_dependents(
    state: State<'_, SharedState>,
    id: String,
) -> CmdResult<Vec<Dependent>> {
    Ok(state.engine.backend_dependents(&id))
}

#[tauri::command]
#[specta::specta]
pub async fn delete_backend(
    state: State<'_, SharedState>,
    id: String,
    mode: DeleteMode,
) -> CmdResult<BackendRemoval> {
    Ok(state.engine.delete_backend(&id, mode).await?)
}

/// Stores the key in the OS keychain (`name`: a key of the backend's pool). The key never
/// comes back over IPC.
#[tauri::command]
#[specta::specta]
pub async fn set_backend_key(
    state: State<'_, SharedState>,
    id: String,
    name: Option<String>,
    key: String,
) -> CmdResult<BackendInfo> {
    Ok(state
        .engine
        .store_backend_key(&id, name, SecretString::from(key))
        .await?)
}

/// Removes a key from the keychain (`name`: a key of the backend's pool, also taken out of
/// its `keys`).
#[tauri::command]
#[specta::specta]
pub async fn delete_backend_key(
    state: State<'_, SharedState>,
    id: String,
    name: Option<String>,
) -> CmdResult<BackendInfo> {
    Ok(state.engine.remove_backend_key(&id, name).await?)
}

/// Checks a saved backend with its key: reachable, key accepted, models offered.
#[tauri::command]
#[specta::specta]
pub async fn test_backend(state: State<'_, SharedState>, id: String) -> CmdResult<BackendCheck> {
    Ok(state.engine.check_backend(&id).await?)
}

/// The models a backend offers, for the mapping's suggestions.
#[tauri::command]
#[specta::specta]
pub async fn discover_models(
    state: State<'_, SharedState>,
    id: String,
) -> CmdResult<Vec<CheckedModel>> {
    Ok(state.engine.backend_models(&id).await?)
}

/// TEST ONLY: the desktop end-to-end test cannot drive the native file dialog through
/// WebDriver, so a debug build returns `SWITCHYARD_E2E_OPEN_PATH` as if the user had chosen
/// that file. Release builds never read the variable.
fn e2e_open_path() -> Option<String> {
    if cfg!(debug_assertions) {
        std::env::var("SWITCHYARD_E2E_OPEN_PATH")
            .ok()
            .filter(|p| !p.is_empty())
    } else {
        None
    }
}

/// Asks for a LiteLLM proxy config (the native open dialog, YAML files); `None` when the user
/// cancels.
#[tauri::command]
#[specta::specta]
pub async fn choose_litellm_file(app: tauri::AppHandle) -> CmdResult<Option<String>> {
    if let Some(path) = e2e_open_path() {
        return Ok(Some(path));
    }
    super::dialog::ask("file", "file", move || {
        app.dialog()
            .file()
            .add_filter("LiteLLM config (YAML)", &["yaml", "yml"])
            .blocking_pick_file()
    })
    .await
}

/// Imports the LiteLLM config at `path` into `profile` (the active one when `None`; a missing
/// one is created). With `dry_run` nothing changes: the report says what an import would do.
#[tauri::command]
#[specta::specta]
pub async fn import_litellm_file(
    state: State<'_, SharedState>,
    path: String,
    profile: Option<String>,
    dry_run: bool,
) -> CmdResult<ImportReport> {
    Ok(state
        .engine
        .import_litellm_file(Path::new(&path), profile.as_deref(), dry_run)
        .await?)
}
