//! Settings screen: port, autostart, local token, capture, retention, language.

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::secrets::ExposeSecret;
use tauri::State;
use tauri_plugin_autostart::ManagerExt;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::prefs::{self, Language, Prefs};
use crate::state::SharedState;

#[derive(Debug, Clone, Serialize, Type)]
pub struct Settings {
    pub port: u16,
    pub listen_addr: String,
    pub autostart: bool,
    pub capture_requests: bool,
    pub retention_days: u32,
    pub language: Language,
    pub config_path: String,
}

#[derive(Debug, Clone, Deserialize, Type)]
pub struct SettingsInput {
    pub port: u16,
    pub autostart: bool,
    pub capture_requests: bool,
    pub retention_days: u32,
    pub language: Language,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct SaveSettingsResult {
    pub settings: Settings,
    /// The gateway keeps its old port until the app restarts.
    pub restart_needed: bool,
}

fn current(app: &tauri::AppHandle, state: &SharedState) -> Settings {
    let p = state.prefs();
    let addr = state.engine.listen_addr();
    Settings {
        port: addr.port(),
        listen_addr: addr.to_string(),
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
        capture_requests: p.capture_requests,
        retention_days: p.retention_days,
        language: p.language,
        config_path: state.engine.config_path().display().to_string(),
    }
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
) -> CmdResult<Settings> {
    Ok(current(&app, &state))
}

#[tauri::command]
#[specta::specta]
pub async fn save_settings(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    input: SettingsInput,
) -> CmdResult<SaveSettingsResult> {
    if input.port < 1024 {
        return Err(CommandError::invalid(
            "Choose a port between 1024 and 65535 (lower ports need root)",
        ));
    }
    if input.retention_days == 0 || input.retention_days > 3650 {
        return Err(CommandError::invalid(
            "Retention must be between 1 and 3650 days",
        ));
    }
    let mut restart_needed = false;
    let cfg = state.engine.config();
    if cfg.listen.port() != input.port {
        let mut new = (*cfg).clone();
        new.listen.set_port(input.port);
        state.engine.update_config(new).await?;
        restart_needed = state.engine.listen_addr().port() != input.port;
    }
    let autolaunch = app.autolaunch();
    let enabled = autolaunch.is_enabled().unwrap_or(false);
    if input.autostart != enabled {
        let r = if input.autostart {
            autolaunch.enable()
        } else {
            autolaunch.disable()
        };
        r.map_err(|e| {
            CommandError::new(
                ErrorKind::Io,
                format!("Could not change start at login: {e}"),
            )
        })?;
    }
    let new_prefs = Prefs {
        language: input.language,
        capture_requests: input.capture_requests,
        retention_days: input.retention_days,
    };
    prefs::save(&prefs::prefs_path(&state.engine.config_path()), &new_prefs)?;
    if let Ok(mut p) = state.prefs.lock() {
        *p = new_prefs;
    }
    crate::tray::refresh(&app, &state);
    Ok(SaveSettingsResult {
        settings: current(&app, &state),
        restart_needed,
    })
}

/// The gateway's local token (what Claude Code sends as `ANTHROPIC_AUTH_TOKEN`).
#[tauri::command]
#[specta::specta]
pub async fn get_local_token(state: State<'_, SharedState>) -> CmdResult<String> {
    Ok(state.engine.local_token().expose_secret().to_string())
}

/// Makes a new token; clients configured with the old one get 401 until updated.
#[tauri::command]
#[specta::specta]
pub async fn rotate_local_token(state: State<'_, SharedState>) -> CmdResult<String> {
    Ok(state
        .engine
        .rotate_token()
        .await?
        .expose_secret()
        .to_string())
}
