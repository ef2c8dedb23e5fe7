use serde::Serialize;

use super::kind::EngineKind;
use crate::config::{BackendConfig, BackendKind};

/// One URL to probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// Shown in reports: the engine's usual name, or the backend id.
    pub name: String,
    /// Root or `/v1` URL; both forms are accepted.
    pub base_url: String,
    /// What the endpoint is expected to be; decides which API is tried first.
    pub expected: Option<EngineKind>,
    pub source: EndpointSource,
    /// Environment variable holding a bearer token for the model list (configured backends'
    /// `api_key_env`); keychain keys are not read during discovery.
    #[serde(skip)]
    pub api_key_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum EndpointSource {
    /// One of the usual local ports.
    Default,
    /// A backend from the config file.
    Configured { backend_id: String },
}

/// The engines' usual local ports, on 127.0.0.1 only.
pub fn default_endpoints() -> Vec<Endpoint> {
    [
        ("Ollama", 11434, EngineKind::Ollama),
        ("LM Studio", 1234, EngineKind::LmStudio),
        ("vLLM", 8000, EngineKind::Vllm),
        ("llama.cpp", 8080, EngineKind::LlamaCpp),
        ("SGLang", 30000, EngineKind::Sglang),
    ]
    .into_iter()
    .map(|(name, port, kind)| Endpoint {
        name: name.to_owned(),
        base_url: format!("http://127.0.0.1:{port}"),
        expected: Some(kind),
        source: EndpointSource::Default,
        api_key_env: None,
    })
    .collect()
}

/// Configured Ollama and OpenAI-compatible backends. Anthropic pass-through backends are
/// left out: they are cloud APIs or engines already listed by their OpenAI side; so are
/// Bedrock and Vertex (clouds, checked with `switchyard check`).
pub fn configured_endpoints(backends: &[BackendConfig]) -> Vec<Endpoint> {
    backends
        .iter()
        .filter(|b| matches!(b.kind, BackendKind::OpenaiChat | BackendKind::Ollama))
        .map(|b| Endpoint {
            name: b.id.clone(),
            base_url: b.base_url.clone(),
            expected: (b.kind == BackendKind::Ollama).then_some(EngineKind::Ollama),
            source: EndpointSource::Configured {
                backend_id: b.id.clone(),
            },
            api_key_env: b.first_key_env().map(str::to_owned),
        })
        .collect()
}

/// What `switchyard discover` probes: the configured backends, then the usual local ports
/// not already covered by one of them (so an engine is not listed twice).
pub fn endpoints_to_probe(backends: &[BackendConfig]) -> Vec<Endpoint> {
    let mut endpoints = configured_endpoints(backends);
    let configured: Vec<String> = endpoints
        .iter()
        .map(|e| same_host_form(root_url(&e.base_url)))
        .collect();
    endpoints.extend(
        default_endpoints()
            .into_iter()
            .filter(|d| !configured.contains(&same_host_form(root_url(&d.base_url)))),
    );
    endpoints
}

/// `localhost` and `127.0.0.1` name the same engine.
pub(crate) fn same_host_form(url: &str) -> String {
    url.to_ascii_lowercase()
        .replace("://localhost", "://127.0.0.1")
}

/// The URL without a trailing `/` or `/v1`: Ollama's `/api/*`, vLLM's `/version` and
/// llama.cpp's `/props` live at the root.
pub(crate) fn root_url(base_url: &str) -> &str {
    let trimmed = base_url.trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_strips_v1_and_slashes() {
        assert_eq!(
            root_url("http://127.0.0.1:8000/v1/"),
            "http://127.0.0.1:8000"
        );
        assert_eq!(root_url("http://127.0.0.1:11434"), "http://127.0.0.1:11434");
    }

    #[test]
    fn configured_backends_replace_matching_defaults() {
        let backend: BackendConfig = serde_json::from_value(serde_json::json!({
            "id": "local-ollama", "kind": "ollama", "base_url": "http://localhost:11434/"
        }))
        .unwrap();
        let all = endpoints_to_probe(&[backend]);
        assert_eq!(all.len(), 5);
        assert_eq!(all[0].name, "local-ollama");
        assert!(all.iter().all(|e| e.name != "Ollama"));
    }

    #[test]
    fn defaults_are_loopback_only() {
        let all = default_endpoints();
        assert_eq!(all.len(), 5);
        assert!(
            all.iter()
                .all(|e| e.base_url.starts_with("http://127.0.0.1:"))
        );
    }
}
