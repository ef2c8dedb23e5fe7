//! One `model_list` entry's `litellm_params` as a Switchyard endpoint: the protocol and base URL
//! (from the provider prefix of `model` and `api_base`), the upstream model, and where the key
//! comes from. Pure; `map.rs` turns it into a backend and a target.

use secrecy::SecretString;

use super::wire::ModelEntry;
use crate::config::BackendKind;
use crate::providers;

/// Where a deployment's key comes from.
#[derive(Debug, Clone)]
pub enum KeySpec {
    /// No key (a local engine, or none written and no usual variable).
    None,
    /// An environment variable: written as `os.environ/X` or `${X}`, or `implied`: none was
    /// written and LiteLLM reads the provider's usual variable.
    Env { var: String, implied: bool },
    /// A key written in the file: it goes to the keychain, never to the config.
    Literal(SecretString),
}

/// A deployment Switchyard can reach.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The provider prefix as LiteLLM wrote it (`ollama_chat`, `anthropic`).
    pub provider: String,
    pub kind: BackendKind,
    pub base_url: String,
    /// What a new backend for it is called (made unique later).
    pub id_hint: String,
    /// The upstream model; `None`: a wildcard (`openai/*`), the requested name is sent as is.
    pub model: Option<String>,
    pub key: KeySpec,
    /// What was assumed on the way (`/v1` added, a placeholder key dropped, ...).
    pub notes: Vec<String>,
}

/// What LiteLLM does with a provider prefix that Switchyard can follow.
struct Route {
    litellm: &'static str,
    /// The Switchyard provider (`providers::PROVIDERS`) of its own endpoint.
    provider: &'static str,
    /// LiteLLM reads the key from this variable when none is written.
    key_env: Option<&'static str>,
    /// LiteLLM has no default URL for it: `api_base` is required.
    needs_base: bool,
}

const fn r(
    litellm: &'static str,
    provider: &'static str,
    key_env: Option<&'static str>,
    needs_base: bool,
) -> Route {
    Route {
        litellm,
        provider,
        key_env,
        needs_base,
    }
}

const ROUTES: &[Route] = &[
    r("anthropic", "anthropic", Some("ANTHROPIC_API_KEY"), false),
    r("openai", "openai", Some("OPENAI_API_KEY"), false),
    r(
        "openrouter",
        "openrouter",
        Some("OPENROUTER_API_KEY"),
        false,
    ),
    r("deepseek", "deepseek", Some("DEEPSEEK_API_KEY"), false),
    r("gemini", "gemini", Some("GEMINI_API_KEY"), false),
    r("groq", "groq", Some("GROQ_API_KEY"), false),
    r("mistral", "mistral", Some("MISTRAL_API_KEY"), false),
    r("xai", "xai", Some("XAI_API_KEY"), false),
    r("together_ai", "together", Some("TOGETHERAI_API_KEY"), false),
    r(
        "fireworks_ai",
        "fireworks",
        Some("FIREWORKS_AI_API_KEY"),
        false,
    ),
    r("moonshot", "moonshot", Some("MOONSHOT_API_KEY"), false),
    r("dashscope", "dashscope", Some("DASHSCOPE_API_KEY"), false),
    r("ollama", "ollama", None, false),
    r("ollama_chat", "ollama", None, false),
    r("hosted_vllm", "vllm", None, true),
    r("lm_studio", "lmstudio", None, true),
];

/// Providers LiteLLM reaches in ways Switchyard does not, with the reason.
fn unsupported(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "bedrock" | "bedrock_converse" | "sagemaker" | "sagemaker_chat" => {
            "AWS requests are signed with AWS credentials, not sent with an API key; Switchyard cannot sign them"
        }
        "vertex_ai" | "vertex_ai_beta" => {
            "Google Vertex AI is authorised with Google Cloud credentials (vertex_project, vertex_location), not an API key; Switchyard cannot use them (Gemini's own API is: gemini/MODEL)"
        }
        "azure" | "azure_ai" | "azure_text" => {
            "Azure OpenAI's deployment URLs and api-version are not supported"
        }
        "text-completion-openai" | "text-completion-codestral" => {
            "the legacy Completions API is not supported (Switchyard uses Chat Completions: openai/MODEL)"
        }
        "vllm" => {
            "vllm/ runs vLLM inside LiteLLM's own process; point Switchyard at a vLLM server instead (hosted_vllm/MODEL with its api_base)"
        }
        _ => return None,
    })
}

/// Keys that local servers are commonly given only because a client insists on one.
const PLACEHOLDER_KEYS: &[&str] = &[
    "none",
    "empty",
    "dummy",
    "ollama",
    "sk-no-key-required",
    "not-needed",
    "no-key",
];

/// `entry` as a reachable deployment, or why it is not one.
pub fn read(entry: &ModelEntry) -> Result<Deployment, String> {
    let model = match entry.param("model").map(|n| n.scalar_text()) {
        Some(Some(model)) if !model.trim().is_empty() => model.trim().to_owned(),
        Some(_) => return Err("litellm_params.model is not a model name".to_owned()),
        None => return Err("it has no litellm_params.model".to_owned()),
    };
    let custom = entry
        .param("custom_llm_provider")
        .and_then(|n| n.as_str())
        .map(str::trim);
    let (provider, name) = split_model(&model, custom)?;
    if let Some(why) = unsupported(&provider) {
        return Err(format!("{provider}/: {why}"));
    }
    let Some(route) = ROUTES.iter().find(|r| r.litellm == provider) else {
        return Err(format!(
            "{provider}/ is not a provider Switchyard knows: it talks to Anthropic-style, OpenAI-compatible and Ollama endpoints (an OpenAI-compatible one can be written openai/MODEL with its api_base)"
        ));
    };
    let preset = providers::provider(route.provider)
        .ok_or_else(|| format!("{provider}/: no endpoint is known for it"))?;
    let model = match name.as_str() {
        "*" => None,
        n if n.contains('*') => {
            return Err(format!(
                "{model}: a wildcard inside a model name is not supported (only PROVIDER/*, which sends the requested name unchanged)"
            ));
        }
        _ => Some(name),
    };
    let mut notes = Vec::new();
    let protocol = match route.litellm {
        "anthropic" => BackendKind::Anthropic,
        "ollama" | "ollama_chat" => BackendKind::Ollama,
        _ => BackendKind::OpenaiChat,
    };
    let api_base = entry.param("api_base").or_else(|| entry.param("base_url"));
    let (kind, base_url, own_endpoint) = match api_base {
        None if route.needs_base => {
            return Err(format!(
                "{provider}/ needs an api_base (LiteLLM has no default URL for it)"
            ));
        }
        None => (preset.kind, preset.base_url.to_owned(), true),
        Some(node) => {
            let raw = node.scalar_text().unwrap_or_default();
            if let Some(var) = env_reference(&raw) {
                return Err(format!(
                    "its api_base comes from the environment variable {var}; Switchyard needs the URL itself: write it in api_base and import again"
                ));
            }
            let url = clean_base(&raw, protocol, &mut notes)?;
            if same_host(&url, preset.base_url) {
                // The provider's own endpoint, however LiteLLM spells it: the way Switchyard
                // reaches that provider (its preset) serves the same models and key.
                (preset.kind, preset.base_url.to_owned(), true)
            } else {
                (protocol, url, false)
            }
        }
    };
    let id_hint = if own_endpoint || preset.local && is_loopback(&base_url) {
        preset.id.to_owned()
    } else {
        format!("{}-{}", preset.id, host_label(&base_url))
    };
    let key = read_key(entry, route, own_endpoint, &base_url, &mut notes)?;
    Ok(Deployment {
        provider,
        kind,
        base_url,
        id_hint,
        model,
        key,
        notes,
    })
}

/// `ollama/qwen2.5:7b` → (`ollama`, `qwen2.5:7b`); `claude-3-5-sonnet` → (`anthropic`, ...).
fn split_model(model: &str, custom: Option<&str>) -> Result<(String, String), String> {
    if let Some(provider) = custom.filter(|c| !c.is_empty()) {
        let name = model.strip_prefix(&format!("{provider}/")).unwrap_or(model);
        return Ok((provider.to_owned(), name.to_owned()));
    }
    if let Some((provider, name)) = model.split_once('/') {
        return Ok((provider.to_owned(), name.to_owned()));
    }
    // LiteLLM recognises some bare names from its own model list.
    let lower = model.to_ascii_lowercase();
    if lower.starts_with("claude") {
        return Ok(("anthropic".to_owned(), model.to_owned()));
    }
    if ["gpt-", "chatgpt-", "o1", "o3", "o4"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Ok(("openai".to_owned(), model.to_owned()));
    }
    Err(format!(
        "{model} has no provider prefix (write it as PROVIDER/{model}, e.g. openai/{model} with its api_base)"
    ))
}

/// `os.environ/NAME` or `${NAME}` → `NAME`.
pub fn env_reference(text: &str) -> Option<&str> {
    let text = text.trim();
    let var = text
        .strip_prefix("os.environ/")
        .or_else(|| text.strip_prefix("${")?.strip_suffix('}'))?
        .trim();
    let valid = !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(var)
}

fn read_key(
    entry: &ModelEntry,
    route: &Route,
    own_endpoint: bool,
    base_url: &str,
    notes: &mut Vec<String>,
) -> Result<KeySpec, String> {
    let implied = || match route.key_env {
        // LiteLLM would send that variable to a custom api_base too, but a local server with
        // a key it never asked for set nowhere would fail every request here.
        Some(var) if own_endpoint => KeySpec::Env {
            var: var.to_owned(),
            implied: true,
        },
        _ => KeySpec::None,
    };
    let Some(node) = entry.param("api_key") else {
        return Ok(implied());
    };
    let text = match node.scalar_text() {
        Some(text) if node.value != super::yaml::Value::Null => text.trim().to_owned(),
        _ => return Ok(implied()),
    };
    if text.is_empty() {
        return Ok(implied());
    }
    if text.starts_with("os.environ/") || text.starts_with("${") {
        return match env_reference(&text) {
            Some(var) => Ok(KeySpec::Env {
                var: var.to_owned(),
                implied: false,
            }),
            None => Err("its api_key names no valid environment variable".to_owned()),
        };
    }
    if is_loopback(base_url) && PLACEHOLDER_KEYS.contains(&text.to_ascii_lowercase().as_str()) {
        notes.push(format!(
            "the placeholder key {text:?} of a local server is not stored"
        ));
        return Ok(KeySpec::None);
    }
    Ok(KeySpec::Literal(SecretString::from(text)))
}

/// A base URL as Switchyard's backend kinds want it: no trailing `/`, no endpoint path, and
/// `/v1` on an OpenAI-style root.
fn clean_base(raw: &str, kind: BackendKind, notes: &mut Vec<String>) -> Result<String, String> {
    let mut url = raw.trim().trim_end_matches('/').to_owned();
    let endpoints: &[&str] = match kind {
        BackendKind::Anthropic => &["/v1/messages", "/messages"],
        BackendKind::OpenaiChat => &["/chat/completions"],
        BackendKind::Ollama => &["/api/chat", "/api/generate", "/api"],
        BackendKind::Bedrock | BackendKind::Vertex => &[],
    };
    for suffix in endpoints {
        if let Some(stripped) = url.strip_suffix(suffix) {
            url = stripped.trim_end_matches('/').to_owned();
            break;
        }
    }
    let parsed = reqwest::Url::parse(&url)
        .map_err(|err| format!("its api_base {raw:?} is not a URL ({err})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(format!(
            "its api_base {raw:?} is not an http:// or https:// URL"
        ));
    }
    if kind == BackendKind::OpenaiChat && matches!(parsed.path(), "" | "/") {
        notes.push(format!(
            "{url} has no path: /v1 added (OpenAI-compatible servers answer under /v1)"
        ));
        url.push_str("/v1");
    }
    Ok(url)
}

fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

fn same_host(a: &str, b: &str) -> bool {
    host_of(a).is_some_and(|host| Some(host) == host_of(b))
}

fn is_loopback(url: &str) -> bool {
    host_of(url).is_some_and(|host| crate::config::is_loopback_host(&host))
}

/// `gpu-box` of `http://gpu-box:8000/v1`; `local` for loopback addresses.
fn host_label(url: &str) -> String {
    match host_of(url) {
        Some(host) if crate::config::is_loopback_host(&host) => "local".to_owned(),
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .replace(':', "-"),
        None => "custom".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litellm::wire;
    use secrecy::ExposeSecret;

    fn preset(key: &str) -> &'static providers::Provider {
        providers::provider(key).unwrap()
    }

    fn entry(params: &str) -> ModelEntry {
        let text = format!("model_list:\n  - model_name: m\n    litellm_params:\n{params}");
        wire::parse(&text).unwrap().models.remove(0)
    }

    #[test]
    fn environment_keys_in_both_spellings() {
        for spelling in [
            "os.environ/DEEPSEEK_KEY",
            "${DEEPSEEK_KEY}",
            "\"${DEEPSEEK_KEY}\"",
        ] {
            let d = read(&entry(&format!(
                "      model: deepseek/deepseek-chat\n      api_key: {spelling}\n"
            )))
            .unwrap();
            assert!(
                matches!(&d.key, KeySpec::Env { var, implied: false } if var == "DEEPSEEK_KEY"),
                "{spelling}: {:?}",
                d.key
            );
        }
        assert_eq!(env_reference("${NOT A NAME}"), None);
        assert_eq!(env_reference("sk-1234"), None);
    }

    #[test]
    fn providers_become_kinds_and_urls() {
        let d = read(&entry(
            "      model: ollama/qwen2.5:7b\n      api_base: http://localhost:11434/\n",
        ))
        .unwrap();
        assert_eq!(
            (d.kind, d.base_url.as_str()),
            (BackendKind::Ollama, "http://localhost:11434")
        );
        assert_eq!(
            (d.id_hint.as_str(), d.model.as_deref()),
            ("ollama", Some("qwen2.5:7b"))
        );
        assert!(matches!(d.key, KeySpec::None));

        let d = read(&entry(
            "      model: openrouter/anthropic/claude-3.5-sonnet\n",
        ))
        .unwrap();
        assert_eq!(d.base_url, preset("openrouter").base_url);
        assert_eq!(d.model.as_deref(), Some("anthropic/claude-3.5-sonnet"));
        assert!(
            matches!(&d.key, KeySpec::Env { var, implied: true } if var == "OPENROUTER_API_KEY")
        );

        // The provider's own host, however written, is the provider's preset.
        let d = read(&entry(
            "      model: deepseek/deepseek-chat\n      api_base: https://api.deepseek.com/v1\n",
        ))
        .unwrap();
        assert_eq!(
            (d.kind, d.base_url.as_str()),
            (preset("deepseek").kind, preset("deepseek").base_url)
        );

        let d = read(&entry("      model: claude-3-5-haiku-latest\n")).unwrap();
        assert_eq!(
            (d.kind, d.id_hint.as_str()),
            (BackendKind::Anthropic, "anthropic")
        );

        let d = read(&entry("      model: hosted_vllm/Qwen/Qwen3-8B\n      api_base: http://gpu-box:8000\n      api_key: EMPTY\n")).unwrap();
        assert_eq!(d.base_url, "http://gpu-box:8000/v1");
        assert_eq!(d.id_hint, "vllm-gpu-box");
        assert_eq!(d.model.as_deref(), Some("Qwen/Qwen3-8B"));
        assert!(
            matches!(d.key, KeySpec::Literal(_)),
            "only a local server's placeholder is dropped"
        );

        let d = read(&entry("      model: openai/*\n      api_base: http://127.0.0.1:8000/v1/chat/completions\n      api_key: none\n")).unwrap();
        assert_eq!(
            (d.base_url.as_str(), d.model),
            ("http://127.0.0.1:8000/v1", None)
        );
        assert_eq!(d.id_hint, "openai-local");
        assert!(matches!(d.key, KeySpec::None));
    }

    #[test]
    fn a_literal_key_is_kept_as_a_secret() {
        let d = read(&entry(
            "      model: openai/gpt-4o\n      api_key: sk-live-123\n",
        ))
        .unwrap();
        match d.key {
            KeySpec::Literal(key) => assert_eq!(key.expose_secret(), "sk-live-123"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_cannot_be_reached_says_why() {
        for (params, why) in [
            ("      model: bedrock/anthropic.claude-3\n", "AWS"),
            ("      model: vertex_ai/gemini-pro\n", "Vertex AI"),
            ("      model: azure/gpt-4\n", "Azure"),
            (
                "      model: cohere/command-r\n",
                "not a provider Switchyard knows",
            ),
            ("      model: hosted_vllm/qwen\n", "needs an api_base"),
            ("      model: mistral-large\n", "no provider prefix"),
            ("      model: openai/gpt-*\n", "wildcard"),
            (
                "      model: openai/x\n      api_base: os.environ/BASE\n",
                "environment variable BASE",
            ),
            (
                "      model: openai/x\n      api_base: ftp://x\n",
                "http://",
            ),
            ("      api_key: x\n", "no litellm_params.model"),
        ] {
            let err = read(&entry(params)).unwrap_err();
            assert!(err.contains(why), "{params}: {err}");
        }
    }
}
