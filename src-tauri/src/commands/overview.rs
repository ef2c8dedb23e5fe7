//! Overview screen: gateway status, profile switch, pause, recent requests.

use serde::Serialize;
use specta::Type;
use switchyard_core::engine::LastError;
use switchyard_core::usage::{RequestRow, Today, now_ms};
use tauri::State;

use crate::commands::usage::reader;
use crate::error::CmdResult;
use crate::state::{AppState, SharedState};

#[derive(Debug, Clone, Serialize, Type)]
pub struct GatewayStatus {
    /// `127.0.0.1:4747`
    pub listen_addr: String,
    /// `http://127.0.0.1:4747`, what `ANTHROPIC_BASE_URL` should be.
    pub base_url: String,
    pub active_profile: String,
    pub profiles: Vec<String>,
    pub paused: bool,
    /// Today (UTC) from the usage database, earlier runs and `switchyard serve` included.
    pub requests_today: u64,
    pub errors_today: u64,
    pub tokens_today: u64,
    /// Spend today on requests with a known price.
    pub cost_today_usd: f64,
    /// Requests today whose cost is unknown (not counted in `cost_today_usd`).
    pub unpriced_today: u64,
    /// The latest failed request, until one succeeds or the gateway is paused or resumed.
    pub last_error: Option<LastError>,
    pub config_path: String,
    pub version: String,
    /// Whether a system tray is available (if not, closing the window quits).
    pub tray_host: bool,
}

/// Re-read today's totals from the usage database (on the blocking pool).
pub async fn refresh_today(state: &SharedState) -> CmdResult<()> {
    let Some(reader) = state.usage.clone() else {
        return Ok(());
    };
    let fresh = reader.today().await?;
    if let Ok(mut today) = state.today.lock() {
        *today = fresh;
    }
    Ok(())
}

/// The status from cached counters (no I/O: the tray calls this on the UI thread).
pub fn status_of(state: &AppState) -> GatewayStatus {
    let cfg = state.engine.config();
    let addr = state.engine.listen_addr();
    let cached = state.today();
    // Counters cached yesterday say nothing about today; the next refresh fills them in.
    let today = if cached.is_current(now_ms()) {
        cached.totals
    } else {
        Today::default().totals
    };
    GatewayStatus {
        listen_addr: addr.to_string(),
        base_url: format!("http://{addr}"),
        active_profile: cfg.active_profile.clone(),
        profiles: cfg.profiles.keys().cloned().collect(),
        paused: state.engine.is_paused(),
        requests_today: today.requests,
        errors_today: today.errors,
        tokens_today: today.input_tokens.saturating_add(today.output_tokens),
        cost_today_usd: today.cost_usd,
        unpriced_today: today.unpriced,
        last_error: state.engine.last_error(),
        config_path: state.engine.config_path().display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        tray_host: state.tray_host,
    }
}

#[tauri::command]
#[specta::specta]
pub async fn get_status(state: State<'_, SharedState>) -> CmdResult<GatewayStatus> {
    refresh_today(&state).await?;
    Ok(status_of(&state))
}

#[tauri::command]
#[specta::specta]
pub async fn set_active_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    name: String,
) -> CmdResult<GatewayStatus> {
    state.engine.set_active_profile(&name).await?;
    crate::tray::refresh(&app, &state);
    Ok(status_of(&state))
}

#[tauri::command]
#[specta::specta]
pub async fn set_paused(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    paused: bool,
) -> CmdResult<GatewayStatus> {
    state.engine.set_paused(paused);
    crate::tray::refresh(&app, &state);
    Ok(status_of(&state))
}

/// The latest requests from the usage database, newest first (at most 500).
#[tauri::command]
#[specta::specta]
pub async fn recent_requests(
    state: State<'_, SharedState>,
    limit: u32,
) -> CmdResult<Vec<RequestRow>> {
    Ok(reader(&state)?.recent(limit).await?)
}
