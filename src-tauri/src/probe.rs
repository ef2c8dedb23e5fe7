//! TEMPORARY model listing used by the Test button until `switchyard_core::discovery` lands on
//! main (it will also read keys and context lengths). Unauthenticated: a cloud API answers 401,
//! which is reported as "reachable, key needed".

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
