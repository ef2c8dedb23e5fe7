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
    /// Bedrock and Vertex: the cloud region.
    pub region: Option<String>,
    /// Vertex: the Google Cloud project.
    pub project: Option<String>,
    /// What was assumed on the way (`/v1` added, a placeholder key dropped, ...).
    pub notes: Vec<String>,
}

impl Deployment {
    /// Where it points, for the report: the URL, or a cloud's region and project.
    pub fn place(&self) -> String {
        let mut parts = Vec::new();
        if let Some(project) = &self.project {
            parts.push(format!("project {project}"));
        }
        if let Some(region) = &self.region {
            parts.push(format!("region {region}"));
        }
        if !self.base_url.is_empty() {
            parts.push(self.base_url.clone());
        }
        parts.join(", ")
    }
}

/// The `litellm_params` keys of Claude on Bedrock and Vertex that `read` takes.
pub const CLOUD_KEYS: &[&str] = &[
    "aws_region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_profile_name",
    "aws_bedrock_runtime_endpoint",
    "vertex_project",
    "vertex_location",
    "vertex_credentials",
];

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
        "sagemaker" | "sagemaker_chat" => {
            "SageMaker endpoints are not supported (Claude on Amazon Bedrock is: bedrock/anthropic.claude-...)"
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
    match provider.as_str() {
        "bedrock" | "bedrock_converse" => return bedrock(entry, provider, &name),
        "vertex_ai" | "vertex_ai_beta" => return vertex(entry, provider, &name),
        _ => {}
    }
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
        region: None,
        project: None,
        notes,
    })
}

/// A parameter written literally (`Ok(None)` when absent); one read from the environment
/// cannot be followed, since the config needs the value itself.
fn literal(entry: &ModelEntry, key: &str) -> Result<Option<String>, String> {
    let Some(text) = entry
        .param(key)
        .and_then(|n| n.scalar_text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    if let Some(var) = env_reference(&text) {
        return Err(format!(
            "its {key} comes from the environment variable {var}; Switchyard needs the value itself: write it in {key} and import again"
        ));
    }
    Ok(Some(text))
}

/// A parameter as a key source: `os.environ/X`, a literal, or absent.
enum Written {
    Absent,
    Env(String),
    Literal(String),
}

fn written(entry: &ModelEntry, key: &str) -> Result<Written, String> {
    let Some(text) = entry
        .param(key)
        .and_then(|n| n.scalar_text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
    else {
        return Ok(Written::Absent);
    };
    if text.starts_with("os.environ/") || text.starts_with("${") {
        return match env_reference(&text) {
            Some(var) => Ok(Written::Env(var.to_owned())),
            None => Err(format!("its {key} names no valid environment variable")),
        };
    }
    Ok(Written::Literal(text))
}

/// `bedrock/anthropic.claude-...` (also `bedrock/converse/...`, `bedrock/invoke/...`,
/// inference profiles and their ARNs): Claude on Amazon Bedrock.
fn bedrock(entry: &ModelEntry, provider: String, name: &str) -> Result<Deployment, String> {
    let model = ["converse/", "invoke/"]
        .iter()
        .find_map(|route| name.strip_prefix(route))
        .unwrap_or(name);
    if model.contains('*') {
        return Err(format!(
            "{provider}/{model}: a wildcard is not supported for Bedrock (name the model id)"
        ));
    }
    let last = model.rsplit('/').next().unwrap_or(model);
    let claude = crate::pricing::claude_on_cloud(last).is_some_and(|m| m.starts_with("claude"))
        || model.starts_with("arn:aws");
    if !claude {
        return Err(format!(
            "{provider}/{model}: Switchyard reaches Claude on Bedrock (anthropic.claude-..., inference profiles such as us.anthropic.claude-...), not other vendors' models"
        ));
    }
    let mut notes = Vec::new();
    let region = match literal(entry, "aws_region_name")? {
        Some(region) if crate::backends::bedrock::request::is_region_name(&region) => region,
        Some(region) => {
            return Err(format!(
                "its aws_region_name {region:?} is not an AWS region"
            ));
        }
        None => {
            notes.push(
                "no aws_region_name: us-west-2, LiteLLM's default when AWS_REGION_NAME is unset"
                    .to_owned(),
            );
            "us-west-2".to_owned()
        }
    };
    let base_url = match literal(entry, "aws_bedrock_runtime_endpoint")? {
        Some(url) => {
            let parsed = reqwest::Url::parse(&url).map_err(|e| {
                format!("its aws_bedrock_runtime_endpoint {url:?} is not a URL ({e})")
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(format!(
                    "its aws_bedrock_runtime_endpoint {url:?} is not an http:// or https:// URL"
                ));
            }
            url.trim_end_matches('/').to_owned()
        }
        None => String::new(),
    };
    let key = bedrock_key(entry, &mut notes)?;
    if let Some(profile) = literal(entry, "aws_profile_name")?.filter(|p| p != "default") {
        notes.push(format!(
            "aws_profile_name {profile}: set AWS_PROFILE={profile} where Switchyard runs (it reads that profile of ~/.aws/credentials when no credentials are stored)"
        ));
    }
    Ok(Deployment {
        provider,
        kind: BackendKind::Bedrock,
        base_url,
        id_hint: "bedrock".to_owned(),
        model: Some(model.to_owned()),
        key,
        region: Some(region),
        project: None,
        notes,
    })
}

/// Bedrock's credentials as LiteLLM has them: an `api_key` (a Bedrock API key), the access
/// key pair written in the file (stored in the keychain as `ID:SECRET[:TOKEN]`), or the
/// standard AWS environment, which Switchyard reads itself.
fn bedrock_key(entry: &ModelEntry, notes: &mut Vec<String>) -> Result<KeySpec, String> {
    use crate::cloud::aws::{ACCESS_KEY_ENV, SECRET_KEY_ENV, SESSION_TOKEN_ENV};
    match written(entry, "api_key")? {
        Written::Env(var) => {
            return Ok(KeySpec::Env {
                var,
                implied: false,
            });
        }
        Written::Literal(key) => return Ok(KeySpec::Literal(SecretString::from(key))),
        Written::Absent => {}
    }
    let id = written(entry, "aws_access_key_id")?;
    let secret = written(entry, "aws_secret_access_key")?;
    let token = written(entry, "aws_session_token")?;
    match (id, secret, token) {
        (Written::Absent, Written::Absent, Written::Absent) => {
            notes.push(
                "credentials from the AWS environment variables or ~/.aws/credentials where Switchyard runs (as LiteLLM's boto3 reads them), or stored with `switchyard key set`"
                    .to_owned(),
            );
            Ok(KeySpec::None)
        }
        (Written::Literal(id), Written::Literal(secret), token) => {
            let token = match token {
                Written::Literal(token) => format!(":{token}"),
                Written::Absent => String::new(),
                Written::Env(_) => {
                    return Err(
                        "its aws_session_token comes from the environment while the key pair is written in the file: write all three, or all as os.environ/"
                            .to_owned(),
                    );
                }
            };
            Ok(KeySpec::Literal(SecretString::from(format!(
                "{id}:{secret}{token}"
            ))))
        }
        (Written::Env(id), Written::Env(secret), token) => {
            let token = match token {
                Written::Env(var) => Some(var),
                Written::Absent => None,
                Written::Literal(_) => {
                    return Err(
                        "its aws_session_token is written in the file while the key pair comes from the environment: write all three, or all as os.environ/"
                            .to_owned(),
                    );
                }
            };
            let standard = id == ACCESS_KEY_ENV
                && secret == SECRET_KEY_ENV
                && token.as_deref().is_none_or(|t| t == SESSION_TOKEN_ENV);
            if standard {
                notes.push(format!(
                    "credentials from {ACCESS_KEY_ENV} / {SECRET_KEY_ENV} where Switchyard runs"
                ));
            } else {
                notes.push(format!(
                    "Switchyard reads {ACCESS_KEY_ENV} / {SECRET_KEY_ENV}{}, not {id} / {secret}{}: set those where Switchyard runs, or store the credentials with `switchyard key set`",
                    if token.is_some() { format!(" / {SESSION_TOKEN_ENV}") } else { String::new() },
                    token.map(|t| format!(" / {t}")).unwrap_or_default(),
                ));
            }
            Ok(KeySpec::None)
        }
        _ => Err(
            "aws_access_key_id and aws_secret_access_key go together: write both in the file, or both as os.environ/"
                .to_owned(),
        ),
    }
}

/// `vertex_ai/claude-...`: Claude on Google Vertex AI.
fn vertex(entry: &ModelEntry, provider: String, name: &str) -> Result<Deployment, String> {
    if !name.starts_with("claude") {
        return Err(format!(
            "{provider}/{name}: Switchyard reaches Claude on Vertex AI (vertex_ai/claude-...), not other models there (Gemini's own API is: gemini/MODEL)"
        ));
    }
    let mut notes = Vec::new();
    let Some(project) = literal(entry, "vertex_project")? else {
        return Err(format!(
            "{provider}/{name} needs vertex_project (the Google Cloud project the model is enabled in)"
        ));
    };
    let region = match literal(entry, "vertex_location")? {
        Some(region) if crate::backends::bedrock::request::is_region_name(&region) => region,
        Some(region) => {
            return Err(format!(
                "its vertex_location {region:?} is not a Google Cloud region"
            ));
        }
        None => {
            notes.push(
                "no vertex_location: us-central1, LiteLLM's default when VERTEXAI_LOCATION is unset"
                    .to_owned(),
            );
            "us-central1".to_owned()
        }
    };
    let key = match written(entry, "vertex_credentials")? {
        Written::Absent => {
            notes.push(format!(
                "credentials from {} where Switchyard runs (a service account's key file), or stored with `switchyard key set`",
                crate::cloud::google::APPLICATION_CREDENTIALS_ENV
            ));
            KeySpec::None
        }
        Written::Env(var) => KeySpec::Env {
            var,
            implied: false,
        },
        Written::Literal(json) if json.starts_with('{') => {
            KeySpec::Literal(SecretString::from(json))
        }
        Written::Literal(path) => {
            notes.push(format!(
                "vertex_credentials is the key file {path}: its path is stored for the backend and the file read when a token is needed (keep it there, or store its contents with `switchyard key set`)"
            ));
            KeySpec::Literal(SecretString::from(path))
        }
    };
    let base_url = match literal(entry, "api_base")? {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => String::new(),
    };
    Ok(Deployment {
        provider,
        kind: BackendKind::Vertex,
        base_url,
        id_hint: "vertex".to_owned(),
        model: Some(name.to_owned()),
        key,
        region: Some(region),
        project: Some(project),
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
    fn claude_on_bedrock_and_vertex_become_cloud_backends() {
        let d = read(&entry(
            "      model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0\n      aws_region_name: eu-west-1\n      aws_access_key_id: AKIDLITE\n      aws_secret_access_key: lite/secret\n",
        ))
        .unwrap();
        assert_eq!(d.kind, BackendKind::Bedrock);
        assert_eq!(d.base_url, "");
        assert_eq!(d.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            d.model.as_deref(),
            Some("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        match &d.key {
            KeySpec::Literal(key) => assert_eq!(key.expose_secret(), "AKIDLITE:lite/secret"),
            other => panic!("{other:?}"),
        }
        // The standard variables: Switchyard reads them itself.
        let d = read(&entry(
            "      model: bedrock/converse/anthropic.claude-3-haiku-20240307-v1:0\n      aws_region_name: us-east-1\n      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID\n      aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY\n",
        ))
        .unwrap();
        assert!(matches!(d.key, KeySpec::None));
        assert_eq!(
            d.model.as_deref(),
            Some("anthropic.claude-3-haiku-20240307-v1:0")
        );
        assert!(d.notes[0].contains("AWS_ACCESS_KEY_ID"), "{:?}", d.notes);
        // Others: a note says which to set.
        let d = read(&entry(
            "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n      aws_access_key_id: os.environ/MY_KEY\n      aws_secret_access_key: os.environ/MY_SECRET\n",
        ))
        .unwrap();
        assert!(
            d.notes.iter().any(|n| n.contains("us-west-2")),
            "{:?}",
            d.notes
        );
        assert!(
            d.notes.iter().any(|n| n.contains("not MY_KEY / MY_SECRET")),
            "{:?}",
            d.notes
        );

        let d = read(&entry(
            "      model: vertex_ai/claude-sonnet-4-5@20250929\n      vertex_project: my-proj\n      vertex_location: us-east5\n      vertex_credentials: /keys/sa.json\n",
        ))
        .unwrap();
        assert_eq!(d.kind, BackendKind::Vertex);
        assert_eq!(
            (d.project.as_deref(), d.region.as_deref()),
            (Some("my-proj"), Some("us-east5"))
        );
        assert_eq!(d.model.as_deref(), Some("claude-sonnet-4-5@20250929"));
        assert!(matches!(&d.key, KeySpec::Literal(k) if k.expose_secret() == "/keys/sa.json"));
        assert!(d.notes[0].contains("/keys/sa.json"), "{:?}", d.notes);
        assert_eq!(d.place(), "project my-proj, region us-east5");
        let d = read(&entry(
            "      model: vertex_ai/claude-haiku-4-5@20251001\n      vertex_project: p\n      vertex_credentials: os.environ/VERTEX_SA\n",
        ))
        .unwrap();
        assert!(matches!(&d.key, KeySpec::Env { var, implied: false } if var == "VERTEX_SA"));
        assert_eq!(d.region.as_deref(), Some("us-central1"));
    }

    #[test]
    fn what_cannot_be_reached_says_why() {
        for (params, why) in [
            (
                "      model: bedrock/amazon.nova-pro-v1:0\n",
                "Claude on Bedrock",
            ),
            ("      model: vertex_ai/gemini-pro\n", "Claude on Vertex AI"),
            (
                "      model: vertex_ai/claude-sonnet-4-5@20250929\n",
                "needs vertex_project",
            ),
            (
                "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n      aws_region_name: os.environ/AWS_REGION\n",
                "environment variable AWS_REGION",
            ),
            (
                "      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0\n      aws_access_key_id: AKID\n",
                "go together",
            ),
            ("      model: sagemaker/x\n", "SageMaker"),
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
