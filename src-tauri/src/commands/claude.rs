//! Claude Code integration: the env block to copy, and (when `switchyard_core::claude_code`
//! lands) writing it into `~/.claude/settings.json` with a backup.

use serde::Serialize;
use specta::Type;
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
    /// Why it matters and what to do.
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

pub async fn env_of(state: &AppState) -> CmdResult<ClaudeEnv> {
    let token = state.engine.local_token().await?;
    let vars = vec![
        EnvVar {
            name: "ANTHROPIC_BASE_URL".into(),
            value: format!("http://{}", state.engine.listen_addr()),
        },
        EnvVar {
            name: "ANTHROPIC_AUTH_TOKEN".into(),
            value: token,
        },
    ];
    let shell = vars
        .iter()
        .map(|v| format!("export {}={}\n", v.name, v.value))
        .collect();
    Ok(ClaudeEnv { vars, shell })
}

fn conflicts() -> Vec<Conflict> {
    ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX"]
        .into_iter()
        .filter(|n| std::env::var_os(n).is_some())
        .map(|n| Conflict {
            name: n.to_string(),
            message: format!(
                "{n} is set in the environment Switchyard was started from; if your shell sets it too, Claude Code may bypass the gateway. Remove it from your shell profile."
            ),
        })
        .collect()
}

fn settings_path() -> String {
    directories::BaseDirs::new()
        .map(|d| d.home_dir().join(".claude").join("settings.json"))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.claude/settings.json".into())
}

#[tauri::command]
#[specta::specta]
pub async fn claude_code_env(state: State<'_, SharedState>) -> CmdResult<ClaudeEnv> {
    env_of(&state).await
}

/// Copies the shell exports to the clipboard from the Rust side (also used by the tray).
#[tauri::command]
#[specta::specta]
pub async fn copy_claude_code_env(app: tauri::AppHandle, state: State<'_, SharedState>) -> CmdResult<()> {
    let env = env_of(&state).await?;
    app.clipboard()
        .write_text(env.shell)
        .map_err(|e| CommandError::new(ErrorKind::Unavailable, format!("Clipboard unavailable: {e}")))
}

#[tauri::command]
#[specta::specta]
pub async fn claude_code_status(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    let _ = &state;
    Ok(ClaudeCodeStatus {
        settings_path: settings_path(),
        configured: false,
        has_backup: false,
        conflicts: conflicts(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn configure_claude_code(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    let _ = &state;
    Err(CommandError::new(
        ErrorKind::Unavailable,
        "Writing ~/.claude/settings.json is not available in this build yet: use \"Copy env\" and paste the exports into your shell",
    ))
}

#[tauri::command]
#[specta::specta]
pub async fn restore_claude_code(state: State<'_, SharedState>) -> CmdResult<ClaudeCodeStatus> {
    let _ = &state;
    Err(CommandError::new(
        ErrorKind::Unavailable,
        "Restoring ~/.claude/settings.json is not available in this build yet",
    ))
}
