//! What the engines answer, as far as discovery reads it. Every field is optional or
//! defaulted: versions differ, and a missing field must not hide the rest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Ollama `POST /api/show` body.
#[derive(Debug, Serialize)]
pub(crate) struct OllamaShowRequest<'a> {
    pub model: &'a str,
}

/// Ollama `GET /api/version`, vLLM `GET /version`.
#[derive(Debug, Deserialize)]
pub(crate) struct VersionResponse {
    pub version: String,
}

/// Ollama `GET /api/tags`.
#[derive(Debug, Deserialize)]
pub(crate) struct OllamaTags {
    pub models: Vec<OllamaTag>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OllamaTag {
    /// `name` in every version; newer ones also send the same value as `model`.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl OllamaTag {
    pub fn id(&self) -> Option<&str> {
        self.name.as_deref().or(self.model.as_deref())
    }
}

/// Ollama `POST /api/show`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct OllamaShow {
    /// Modelfile parameters, one `name value` per line.
    #[serde(default)]
    pub parameters: Option<String>,
    /// GGUF metadata keyed by `<architecture>.<field>`, so the keys are data.
    #[serde(default)]
    pub model_info: BTreeMap<String, Value>,
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl OllamaShow {
    /// The trained window: `<arch>.context_length`, with the arch from
    /// `general.architecture`, else any key ending in `.context_length`.
    pub fn trained_context_length(&self) -> Option<u32> {
        let arch_key = self
            .model_info
            .get("general.architecture")
            .and_then(Value::as_str)
            .map(|arch| format!("{arch}.context_length"));
        arch_key
            .and_then(|key| self.model_info.get(&key))
            .or_else(|| {
                self.model_info
                    .iter()
                    .find(|(k, _)| k.ends_with(".context_length"))
                    .map(|(_, v)| v)
            })
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    }

    /// `PARAMETER num_ctx` from the Modelfile, if the model sets one.
    pub fn num_ctx(&self) -> Option<u32> {
        self.parameters.as_deref()?.lines().find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("num_ctx"))
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
    }
}

/// OpenAI-style `GET /v1/models` (vLLM, SGLang, llama.cpp, LM Studio, Ollama's `/v1`).
#[derive(Debug, Deserialize)]
pub(crate) struct OpenAiModels {
    pub data: Vec<OpenAiModel>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OpenAiModel {
    pub id: String,
    #[serde(default)]
    pub owned_by: Option<String>,
    /// vLLM and SGLang.
    #[serde(default)]
    pub max_model_len: Option<u64>,
    /// llama.cpp puts `n_ctx_train` here.
    #[serde(default)]
    pub meta: Option<LlamaCppModelMeta>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LlamaCppModelMeta {
    #[serde(default)]
    pub n_ctx_train: Option<u64>,
}

/// llama.cpp `GET /props`.
#[derive(Debug, Deserialize)]
pub(crate) struct LlamaCppProps {
    #[serde(default)]
    pub default_generation_settings: Option<LlamaCppGenerationSettings>,
    #[serde(default)]
    pub n_ctx: Option<u64>,
    #[serde(default)]
    pub build_info: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LlamaCppGenerationSettings {
    #[serde(default)]
    pub n_ctx: Option<u64>,
}

impl LlamaCppProps {
    /// The server's window (`-c`), per slot.
    pub fn n_ctx(&self) -> Option<u32> {
        self.default_generation_settings
            .as_ref()
            .and_then(|s| s.n_ctx)
            .or(self.n_ctx)
            .and_then(|n| u32::try_from(n).ok())
    }
}

/// LM Studio `GET /api/v0/models`.
#[derive(Debug, Deserialize)]
pub(crate) struct LmStudioModels {
    pub data: Vec<LmStudioModel>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LmStudioModel {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub max_context_length: Option<u64>,
    /// Present for loaded models: the window they were loaded with.
    #[serde(default)]
    pub loaded_context_length: Option<u64>,
}

pub(crate) fn to_u32(n: Option<u64>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_show_context_and_num_ctx() {
        let show: OllamaShow = serde_json::from_str(
            r#"{"parameters": "stop \"<|im_end|>\"\nnum_ctx                        65536\ntemperature 0.7",
                "model_info": {"general.architecture": "qwen3moe", "qwen3moe.context_length": 262144, "x.context_length": 5},
                "capabilities": ["completion", "tools"], "template": "..."}"#,
        )
        .unwrap();
        assert_eq!(show.trained_context_length(), Some(262_144));
        assert_eq!(show.num_ctx(), Some(65_536));
    }

    #[test]
    fn ollama_show_without_architecture_or_parameters() {
        let show: OllamaShow =
            serde_json::from_str(r#"{"model_info": {"llama.context_length": 8192}}"#).unwrap();
        assert_eq!(show.trained_context_length(), Some(8192));
        assert_eq!(show.num_ctx(), None);
    }

    #[test]
    fn llama_cpp_props_old_and_new() {
        let new: LlamaCppProps =
            serde_json::from_str(r#"{"default_generation_settings": {"n_ctx": 16384}}"#).unwrap();
        let old: LlamaCppProps = serde_json::from_str(r#"{"n_ctx": 4096}"#).unwrap();
        assert_eq!(new.n_ctx(), Some(16_384));
        assert_eq!(old.n_ctx(), Some(4096));
    }
}
