//! Model mapping screen: adapters over the engine's profile operations, and a live test
//! through the gateway.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::engine::{ProfileError, ProfileView};
use switchyard_core::secrets::ExposeSecret;
use switchyard_core::usage::RequestStatus;
use tauri::State;

use crate::engine::EngineEvent;
use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::state::SharedState;

#[derive(Debug, Clone, Serialize, Type)]
pub struct RouteTestResult {
    pub ok: bool,
    pub profile: String,
    pub requested_model: String,
    pub backend: Option<String>,
    pub upstream_model: Option<String>,
    pub latency_ms: u64,
    /// The start of the model's answer, or the gateway's error message.
    pub detail: String,
}

impl From<ProfileError> for CommandError {
    fn from(e: ProfileError) -> Self {
        let kind = match &e {
            ProfileError::Engine(e) => return CommandError::from_engine(e),
            ProfileError::NotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::InvalidInput,
        };
        CommandError::new(kind, e.to_string())
    }
}

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, SharedState>) -> CmdResult<Vec<ProfileView>> {
    Ok(state.engine.profiles())
}

/// Replaces an existing profile's rules and default route.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    profile: ProfileView,
) -> CmdResult<ProfileView> {
    let saved = state.engine.save_profile(profile).await?;
    crate::tray::refresh(&app, &state);
    Ok(saved)
}

#[tauri::command]
#[specta::specta]
pub async fn create_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    name: String,
) -> CmdResult<ProfileView> {
    let created = state.engine.create_profile(&name).await?;
    crate::tray::refresh(&app, &state);
    Ok(created)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    name: String,
) -> CmdResult<()> {
    state.engine.delete_profile(&name).await?;
    crate::tray::refresh(&app, &state);
    Ok(())
}

#[derive(Serialize)]
struct TinyRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: [TinyMessage<'a>; 1],
}
#[derive(Serialize)]
struct TinyMessage<'a> {
    role: &'a str,
    content: &'a str,
}
#[derive(Deserialize)]
struct TinyResponse {
    #[serde(default)]
    content: Vec<TinyBlock>,
}
#[derive(Deserialize)]
struct TinyBlock {
    #[serde(default)]
    text: Option<String>,
}
#[derive(Deserialize)]
struct TinyError {
    error: TinyErrorBody,
}
#[derive(Deserialize)]
struct TinyErrorBody {
    message: String,
}

/// Sends a tiny request for `model` through the real gateway (active profile) and reports
/// which backend answered. This is the Rust side talking to the gateway, not the webview.
#[tauri::command]
#[specta::specta]
pub async fn test_route(
    state: State<'_, SharedState>,
    model: String,
) -> CmdResult<RouteTestResult> {
    let model = model.trim().to_string();
    if model.is_empty() {
        return Err(CommandError::invalid(
            "Type a model name to test, e.g. claude-sonnet-4-5",
        ));
    }
    let profile = state.engine.config().active_profile.clone();
    let token = state.engine.local_token();
    let mut events = state.engine.subscribe();
    let url = format!("http://{}/v1/messages", state.engine.listen_addr());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| CommandError::upstream(e.to_string()))?;
    let started = Instant::now();
    let resp = client
        .post(&url)
        .header("x-api-key", token.expose_secret())
        .header("anthropic-version", "2023-06-01")
        .json(&TinyRequest {
            model: &model,
            max_tokens: 16,
            messages: [TinyMessage {
                role: "user",
                content: "Reply with one word: ok",
            }],
        })
        .send()
        .await
        .map_err(|e| CommandError::upstream(format!("The gateway at {url} did not answer: {e}")))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| CommandError::upstream(e.to_string()))?;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let detail = if status.is_success() {
        serde_json::from_slice::<TinyResponse>(&body)
            .ok()
            .and_then(|r| r.content.into_iter().find_map(|b| b.text))
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    } else {
        serde_json::from_slice::<TinyError>(&body)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {status}"))
    };
    // The gateway reports which backend answered in its usage event; wait briefly for it.
    let mut backend = None;
    let mut upstream_model = None;
    let mut ok = status.is_success();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Ok(ev)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if let EngineEvent::RequestFinished(r) = ev
            && r.requested_model == model
        {
            backend = r.backend.clone();
            upstream_model = r.upstream_model.clone();
            ok = ok && r.status == RequestStatus::Ok;
            break;
        }
    }
    Ok(RouteTestResult {
        ok,
        profile,
        requested_model: model,
        backend,
        upstream_model,
        latency_ms,
        detail,
    })
}
