use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::endpoints::root_url;
use super::http::{client, fetch_json, is_loopback_url};
use super::wire::{
    LlamaCppProps, LmStudioModels, OllamaShow, OllamaShowRequest, OpenAiModels, to_u32,
};
use crate::config::{BackendConfig, BackendKind};

/// Largest `num_ctx` the gateway asks Ollama for when the model does not set one.
///
/// Ollama allocates the KV cache for the whole `num_ctx` when it loads a model, and memory
/// grows linearly with it: asking a 256k- or 1M-trained model for its full window typically
/// exhausts VRAM and spills layers to the CPU (or fails to load). 128k holds Claude Code's
/// ~25k-token first request and a long session, and matches common trained windows; a
/// Modelfile `PARAMETER num_ctx` or the backend's `context_length` in the config overrides it.
pub const OLLAMA_NUM_CTX_CAP: u32 = 131_072;

/// The window the gateway uses for an Ollama model: the Modelfile's `num_ctx` when set
/// (never above the trained maximum), else the trained maximum capped at
/// [`OLLAMA_NUM_CTX_CAP`].
pub(crate) fn ollama_window(trained: Option<u32>, num_ctx: Option<u32>) -> Option<u32> {
    match (num_ctx, trained) {
        (Some(n), Some(t)) => Some(n.min(t)),
        (Some(n), None) => Some(n),
        (None, Some(t)) => Some(t.min(OLLAMA_NUM_CTX_CAP)),
        (None, None) => None,
    }
}

type Key = (String, String, String);

/// What a probe learnt of one model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ModelInfo {
    window: Option<u32>,
    /// Ollama's `vision` capability; `None` when the engine does not say.
    vision: Option<bool>,
}

impl ModelInfo {
    fn is_known(&self) -> bool {
        self.window.is_some() || self.vision.is_some()
    }
}

#[derive(Debug, Clone, Copy)]
struct Cached {
    value: ModelInfo,
    at: Instant,
}

/// Context windows per (backend, model) for the request path: the config's
/// `context_length` first, else asked from the engine and cached.
///
/// A probe is bounded by `probe_timeout`; concurrent requests for the same model wait for
/// one probe rather than each sending their own. Answers are kept for `ttl`, failures (no
/// answer, model unknown) for `failure_ttl` so a stopped engine is not asked on every
/// request but a started one is noticed soon.
#[derive(Debug)]
pub struct ContextLengths {
    local: reqwest::Client,
    remote: reqwest::Client,
    ttl: Duration,
    failure_ttl: Duration,
    probe_timeout: Duration,
    entries: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

impl Default for ContextLengths {
    fn default() -> Self {
        Self::new(
            Duration::from_secs(600),
            Duration::from_secs(30),
            Duration::from_millis(1500),
        )
    }
}

impl ContextLengths {
    pub fn new(ttl: Duration, failure_ttl: Duration, probe_timeout: Duration) -> Self {
        let connect = probe_timeout.min(Duration::from_millis(300));
        ContextLengths {
            local: client(connect, probe_timeout, true),
            remote: client(connect, probe_timeout, false),
            ttl,
            failure_ttl,
            probe_timeout,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The context window of `model` on `backend`, or `None` when neither the config nor
    /// the engine says (Claude's own backends, Anthropic, Bedrock and Vertex, are never
    /// asked).
    pub async fn context_length(&self, backend: &BackendConfig, model: &str) -> Option<u32> {
        if let Some(n) = backend.context_length {
            return Some(n);
        }
        self.info(backend, model).await.window
    }

    /// Whether `model` on an Ollama `backend` reads images (its `/api/show` capabilities,
    /// from the same cached probe as its window); `None` for other kinds, or when unknown.
    pub async fn vision(&self, backend: &BackendConfig, model: &str) -> Option<bool> {
        if backend.kind != BackendKind::Ollama {
            return None;
        }
        self.info(backend, model).await.vision
    }

    async fn info(&self, backend: &BackendConfig, model: &str) -> ModelInfo {
        // Claude itself (Anthropic, Bedrock, Vertex) answers a prompt over its window with
        // `prompt is too long`: nothing to probe.
        if matches!(
            backend.kind,
            BackendKind::Anthropic | BackendKind::Bedrock | BackendKind::Vertex
        ) {
            return ModelInfo::default();
        }
        let key = (
            backend.id.clone(),
            backend.base_url.clone(),
            model.to_owned(),
        );
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(entries.entry(key).or_default())
        };
        let mut slot = slot.lock().await;
        if let Some(cached) = *slot {
            let ttl = if cached.value.is_known() {
                self.ttl
            } else {
                self.failure_ttl
            };
            if cached.at.elapsed() < ttl {
                return cached.value;
            }
        }
        let value = tokio::time::timeout(self.probe_timeout, self.probe(backend, model))
            .await
            .ok()
            .unwrap_or_default();
        *slot = Some(Cached {
            value,
            at: Instant::now(),
        });
        value
    }

    /// Forgets everything cached (after a config change or an engine restart).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    async fn probe(&self, backend: &BackendConfig, model: &str) -> ModelInfo {
        match backend.kind {
            BackendKind::Anthropic | BackendKind::Bedrock | BackendKind::Vertex => {
                ModelInfo::default()
            }
            BackendKind::Ollama => self.probe_ollama(backend, model).await.unwrap_or_default(),
            BackendKind::OpenaiChat => ModelInfo {
                window: self.probe_window(backend, model).await,
                vision: None,
            },
        }
    }

    async fn probe_ollama(&self, backend: &BackendConfig, model: &str) -> Option<ModelInfo> {
        let show: OllamaShow = fetch_json(
            self.client_for(backend)
                .post(format!("{}/api/show", root_url(&backend.base_url)))
                .json(&OllamaShowRequest { model }),
            self.probe_timeout,
            "Ollama model details",
        )
        .await
        .ok()?;
        Some(ModelInfo {
            window: ollama_window(show.trained_context_length(), show.num_ctx()),
            // Versions before capabilities existed send none: unknown, not "no".
            vision: (!show.capabilities.is_empty())
                .then(|| show.capabilities.iter().any(|c| c == "vision")),
        })
    }

    fn client_for(&self, backend: &BackendConfig) -> &reqwest::Client {
        if is_loopback_url(&backend.base_url) {
            &self.local
        } else {
            &self.remote
        }
    }

    /// An OpenAI-style server's window for `model`.
    async fn probe_window(&self, backend: &BackendConfig, model: &str) -> Option<u32> {
        let client = self.client_for(backend);
        let root = root_url(&backend.base_url);
        let total = self.probe_timeout;
        let mut request = client.get(format!("{root}/v1/models"));
        if let Some(key) = backend
            .first_key_env()
            .and_then(|name| std::env::var(name).ok())
        {
            request = request.bearer_auth(key);
        }
        let list: OpenAiModels = fetch_json(request, total, "an OpenAI model list")
            .await
            .ok()?;
        let entry = list.data.iter().find(|m| m.id == model)?;
        if let Some(n) = to_u32(entry.max_model_len) {
            return Some(n);
        }
        match entry.owned_by.as_deref() {
            Some("organization_owner") => {
                // LM Studio: only a loaded model's window is real; the maximum is
                // not what a JIT load would use.
                let lm: LmStudioModels = fetch_json(
                    client.get(format!("{root}/api/v0/models")),
                    total,
                    "an LM Studio model list",
                )
                .await
                .ok()?;
                let info = lm.data.iter().find(|m| m.id == model)?;
                to_u32(info.loaded_context_length)
            }
            _ => {
                // llama.cpp (`owned_by: llamacpp`, or unknown servers that may be
                // llama.cpp): the server-wide `n_ctx`.
                let props: LlamaCppProps = fetch_json(
                    client.get(format!("{root}/props")),
                    total,
                    "llama.cpp props",
                )
                .await
                .ok()?;
                props.n_ctx()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_window_rules() {
        assert_eq!(ollama_window(Some(262_144), None), Some(OLLAMA_NUM_CTX_CAP));
        assert_eq!(ollama_window(Some(32_768), None), Some(32_768));
        assert_eq!(ollama_window(Some(262_144), Some(65_536)), Some(65_536));
        assert_eq!(ollama_window(Some(8192), Some(65_536)), Some(8192));
        assert_eq!(ollama_window(None, Some(4096)), Some(4096));
        assert_eq!(ollama_window(None, None), None);
    }
}
