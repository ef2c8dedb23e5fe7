//! Model listing for the Test button and the mapping dropdowns. Ollama and OpenAI-compatible
//! backends go through `switchyard_core::discovery` (models and context windows); Anthropic
//! pass-through backends, which discovery leaves out, get a plain `GET /v1/models` here.
//! Unauthenticated: a cloud API answers 401, reported as "reachable, key needed".

use std::time::Duration;

use serde::Deserialize;
use switchyard_core::config::{BackendConfig, BackendKind};

use crate::commands::backends::DiscoveredModel;

#[derive(Deserialize)]
struct OpenAiModels {
    data: Vec<OpenAiModel>,
}
#[derive(Deserialize)]
struct OpenAiModel {
    id: String,
    #[serde(default)]
    context_length: Option<u32>,
    #[serde(default)]
    max_model_len: Option<u32>,
}
#[derive(Deserialize)]
struct OllamaTags {
    models: Vec<OllamaTag>,
}
#[derive(Deserialize)]
struct OllamaTag {
    name: String,
}

pub async fn list_models(
    backend: &BackendConfig,
    timeout: Duration,
) -> Result<Vec<DiscoveredModel>, String> {
    if backend.kind == BackendKind::Anthropic {
        anthropic_models(backend, timeout).await
    } else {
        discovered(backend, timeout).await
    }
}

async fn discovered(
    backend: &BackendConfig,
    timeout: Duration,
) -> Result<Vec<DiscoveredModel>, String> {
    use switchyard_core::discovery::{self, EndpointStatus, ProbeSettings};
    let endpoints = discovery::configured_endpoints(std::slice::from_ref(backend));
    let settings = ProbeSettings {
        connect_timeout: Duration::from_secs(3),
        total_timeout: timeout,
        ..ProbeSettings::default()
    };
    let report = discovery::discover(&endpoints, &settings).await;
    let Some(endpoint) = report.endpoints.into_iter().next() else {
        return Err(format!("{} cannot be probed", backend.base_url));
    };
    match endpoint.status {
        EndpointStatus::Up => Ok(endpoint
            .models
            .into_iter()
            .map(|m| DiscoveredModel {
                context_length: backend
                    .context_length
                    .or(m.context_length)
                    .or(m.max_context_length),
                id: m.id,
            })
            .collect()),
        EndpointStatus::Down | EndpointStatus::Garbage => Err(endpoint
            .reason
            .unwrap_or_else(|| format!("{} did not answer like a model server", backend.base_url))),
    }
}

async fn anthropic_models(
    backend: &BackendConfig,
    timeout: Duration,
) -> Result<Vec<DiscoveredModel>, String> {
    let base = backend.base_url.trim_end_matches('/');
    let url = match backend.kind {
        BackendKind::Ollama => format!("{base}/api/tags"),
        BackendKind::OpenaiChat => format!("{base}/models"),
        BackendKind::Anthropic => format!("{base}/v1/models"),
    };
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("Could not build an HTTP client: {e}"))?;
    let mut req = client.get(&url);
    if backend.kind == BackendKind::Anthropic {
        req = req.header("anthropic-version", "2023-06-01");
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("No answer from {url} within {}s", timeout.as_secs())
        } else if e.is_connect() {
            format!("Nothing is listening at {base} (connection refused). Is the server running?")
        } else {
            format!("Request to {url} failed: {e}")
        }
    })?;
    let status = resp.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(format!(
            "Reachable, but {url} answered {status}: add or check the API key"
        ));
    }
    if !status.is_success() {
        return Err(format!("{url} answered {status}"));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("Reading the answer from {url} failed: {e}"))?;
    match backend.kind {
        BackendKind::Ollama => serde_json::from_slice::<OllamaTags>(&body)
            .map(|t| {
                t.models
                    .into_iter()
                    .map(|m| DiscoveredModel {
                        id: m.name,
                        context_length: backend.context_length,
                    })
                    .collect()
            })
            .map_err(|e| format!("{url} did not return an Ollama model list: {e}")),
        BackendKind::OpenaiChat | BackendKind::Anthropic => {
            serde_json::from_slice::<OpenAiModels>(&body)
                .map(|m| {
                    m.data
                        .into_iter()
                        .map(|m| DiscoveredModel {
                            context_length: backend
                                .context_length
                                .or(m.context_length)
                                .or(m.max_model_len),
                            id: m.id,
                        })
                        .collect()
                })
                .map_err(|e| format!("{url} did not return a model list: {e}"))
        }
    }
}
