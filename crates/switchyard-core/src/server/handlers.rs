use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, header};
use serde::{Deserialize, Serialize};

use crate::anthropic::{ApiError, ErrorType};
use crate::gateway::Gateway;
use crate::proxy::{self, Inbound};
use crate::routing::resolve;

/// Read a request body up to the configured limit, answering 413 in Anthropic's shape beyond.
async fn read_body(gateway: &Gateway, headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let limit = gateway.config().max_body_bytes();
    let too_large = || {
        ApiError::new(
            ErrorType::RequestTooLarge,
            format!(
                "the request body is larger than {} MiB (max_body_mib in the config)",
                limit / (1024 * 1024)
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

pub async fn messages(
    State(gateway): State<Arc<Gateway>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    messages_under(gateway, None, query, headers, body).await
}

pub async fn count_tokens(
    State(gateway): State<Arc<Gateway>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    count_tokens_under(gateway, None, query, headers, body).await
}

/// `POST /profiles/<name>/v1/messages`: routed under that profile, whatever the active one.
pub async fn profile_messages(
    State(gateway): State<Arc<Gateway>>,
    Path(profile): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    messages_under(gateway, Some(profile), query, headers, body).await
}

pub async fn profile_count_tokens(
    State(gateway): State<Arc<Gateway>>,
    Path(profile): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    count_tokens_under(gateway, Some(profile), query, headers, body).await
}

/// The request as the proxy takes it: the profile the URL names (which must exist) and the
/// body read within the limit.
async fn inbound(
    gateway: &Gateway,
    profile: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<(Inbound, Bytes), (HeaderMap, ApiError)> {
    if let Some(name) = &profile
        && let Err(err) = known_profile(gateway, name)
    {
        return Err((headers, err));
    }
    match read_body(gateway, &headers, body).await {
        Ok(body) => Ok((
            Inbound {
                headers,
                query,
                profile,
                target: None,
            },
            body,
        )),
        Err(err) => Err((headers, err)),
    }
}

async fn messages_under(
    gateway: Arc<Gateway>,
    profile: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match inbound(&gateway, profile, query, headers, body).await {
        Ok((inbound, body)) => proxy::messages(gateway, inbound, body).await,
        // Recorded in the usage history like any refused request.
        Err((headers, err)) => proxy::reject(gateway, &headers, err),
    }
}

async fn count_tokens_under(
    gateway: Arc<Gateway>,
    profile: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match inbound(&gateway, profile, query, headers, body).await {
        Ok((inbound, body)) => proxy::count_tokens(gateway, inbound, body).await,
        Err((_, err)) => err.into_response(),
    }
}

/// A profile named in the URL must exist: 404 naming it (and the ones there are) otherwise.
fn known_profile(gateway: &Gateway, name: &str) -> Result<(), ApiError> {
    let config = gateway.config();
    if config.profiles.contains_key(name) {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorType::NotFoundError,
        format!(
            "there is no profile {name:?} (the URL names it: /profiles/{name}/...); profiles: {}",
            config
                .profiles
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

pub async fn profile_models(
    State(gateway): State<Arc<Gateway>>,
    Path(profile): Path<String>,
) -> Response {
    match known_profile(&gateway, &profile) {
        Ok(()) => Json(model_list(&gateway, &profile)).into_response(),
        Err(err) => err.into_response(),
    }
}

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    version: &'static str,
    /// Set when requests are routed but not recorded (or the history was started anew).
    #[serde(skip_serializing_if = "Option::is_none")]
    usage_warning: Option<String>,
}

pub async fn health(State(gateway): State<Arc<Gateway>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        usage_warning: gateway.usage_warning(),
    })
}

/// Claude model ids listed by `GET /v1/models` when the active profile routes them.
const KNOWN_CLAUDE_MODELS: &[(&str, &str)] = &[
    ("claude-opus-4-6", "Claude Opus 4.6"),
    ("claude-sonnet-4-6", "Claude Sonnet 4.6"),
    ("claude-opus-4-5", "Claude Opus 4.5"),
    ("claude-sonnet-4-5", "Claude Sonnet 4.5"),
    ("claude-haiku-4-5", "Claude Haiku 4.5"),
];

#[derive(Serialize)]
pub struct ModelInfo {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    display_name: String,
    created_at: &'static str,
}

#[derive(Serialize)]
pub struct ModelList {
    data: Vec<ModelInfo>,
    has_more: bool,
    first_id: Option<String>,
    last_id: Option<String>,
}

fn served_models(gateway: &Gateway, profile: &str) -> Vec<ModelInfo> {
    let config = gateway.config();
    let mut ids: Vec<(String, String)> = Vec::new();
    if let Some(p) = config.profiles.get(profile) {
        for rule in &p.rules {
            if !rule.pattern.contains(['*', '?']) {
                ids.push((rule.pattern.clone(), rule.pattern.clone()));
            }
        }
    }
    for (id, name) in KNOWN_CLAUDE_MODELS {
        if resolve(&config, profile, id).is_ok() && !ids.iter().any(|(i, _)| i == id) {
            ids.push(((*id).to_owned(), (*name).to_owned()));
        }
    }
    ids.into_iter()
        .map(|(id, display_name)| ModelInfo {
            kind: "model",
            id,
            display_name,
            created_at: "2025-01-01T00:00:00Z",
        })
        .collect()
}

pub async fn models(State(gateway): State<Arc<Gateway>>) -> Json<ModelList> {
    let active = gateway.config().active_profile.clone();
    Json(model_list(&gateway, &active))
}

fn model_list(gateway: &Gateway, profile: &str) -> ModelList {
    let data = served_models(gateway, profile);
    ModelList {
        first_id: data.first().map(|m| m.id.clone()),
        last_id: data.last().map(|m| m.id.clone()),
        has_more: false,
        data,
    }
}

pub async fn model(State(gateway): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    let active = gateway.config().active_profile.clone();
    match served_models(&gateway, &active)
        .into_iter()
        .find(|m| m.id == id)
    {
        Some(model) => Json(model).into_response(),
        None => ApiError::new(
            ErrorType::NotFoundError,
            format!(
                "model {id:?} is not served by profile {:?}",
                gateway.config().active_profile
            ),
        )
        .into_response(),
    }
}

#[derive(Serialize)]
pub struct Status {
    pub version: &'static str,
    pub listen: String,
    pub active_profile: String,
    pub profiles: Vec<String>,
    pub paused: bool,
}

pub async fn status(State(gateway): State<Arc<Gateway>>) -> Json<Status> {
    let config = gateway.config();
    Json(Status {
        version: env!("CARGO_PKG_VERSION"),
        listen: gateway.listen().to_string(),
        active_profile: config.active_profile.clone(),
        profiles: config.profiles.keys().cloned().collect(),
        paused: gateway.is_paused(),
    })
}

#[derive(Deserialize)]
pub struct ProfileSwitch {
    pub profile: String,
}

/// `PUT /switchyard/v1/profile`: how `switchyard profile NAME` reaches a running instance.
pub async fn switch_profile(
    State(gateway): State<Arc<Gateway>>,
    Json(switch): Json<ProfileSwitch>,
) -> Response {
    match gateway.switch_profile(&switch.profile).await {
        Ok(()) => status(State(gateway)).await.into_response(),
        Err(err) => ApiError::invalid_request(err.to_string()).into_response(),
    }
}

/// `PUT /switchyard/v1/capture` body: capture for `minutes` (and `requests` at most), or stop.
#[derive(serde::Deserialize)]
pub struct CaptureSwitch {
    #[serde(default)]
    minutes: Option<u32>,
    #[serde(default)]
    requests: Option<u32>,
    #[serde(default)]
    off: bool,
}

fn capture_error(err: &crate::capture::CaptureOpError) -> ApiError {
    use crate::capture::{CaptureError, CaptureOpError};
    match err {
        CaptureOpError::Capture(CaptureError::NotFound(_))
        | CaptureOpError::NoBackend(_)
        | CaptureOpError::NoProfile(_) => ApiError::new(ErrorType::NotFoundError, err.to_string()),
        CaptureOpError::BadRequest(_) | CaptureOpError::BadWindow => {
            ApiError::invalid_request(err.to_string())
        }
        _ => ApiError::new(ErrorType::ApiError, err.to_string()),
    }
}

/// `GET /switchyard/v1/capture`: whether requests are being captured.
pub async fn capture_status(State(gateway): State<Arc<Gateway>>) -> Response {
    Json(gateway.capture_status()).into_response()
}

/// `PUT /switchyard/v1/capture`: open or close the capture window (`switchyard capture on`).
pub async fn switch_capture(
    State(gateway): State<Arc<Gateway>>,
    Json(switch): Json<CaptureSwitch>,
) -> Response {
    let Some(captures) = gateway.captures() else {
        return capture_error(&crate::capture::CaptureOpError::Unavailable).into_response();
    };
    if switch.off {
        captures.window.close();
    } else if let Err(err) = captures.start(switch.minutes.unwrap_or(30), switch.requests) {
        return capture_error(&err).into_response();
    }
    Json(gateway.capture_status()).into_response()
}

/// `POST /switchyard/v1/replay` body.
#[derive(serde::Deserialize)]
pub struct ReplayAsk {
    id: String,
    to: crate::proxy::replay::ReplayTo,
}

/// `POST /switchyard/v1/replay`: send a captured request again (`switchyard replay`).
pub async fn replay(State(gateway): State<Arc<Gateway>>, Json(ask): Json<ReplayAsk>) -> Response {
    match crate::proxy::replay::replay(&gateway, &ask.id, ask.to).await {
        Ok(report) => Json(report).into_response(),
        Err(err) => capture_error(&err).into_response(),
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        gateway.metrics().render() + &crate::metrics::counters(&outside_counters(&gateway)),
    )
        .into_response()
}

/// The capture writer's and the telemetry exporter's counters, when they run.
fn outside_counters(gateway: &Gateway) -> Vec<(&'static str, &'static str, u64)> {
    let mut out = Vec::new();
    if let Some(captures) = gateway.captures() {
        out.push((
            "switchyard_captures_total",
            "Requests captured for the inspector (handed to the capture writer).",
            captures.submitted(),
        ));
        out.push((
            "switchyard_captures_dropped_total",
            "Captures dropped because the capture writer could not keep up (the requests were served).",
            captures.dropped(),
        ));
    }
    if let Some(telemetry) = gateway.telemetry() {
        let counts = telemetry.counts();
        out.push((
            "switchyard_telemetry_spans_exported_total",
            "Spans the OTLP collector accepted.",
            counts.exported,
        ));
        out.push((
            "switchyard_telemetry_spans_dropped_total",
            "Spans dropped before sending (the exporter's queue was full).",
            counts.dropped,
        ));
        out.push((
            "switchyard_telemetry_spans_failed_total",
            "Spans the collector failed, refused or could not be reached for.",
            counts.failed,
        ));
    }
    out
}

pub async fn root() -> Json<serde_json::Value> {
    Json(serde_json::json!({"name": "switchyard", "status": "ok"}))
}

pub async fn not_found(uri: http::Uri) -> ApiError {
    ApiError::new(
        ErrorType::NotFoundError,
        format!("Switchyard has no endpoint {}", uri.path()),
    )
}
