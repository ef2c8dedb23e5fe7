//! Claude Code integration: adapters over the engine's `claude_code_*` operations.

use switchyard_core::claude_code::ClaudeCodeStatus;
use switchyard_core::engine::{ClaudeEnv, ConfigureReport, ProjectReport, RestoreReport};
use tauri::State;
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_dialog::DialogExt;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::state::SharedState;

#[tauri::command]
#[specta::specta]
pub async fn claude_code_env(state: State<'_, SharedState>) -> CmdResult<ClaudeEnv> {
    Ok(state.engine.claude_env())
}

/// The variables of a terminal that routes under `profile` (its base URL is the profile's).
#[tauri::command]
#[specta::specta]
pub async fn claude_code_env_for(
    state: State<'_, SharedState>,
    profile: String,
) -> CmdResult<ClaudeEnv> {
    Ok(state.engine.claude_env_for_profile(&profile)?)
}

/// Asks for a project folder (the native folder dialog); `None` when the user cancels.
#[tauri::command]
#[specta::specta]
pub async fn choose_project_folder(app: tauri::AppHandle) -> CmdResult<Option<String>> {
    super::dialog::ask("folder", "folder", move || {
        app.dialog().file().blocking_pick_folder()
    })
    .await
}

/// Claude Code started in `folder` goes through `profile` (its `.claude/settings.local.json`).
#[tauri::command]
#[specta::specta]
pub async fn configure_project_folder(
    state: State<'_, SharedState>,
    folder: String,
    profile: String,
) -> CmdResult<ProjectReport> {
    Ok(state
        .engine
        .configure_project_folder(&folder, &profile)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_project_folder(
    state: State<'_, SharedState>,
    folder: String,
) -> CmdResult<RestoreReport> {
    Ok(state.engine.restore_project_folder(&folder).await?)
}

/// Copies the shell exports to the clipboard from the Rust side (also used by the tray); with
/// a `profile`, those of a terminal that routes under it whatever the active one is.
#[tauri::command]
#[specta::specta]
pub async fn copy_claude_code_env(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    profile: Option<String>,
) -> CmdResult<()> {
    let env = match profile {
        Some(profile) => state.engine.claude_env_for_profile(&profile)?,
        None => state.engine.claude_env(),
    };
    app.clipboard().write_text(env.shell).map_err(|e| {
        CommandError::new(
            ErrorKind::Unavailable,
            format!("The clipboard is not available: {e}"),
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn claude_code_status(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    Ok(state.engine.claude_code_status().await?)
}

/// Writes the gateway's variables into the `env` block of `settings.json`, keeping a backup.
#[tauri::command]
#[specta::specta]
pub async fn configure_claude_code(state: State<'_, SharedState>) -> CmdResult<ConfigureReport> {
    Ok(state.engine.configure_claude_code().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn restore_claude_code(state: State<'_, SharedState>) -> CmdResult<RestoreReport> {
    Ok(state.engine.restore_claude_code().await?)
}
