//! Where backends point: the providers Switchyard knows (the protocol and base URL it uses
//! for each, and the id a backend for it gets), how two base URLs are told to be the same
//! endpoint, and how a new backend id is made unique.
//!
//! The app's backend presets (`ui/src/lib/presets.ts`) list the same providers; this table is
//! the one the engine uses (the LiteLLM import), so a provider's URL is decided here. Claude on
//! Bedrock and Vertex has no URL to decide (a region names the endpoint): the presets list
//! them, and the import reads them itself (`litellm/deployment.rs`).

use serde::Serialize;

use crate::config::BackendKind;

/// A provider a backend can be made for without typing its URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Provider {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: BackendKind,
    pub base_url: &'static str,
    /// The id a new backend for it gets (made unique with `-2`, `-3`...).
    pub id: &'static str,
    /// Runs on this machine (free, no key needed).
    pub local: bool,
}

const fn p(
    key: &'static str,
    label: &'static str,
    kind: BackendKind,
    base_url: &'static str,
    id: &'static str,
    local: bool,
) -> Provider {
    Provider {
        key,
        label,
        kind,
        base_url,
        id,
        local,
    }
}

use BackendKind::{Anthropic, Ollama, OpenaiChat};

/// Providers with an Anthropic-compatible endpoint are reached through it (`anthropic`
/// pass-through: no translation), the others through their OpenAI-compatible one.
pub const PROVIDERS: &[Provider] = &[
    p(
        "ollama",
        "Ollama",
        Ollama,
        "http://127.0.0.1:11434",
        "ollama",
        true,
    ),
    p(
        "lmstudio",
        "LM Studio",
        OpenaiChat,
        "http://127.0.0.1:1234/v1",
        "lmstudio",
        true,
    ),
    p(
        "vllm",
        "vLLM",
        OpenaiChat,
        "http://127.0.0.1:8000/v1",
        "vllm",
        true,
    ),
    p(
        "llamacpp",
        "llama.cpp server",
        OpenaiChat,
        "http://127.0.0.1:8080/v1",
        "llamacpp",
        true,
    ),
    p(
        "anthropic",
        "Anthropic",
        Anthropic,
        "https://api.anthropic.com",
        "anthropic",
        false,
    ),
    p(
        "openai",
        "OpenAI",
        OpenaiChat,
        "https://api.openai.com/v1",
        "openai",
        false,
    ),
    p(
        "openrouter",
        "OpenRouter",
        OpenaiChat,
        "https://openrouter.ai/api/v1",
        "openrouter",
        false,
    ),
    p(
        "deepseek",
        "DeepSeek",
        Anthropic,
        "https://api.deepseek.com/anthropic",
        "deepseek",
        false,
    ),
    p(
        "moonshot",
        "Moonshot / Kimi",
        Anthropic,
        "https://api.moonshot.ai/anthropic",
        "kimi",
        false,
    ),
    p(
        "zhipu",
        "Zhipu GLM",
        Anthropic,
        "https://open.bigmodel.cn/api/anthropic",
        "glm",
        false,
    ),
    p(
        "dashscope",
        "Qwen / DashScope",
        OpenaiChat,
        "https://dashscope.aliyuncs.com/compatible-mode/v1",
        "qwen",
        false,
    ),
    p(
        "groq",
        "Groq",
        OpenaiChat,
        "https://api.groq.com/openai/v1",
        "groq",
        false,
    ),
    p(
        "gemini",
        "Google Gemini",
        OpenaiChat,
        "https://generativelanguage.googleapis.com/v1beta/openai",
        "gemini",
        false,
    ),
    p(
        "mistral",
        "Mistral",
        OpenaiChat,
        "https://api.mistral.ai/v1",
        "mistral",
        false,
    ),
    p(
        "xai",
        "xAI",
        OpenaiChat,
        "https://api.x.ai/v1",
        "xai",
        false,
    ),
    p(
        "together",
        "Together AI",
        OpenaiChat,
        "https://api.together.xyz/v1",
        "together",
        false,
    ),
    p(
        "fireworks",
        "Fireworks AI",
        OpenaiChat,
        "https://api.fireworks.ai/inference/v1",
        "fireworks",
        false,
    ),
];

/// The provider called `key` (`"deepseek"`).
pub fn provider(key: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.key == key)
}

/// One form for comparing base URLs: lower case, no trailing `/`, no `/v1`, `localhost` as
/// 127.0.0.1 (an engine answers on both).
pub fn endpoint_form(url: &str) -> String {
    crate::discovery::same_host_form(crate::discovery::root_url(url.trim()))
}

/// `Ollama` → `ollama`, `LM Studio` → `lm-studio`, then `-2`, `-3`... until unused.
pub fn unique_backend_id(label: &str, taken: &[String]) -> String {
    let base: String = label
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = base.trim_matches('-').to_owned();
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_made_unique() {
        let taken = vec!["ollama".to_owned(), "ollama-2".to_owned()];
        assert_eq!(unique_backend_id("Ollama", &taken), "ollama-3");
        assert_eq!(unique_backend_id("LM Studio", &taken), "lm-studio");
        assert_eq!(unique_backend_id("llama.cpp", &[]), "llama.cpp");
    }

    #[test]
    fn endpoints_compare_without_v1_slash_or_localhost() {
        assert_eq!(
            endpoint_form("http://localhost:8000/v1/"),
            endpoint_form("http://127.0.0.1:8000")
        );
        assert_ne!(
            endpoint_form("http://127.0.0.1:8000"),
            endpoint_form("http://127.0.0.1:8001")
        );
    }

    /// Every URL parses and passes the config's own check, and keys and ids are unique.
    #[test]
    fn the_table_is_well_formed() {
        for (i, provider) in PROVIDERS.iter().enumerate() {
            let url = reqwest::Url::parse(provider.base_url).unwrap();
            assert!(matches!(url.scheme(), "http" | "https"), "{provider:?}");
            assert_eq!(
                provider.local,
                crate::pricing::is_local_url(provider.base_url)
            );
            assert!(
                PROVIDERS[..i]
                    .iter()
                    .all(|o| o.key != provider.key && o.id != provider.id)
            );
            assert_eq!(
                provider.kind == BackendKind::OpenaiChat,
                provider.base_url.contains("/v1") || provider.base_url.ends_with("/openai"),
                "{provider:?}"
            );
        }
    }
}
