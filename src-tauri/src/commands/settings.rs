//! Settings screen: port, autostart, local token, usage retention, language.

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::engine::GatewaySettings;
use switchyard_core::secrets::ExposeSecret;
use tauri::State;
use tauri_plugin_autostart::ManagerExt;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::prefs::{self, Language, Prefs, Theme};
use crate::state::SharedState;

#[derive(Debug, Clone, Serialize, Type)]
pub struct Settings {
    pub port: u16,
    pub listen_addr: String,
    pub autostart: bool,
    /// Usage history older than this many days is deleted; `None` keeps it forever.
    /// Stored in the config's `[usage]` section (shared with `switchyard serve`).
    pub retention_days: Option<u32>,
    pub language: Language,
    pub theme: Theme,
    pub config_path: String,
}

#[derive(Debug, Clone, Deserialize, Type)]
pub struct SettingsInput {
    pub port: u16,
    pub autostart: bool,
    pub retention_days: Option<u32>,
    pub language: Language,
    pub theme: Theme,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct SaveSettingsResult {
    pub settings: Settings,
    /// The gateway keeps its old port until the app restarts.
    pub restart_needed: bool,
    /// Requests deleted because the retention was shortened (applied at once).
    pub retention_deleted: Option<u64>,
}

fn current(app: &tauri::AppHandle, state: &SharedState) -> Settings {
    let p = state.prefs();
    let addr = state.engine.listen_addr();
    Settings {
        port: addr.port(),
        listen_addr: addr.to_string(),
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
        retention_days: state.engine.config().usage.retention_days,
        language: p.language,
        theme: p.theme,
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
    let applied = state
        .engine
        .apply_gateway_settings(GatewaySettings {
            port: input.port,
            retention_days: input.retention_days,
        })
        .await?;
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
        theme: input.theme,
    };
    prefs::save(&prefs::prefs_path(&state.engine.config_path()), &new_prefs)?;
    if let Ok(mut p) = state.prefs.lock() {
        *p = new_prefs;
    }
    crate::tray::refresh(&app, &state);
    Ok(SaveSettingsResult {
        settings: current(&app, &state),
        restart_needed: applied.restart_needed,
        retention_deleted: applied.retention_deleted,
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
