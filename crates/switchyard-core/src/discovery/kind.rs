//! Which engine answered a probe: its own module because both the endpoints to probe and
//! the report of what was found name it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    Ollama,
    Vllm,
    LlamaCpp,
    LmStudio,
    Sglang,
    /// Answers an OpenAI model list but did not say which engine it is.
    OpenaiCompatible,
}

impl EngineKind {
    pub fn label(self) -> &'static str {
        match self {
            EngineKind::Ollama => "Ollama",
            EngineKind::Vllm => "vLLM",
            EngineKind::LlamaCpp => "llama.cpp",
            EngineKind::LmStudio => "LM Studio",
            EngineKind::Sglang => "SGLang",
            EngineKind::OpenaiCompatible => "OpenAI-compatible",
        }
    }
}
