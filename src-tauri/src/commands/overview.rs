//! Overview screen: gateway status, profile switch, pause, recent requests.

use serde::Serialize;
use specta::Type;
use switchyard_core::config::Config;
use switchyard_core::usage::{RequestStatus, UsageRecord};
use tauri::State;

use crate::error::{CmdResult, CommandError};
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
    pub requests_today: u32,
    pub errors_today: u32,
    pub tokens_today: u64,
    pub cost_today_usd: f64,
    pub last_error: Option<String>,
    pub config_path: String,
    pub version: String,
    /// Whether a system tray is available (if not, closing the window quits).
    pub tray_host: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Ok,
    Error,
    Cancelled,
}

/// One request as the window shows it (a flattened `UsageRecord`).
#[derive(Debug, Clone, Serialize, Type)]
pub struct RequestRow {
    pub started_at_ms: i64,
    pub client: Option<String>,
    pub requested_model: String,
    pub profile: String,
    pub backend: Option<String>,
    pub backend_kind: Option<String>,
    pub upstream_model: Option<String>,
    pub stream: bool,
    pub status: RowStatus,
    pub http_status: u16,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub ttft_ms: Option<u64>,
    pub latency_ms: u64,
    pub attempts: u32,
    /// What the request cost (0 for local backends); `None` when the price is unknown.
    pub cost_usd: Option<f64>,
    /// What the same tokens would have cost on the cloud (local backends only).
    pub cloud_equivalent_usd: Option<f64>,
    /// Answered by a local engine (Ollama, vLLM, ...) rather than a cloud API.
    pub local: bool,
}

impl RequestRow {
    /// `config` decides what counts as local: a backend whose URL is on this machine.
    pub fn of(r: &UsageRecord, config: &Config) -> Self {
        let local = match r.backend.as_deref().and_then(|id| config.backend(id)) {
            Some(b) => crate::commands::backends::is_local_url(&b.base_url),
            None => crate::commands::backends::is_local_kind(r.backend_kind.as_deref()),
        };
        Self {
            started_at_ms: r.started_at_ms,
            client: r.client.clone(),
            requested_model: r.requested_model.clone(),
            profile: r.profile.clone(),
            backend: r.backend.clone(),
            backend_kind: r.backend_kind.clone(),
            upstream_model: r.upstream_model.clone(),
            stream: r.stream,
            status: match r.status {
                RequestStatus::Ok => RowStatus::Ok,
                RequestStatus::Error => RowStatus::Error,
                RequestStatus::Cancelled => RowStatus::Cancelled,
            },
            http_status: r.http_status,
            error_type: r.error_type.clone(),
            error_message: r.error_message.clone(),
            input_tokens: r.usage.input_tokens,
            output_tokens: r.usage.output_tokens,
            cache_read_tokens: r.usage.cache_read_input_tokens,
            cache_write_tokens: r.usage.cache_creation_input_tokens,
            ttft_ms: r.ttft_ms,
            latency_ms: r.latency_ms,
            attempts: r.attempts,
            // Pricing lands with switchyard_core::pricing; until then local is free and
            // cloud cost is unknown.
            cost_usd: if local { Some(0.0) } else { None },
            cloud_equivalent_usd: None,
            local,
        }
    }
}

pub(crate) fn start_of_today_ms() -> i64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    now_ms - now_ms.rem_euclid(86_400_000)
}

pub fn status_of(state: &AppState) -> GatewayStatus {
    let cfg = state.engine.config();
    let addr = state.engine.listen_addr();
    let today = start_of_today_ms();
    let records = state.records();
    let todays: Vec<RequestRow> = records
        .iter()
        .filter(|r| r.started_at_ms >= today)
        .map(|r| RequestRow::of(r, &cfg))
        .collect();
    GatewayStatus {
        listen_addr: addr.to_string(),
        base_url: format!("http://{addr}"),
        active_profile: cfg.active_profile.clone(),
        profiles: cfg.profiles.keys().cloned().collect(),
        paused: state.engine.is_paused(),
        requests_today: u32::try_from(todays.len()).unwrap_or(u32::MAX),
        errors_today: u32::try_from(
            todays
                .iter()
                .filter(|r| r.status == RowStatus::Error)
                .count(),
        )
        .unwrap_or(u32::MAX),
        tokens_today: todays
            .iter()
            .map(|r| r.input_tokens + r.output_tokens)
            .sum(),
        cost_today_usd: todays.iter().filter_map(|r| r.cost_usd).sum(),
        last_error: state.last_error.lock().ok().and_then(|e| e.clone()),
        config_path: state.engine.config_path().display().to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        tray_host: state.tray_host,
    }
}

#[tauri::command]
#[specta::specta]
pub async fn get_status(state: State<'_, SharedState>) -> CmdResult<GatewayStatus> {
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

/// Newest first.
#[tauri::command]
#[specta::specta]
pub async fn recent_requests(
    state: State<'_, SharedState>,
    limit: u32,
) -> CmdResult<Vec<RequestRow>> {
    if limit == 0 || limit > 1000 {
        return Err(CommandError::invalid("limit must be between 1 and 1000"));
    }
    let cfg = state.engine.config();
    let recent = state
        .recent
        .lock()
        .map_err(|_| CommandError::new(crate::error::ErrorKind::Engine, "state lock poisoned"))?;
    Ok(recent
        .iter()
        .rev()
        .take(limit as usize)
        .map(|r| RequestRow::of(r, &cfg))
        .collect())
}
