//! What differs between "OpenAI-compatible" servers, decided in one place from the backend's
//! `base_url` host and the upstream model name (no config needed for the known cases):
//!
//! | Server | Difference |
//! |---|---|
//! | api.openai.com | rejects unknown fields (`top_k`); at most 4 `stop` strings |
//! | OpenAI o-series / gpt-5 models (any host) | `max_completion_tokens` instead of `max_tokens`; no `temperature`/`top_p`; thinking → `reasoning_effort` |
//! | DeepSeek (api.deepseek.com or a `deepseek` model) | prior reasoning must come back as `reasoning_content` on assistant turns with tool calls |
//! | loopback / LAN hosts (vLLM, llama.cpp, LM Studio, Ollama's /v1) | accept `top_k` |
//!
//! Responses are read in every dialect with both `reasoning_content` and `reasoning`.

use crate::anthropic::{MessagesRequest, ThinkingConfig};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    pub max_completion_tokens: bool,
    pub sampling_params: bool,
    pub top_k: bool,
    pub max_stop: Option<usize>,
    pub reasoning_effort: bool,
    pub echo_reasoning: bool,
}

/// The host part of a URL (`http://user@host:port/path` → `host`), lowercased.
fn host(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

fn is_local(host: &str) -> bool {
    // A single-label name (`gpu-box`) can only be resolved on the local network.
    !host.contains('.') && !host.contains(':')
        || host == "localhost"
        || host.ends_with(".local")
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| match ip {
            std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
            std::net::IpAddr::V6(v6) => v6.is_loopback(),
        })
}

/// OpenAI reasoning models: `o1`, `o3-mini`, `o4-mini`, `gpt-5`, `gpt-5-mini`...
fn is_openai_reasoning_model(model: &str) -> bool {
    let model = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    let bytes = model.as_bytes();
    (bytes.first() == Some(&b'o') && bytes.get(1).is_some_and(u8::is_ascii_digit))
        || model.starts_with("gpt-5")
}

impl Dialect {
    pub fn detect(base_url: &str, model: &str) -> Dialect {
        let host = host(base_url);
        let openai = host == "api.openai.com";
        let reasoning_model = is_openai_reasoning_model(model);
        let deepseek =
            host == "api.deepseek.com" || model.to_ascii_lowercase().contains("deepseek");
        Dialect {
            max_completion_tokens: reasoning_model || openai,
            sampling_params: !reasoning_model,
            top_k: is_local(&host),
            max_stop: openai.then_some(4),
            reasoning_effort: reasoning_model,
            echo_reasoning: deepseek,
        }
    }
}

/// `reasoning_effort` for a request that asked for thinking: `output_config.effort` when
/// given (clamped to low/medium/high), else from the budget (< 4096 low, < 16384 medium,
/// else high). `None` when thinking is off.
pub fn reasoning_effort(req: &MessagesRequest) -> Option<&'static str> {
    let thinking = req.thinking.as_ref()?;
    if !thinking.is_on() {
        return None;
    }
    let effort = req.output_config.as_ref().and_then(|c| c.effort.as_deref());
    match effort {
        Some("low") => return Some("low"),
        Some("medium") => return Some("medium"),
        Some("high" | "xhigh" | "max") => return Some("high"),
        _ => {}
    }
    match thinking {
        ThinkingConfig::Enabled {
            budget_tokens: Some(budget),
            ..
        } => Some(if *budget < 4096 {
            "low"
        } else if *budget < 16384 {
            "medium"
        } else {
            "high"
        }),
        _ => Some("medium"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(host("https://api.openai.com/v1"), "api.openai.com");
        assert_eq!(host("http://127.0.0.1:8000/v1"), "127.0.0.1");
        assert_eq!(host("http://[::1]:8000/v1"), "::1");
        assert_eq!(host("http://u:p@Box.LOCAL:1234/v1"), "box.local");
    }

    #[test]
    fn detects_dialects() {
        let openai = Dialect::detect("https://api.openai.com/v1", "gpt-4.1");
        assert!(openai.max_completion_tokens && !openai.top_k && openai.sampling_params);
        assert_eq!(openai.max_stop, Some(4));
        let o3 = Dialect::detect("https://api.openai.com/v1", "o3-mini");
        assert!(o3.reasoning_effort && !o3.sampling_params);
        let vllm = Dialect::detect("http://127.0.0.1:8000/v1", "qwen3-coder");
        assert!(!vllm.max_completion_tokens && vllm.top_k && !vllm.echo_reasoning);
        let deepseek = Dialect::detect("https://api.deepseek.com/v1", "deepseek-chat");
        assert!(deepseek.echo_reasoning && !deepseek.top_k);
        assert!(!is_openai_reasoning_model("openchat"));
        assert!(Dialect::detect("http://gpu-box:8000/v1", "qwen3").top_k);
        assert!(!Dialect::detect("https://api.groq.com/openai/v1", "llama").top_k);
    }
}
