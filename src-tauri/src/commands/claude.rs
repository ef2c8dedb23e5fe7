//! Claude Code integration over `switchyard_core::claude_code`: the env block to copy, writing
//! it into `~/.claude/settings.json` (with a backup), restoring, and conflict warnings.

use std::path::PathBuf;

use serde::Serialize;
use specta::Type;
use switchyard_core::claude_code::{self, ClaudeSettings, EnvOptions};
use switchyard_core::secrets::ExposeSecret;
use tauri::State;
use tauri_plugin_clipboard_manager::ClipboardExt;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::state::{AppState, SharedState};

#[derive(Debug, Clone, Serialize, Type)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ClaudeEnv {
    pub vars: Vec<EnvVar>,
    /// `export NAME=value` lines for a shell.
    pub shell: String,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct Conflict {
    pub name: String,
    /// What was found, where, and what to do.
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ClaudeCodeStatus {
    pub settings_path: String,
    /// `settings.json` already points at this gateway.
    pub configured: bool,
    pub has_backup: bool,
    pub conflicts: Vec<Conflict>,
}

fn base_url(state: &AppState) -> String {
    format!("http://{}", state.engine.listen_addr())
}

fn vars_of(state: &AppState) -> Vec<(String, String)> {
    let token = state.engine.local_token();
    claude_code::env_vars(
        &base_url(state),
        token.expose_secret(),
        &EnvOptions::default(),
    )
}

pub fn env_of(state: &AppState) -> ClaudeEnv {
    let vars = vars_of(state);
    ClaudeEnv {
        shell: claude_code::render_shell_exports(&vars),
        vars: vars
            .into_iter()
            .map(|(name, value)| EnvVar { name, value })
            .collect(),
    }
}

fn settings_path() -> CmdResult<PathBuf> {
    claude_code::default_settings_path().ok_or_else(|| {
        CommandError::new(
            ErrorKind::Unavailable,
            "Cannot find your home directory to locate ~/.claude/settings.json",
        )
    })
}

fn io_error(e: impl std::fmt::Display) -> CommandError {
    CommandError::new(ErrorKind::Io, e.to_string())
}

async fn status_of(state: SharedState) -> CmdResult<ClaudeCodeStatus> {
    let path = settings_path()?;
    let gateway = base_url(&state);
    tauri::async_runtime::spawn_blocking(move || {
        let settings = ClaudeSettings::load(&path).map_err(io_error)?;
        let env: Vec<(String, String)> = std::env::vars().collect();
        let conflicts = match &settings {
            Some(s) => claude_code::conflicts(
                s,
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                &gateway,
            ),
            None => claude_code::conflicts(
                &ClaudeSettings::default(),
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                &gateway,
            ),
        };
        let configured = settings
            .as_ref()
            .and_then(|s| s.env_str("ANTHROPIC_BASE_URL"))
            .is_some_and(|u| u.trim_end_matches('/') == gateway);
        Ok(ClaudeCodeStatus {
            has_backup: claude_code::backup_path(&path).exists(),
            settings_path: path.display().to_string(),
            configured,
            conflicts: conflicts
                .into_iter()
                .map(|c| Conflict {
                    name: format!("{:?}", c.kind),
                    message: c.message,
                })
                .collect(),
        })
    })
    .await
    .map_err(|e| CommandError::new(ErrorKind::Engine, e.to_string()))?
}

#[tauri::command]
#[specta::specta]
pub async fn claude_code_env(state: State<'_, SharedState>) -> CmdResult<ClaudeEnv> {
    Ok(env_of(&state))
}

/// Copies the shell exports to the clipboard from the Rust side (also used by the tray).
#[tauri::command]
#[specta::specta]
pub async fn copy_claude_code_env(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
) -> CmdResult<()> {
    app.clipboard()
        .write_text(env_of(&state).shell)
        .map_err(|e| {
            CommandError::new(
                ErrorKind::Unavailable,
                format!("Clipboard unavailable: {e}"),
            )
        })
}

#[tauri::command]
#[specta::specta]
pub async fn claude_code_status(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    status_of(state.inner().clone()).await
}

/// Writes the gateway's variables into the `env` block of `settings.json`, keeping a backup.
#[tauri::command]
#[specta::specta]
pub async fn configure_claude_code(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    let path = settings_path()?;
    let vars = vars_of(&state);
    tauri::async_runtime::spawn_blocking(move || claude_code::configure(&path, &vars))
        .await
        .map_err(|e| CommandError::new(ErrorKind::Engine, e.to_string()))?
        .map_err(io_error)?;
    status_of(state.inner().clone()).await
}

#[tauri::command]
#[specta::specta]
pub async fn restore_claude_code(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    let path = settings_path()?;
    tauri::async_runtime::spawn_blocking(move || claude_code::restore(&path))
        .await
        .map_err(|e| CommandError::new(ErrorKind::Engine, e.to_string()))?
        .map_err(io_error)?;
    status_of(state.inner().clone()).await
}
