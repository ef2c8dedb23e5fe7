//! Settings screen: port, autostart, local token, usage retention, language.

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::secrets::ExposeSecret;
use tauri::State;
use tauri_plugin_autostart::ManagerExt;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::prefs::{self, Language, Prefs};
use crate::state::SharedState;

const MIN_RETENTION_DAYS: u32 = 1;
const MAX_RETENTION_DAYS: u32 = 3650;

/// Whether moving from `old` to `new` days can delete anything now (the writer otherwise
/// applies retention at start and once a day).
fn shortened(old: Option<u32>, new: u32) -> bool {
    old.is_none_or(|old| new < old)
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct Settings {
    pub port: u16,
    pub listen_addr: String,
    pub autostart: bool,
    /// Usage history older than this many days is deleted; `None` keeps it forever.
    /// Stored in the config's `[usage]` section (shared with `switchyard serve`).
    pub retention_days: Option<u32>,
    pub language: Language,
    pub config_path: String,
}

#[derive(Debug, Clone, Deserialize, Type)]
pub struct SettingsInput {
    pub port: u16,
    pub autostart: bool,
    pub retention_days: Option<u32>,
    pub language: Language,
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
    if input
        .retention_days
        .is_some_and(|d| !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&d))
    {
        return Err(CommandError::invalid(format!(
            "Retention must be between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days, or keep forever"
        )));
    }
    let cfg = state.engine.config();
    let port_changed = cfg.listen.port() != input.port;
    let old_retention = cfg.usage.retention_days;
    if port_changed || old_retention != input.retention_days {
        let mut new = (*cfg).clone();
        new.listen.set_port(input.port);
        new.usage.retention_days = input.retention_days;
        state.engine.update_config(new).await?;
    }
    let restart_needed = port_changed && state.engine.listen_addr().port() != input.port;
    let retention_deleted = match (input.retention_days, state.engine.usage_writer()) {
        (Some(days), Some(writer)) if shortened(old_retention, days) => {
            let writer = writer.clone();
            let deleted = tokio::task::spawn_blocking(move || writer.apply_retention_now(days))
                .await
                .map_err(|e| CommandError::new(ErrorKind::Engine, e.to_string()))??;
            crate::commands::overview::refresh_today(&state).await?;
            Some(deleted)
        }
        _ => None,
    };
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
    };
    prefs::save(&prefs::prefs_path(&state.engine.config_path()), &new_prefs)?;
    if let Ok(mut p) = state.prefs.lock() {
        *p = new_prefs;
    }
    crate::tray::refresh(&app, &state);
    Ok(SaveSettingsResult {
        settings: current(&app, &state),
        restart_needed,
        retention_deleted,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_shorter_retention_deletes_at_once() {
        assert!(shortened(None, 30));
        assert!(shortened(Some(90), 30));
        assert!(!shortened(Some(30), 30));
        assert!(!shortened(Some(30), 90));
    }

    /// The retention change goes through the engine's writer thread (a real database).
    #[test]
    fn apply_retention_now_deletes_older_requests() {
        use std::sync::Arc;

        use switchyard_core::anthropic::Usage;
        use switchyard_core::budget::SpendTotals;
        use switchyard_core::metrics::Metrics;
        use switchyard_core::usage::{
            Filter, PricedRecord, Pricer, RequestStatus, UsageRecord, UsageStore, UsageWriter,
            WriterOptions,
        };

        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
            .unwrap_or(0);
        let day = 86_400_000;
        let row = |ms: i64| PricedRecord {
            record: UsageRecord {
                started_at_ms: ms,
                client: None,
                session_id: None,
                requested_model: "claude-sonnet-4-5".into(),
                profile: "local".into(),
                backend: Some("ollama".into()),
                backend_kind: None,
                upstream_model: None,
                stream: false,
                status: RequestStatus::Ok,
                http_status: 200,
                error_type: None,
                error_message: None,
                usage: Usage::default(),
                ttft_ms: None,
                latency_ms: 1,
                attempts: 1,
            },
            local: true,
            cost_usd: Some(0.0),
            cloud_equiv_usd: None,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let mut store = UsageStore::open(&path).unwrap();
        store
            .insert(&[row(now - 40 * day), row(now - 20 * day), row(now - 1000)])
            .unwrap();
        let writer = UsageWriter::start(
            store,
            WriterOptions::default(),
            Pricer::default(),
            Arc::new(Metrics::default()),
            Arc::new(SpendTotals::default()),
        )
        .unwrap();
        assert_eq!(writer.apply_retention_now(30).unwrap(), 1);
        assert_eq!(writer.apply_retention_now(10).unwrap(), 1);
        writer.shutdown();
        let reader = UsageStore::open_read_only(&path).unwrap();
        let left = reader.recent(&Filter::default(), 10, 0).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].started_at_ms, now - 1000);
        drop(dir);
    }
}
