use serde_json::{Map, Value};

/// What the `opus`/`sonnet`/`haiku` aliases resolve to in Claude Code. Only worth setting
/// when the gateway's routes use names other than Claude's own (Claude Code sends its default
/// `claude-*` names otherwise, and the gateway routes those by pattern).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelAliases {
    pub opus: Option<String>,
    pub sonnet: Option<String>,
    /// Also used for Claude Code's background tasks (titles, summaries).
    pub haiku: Option<String>,
    pub subagent: Option<String>,
}

/// Optional parts of the environment. [`Default`] gives the recommended setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOptions {
    pub models: ModelAliases,
    /// `CLAUDE_CODE_MAX_CONTEXT_TOKENS`: the window Claude Code assumes for model ids that are
    /// not `claude-*`. Without it Claude Code assumes 200k and compacts far too late for a
    /// 32k local model.
    pub max_context_tokens: Option<u32>,
    /// `CLAUDE_CODE_MAX_OUTPUT_TOKENS` (Claude Code sends 32000 for unknown ids).
    pub max_output_tokens: Option<u32>,
    /// `API_TIMEOUT_MS`. Claude Code's default (10 min) cuts off slow local prefills; the
    /// default here is 30 min.
    pub api_timeout_ms: Option<u64>,
    /// `CLAUDE_CODE_ATTRIBUTION_HEADER=0`: keeps the per-request attribution block out of the
    /// system prompt so local engines' prefix caches hit (older Claude Code versions changed
    /// it on every request). On by default.
    pub disable_attribution_header: bool,
    /// `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`. Off by default: it also turns off Claude
    /// Code's auto-updates and error reporting, which is the user's call, not the gateway's.
    pub disable_nonessential_traffic: bool,
    /// `CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1`: Claude Code lists the gateway's
    /// `claude-*` aliases from `GET /v1/models` in `/model`.
    pub enable_model_discovery: bool,
}

impl Default for EnvOptions {
    fn default() -> Self {
        EnvOptions {
            models: ModelAliases::default(),
            max_context_tokens: None,
            max_output_tokens: None,
            api_timeout_ms: Some(1_800_000),
            disable_attribution_header: true,
            disable_nonessential_traffic: false,
            enable_model_discovery: false,
        }
    }
}

/// Every variable [`env_vars`] may set. A Switchyard that kept no record of its changes may
/// have set any of them; Restore looks for these then.
pub const MANAGED_VARS: &[&str] = &[
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "CLAUDE_CODE_SUBAGENT_MODEL",
    "CLAUDE_CODE_MAX_CONTEXT_TOKENS",
    "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
    "API_TIMEOUT_MS",
    "CLAUDE_CODE_ATTRIBUTION_HEADER",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY",
];

/// The variables that point Claude Code at the gateway at `base_url` (no `/v1`: Claude Code
/// appends `/v1/messages` itself), authenticating with `token`.
///
/// Always: `ANTHROPIC_BASE_URL`, `ANTHROPIC_AUTH_TOKEN` (sent as `Authorization: Bearer`),
/// and `ANTHROPIC_API_KEY=""`: an API key from the user's shell would otherwise be sent as
/// `x-api-key` and make Claude Code ask whether to use it; the empty value neutralises it, as
/// Ollama's own guide recommends. The rest follows `opts`.
/// The base URL that routes under `profile` whatever the active one is (`/profiles/<name>`).
pub fn profile_base_url(base_url: &str, profile: &str) -> String {
    let mut name = String::new();
    for byte in profile.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                name.push(char::from(byte));
            }
            _ => name.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("{}/profiles/{name}", base_url.trim_end_matches('/'))
}

pub fn env_vars(base_url: &str, token: &str, opts: &EnvOptions) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: String| vars.push((name.to_owned(), value));
    push(
        "ANTHROPIC_BASE_URL",
        base_url.trim_end_matches('/').to_owned(),
    );
    push("ANTHROPIC_AUTH_TOKEN", token.to_owned());
    push("ANTHROPIC_API_KEY", String::new());
    let models = [
        ("ANTHROPIC_DEFAULT_OPUS_MODEL", &opts.models.opus),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", &opts.models.sonnet),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", &opts.models.haiku),
        ("CLAUDE_CODE_SUBAGENT_MODEL", &opts.models.subagent),
    ];
    for (name, model) in models {
        if let Some(model) = model {
            push(name, model.clone());
        }
    }
    if let Some(n) = opts.max_context_tokens {
        push("CLAUDE_CODE_MAX_CONTEXT_TOKENS", n.to_string());
    }
    if let Some(n) = opts.max_output_tokens {
        push("CLAUDE_CODE_MAX_OUTPUT_TOKENS", n.to_string());
    }
    if let Some(ms) = opts.api_timeout_ms {
        push("API_TIMEOUT_MS", ms.to_string());
    }
    if opts.disable_attribution_header {
        push("CLAUDE_CODE_ATTRIBUTION_HEADER", "0".to_owned());
    }
    if opts.disable_nonessential_traffic {
        push("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".to_owned());
    }
    if opts.enable_model_discovery {
        push("CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY", "1".to_owned());
    }
    vars
}

/// `export NAME='value'` lines for a POSIX shell (`eval "$(switchyard env)"`).
pub fn render_shell_exports(vars: &[(String, String)]) -> String {
    vars.iter()
        .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
        .collect()
}

/// Single quotes protect everything in POSIX sh except `'` itself, which is closed, escaped
/// and reopened.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `{"env": {...}}`, pretty-printed, to paste into `settings.json`.
pub fn render_settings_env_block(vars: &[(String, String)]) -> String {
    let env: Map<String, Value> = vars
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let mut root = Map::new();
    root.insert("env".to_owned(), Value::Object(env));
    // Serializing a map of strings cannot fail.
    serde_json::to_string_pretty(&Value::Object(root)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
        vars.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn defaults_point_at_the_gateway_and_neutralise_api_key() {
        let vars = env_vars("http://127.0.0.1:4747/", "sy-local", &EnvOptions::default());
        assert_eq!(
            get(&vars, "ANTHROPIC_BASE_URL"),
            Some("http://127.0.0.1:4747")
        );
        assert_eq!(get(&vars, "ANTHROPIC_AUTH_TOKEN"), Some("sy-local"));
        assert_eq!(get(&vars, "ANTHROPIC_API_KEY"), Some(""));
        assert_eq!(get(&vars, "API_TIMEOUT_MS"), Some("1800000"));
        assert_eq!(get(&vars, "CLAUDE_CODE_ATTRIBUTION_HEADER"), Some("0"));
        assert_eq!(get(&vars, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"), None);
        assert_eq!(get(&vars, "ANTHROPIC_DEFAULT_SONNET_MODEL"), None);
    }

    #[test]
    fn options_add_model_and_window_variables() {
        let opts = EnvOptions {
            models: ModelAliases {
                sonnet: Some("qwen3-coder-30b".into()),
                ..ModelAliases::default()
            },
            max_context_tokens: Some(65_536),
            disable_nonessential_traffic: true,
            api_timeout_ms: None,
            ..EnvOptions::default()
        };
        let vars = env_vars("http://127.0.0.1:4747", "t", &opts);
        assert_eq!(
            get(&vars, "ANTHROPIC_DEFAULT_SONNET_MODEL"),
            Some("qwen3-coder-30b")
        );
        assert_eq!(get(&vars, "ANTHROPIC_DEFAULT_OPUS_MODEL"), None);
        assert_eq!(get(&vars, "CLAUDE_CODE_MAX_CONTEXT_TOKENS"), Some("65536"));
        assert_eq!(
            get(&vars, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"),
            Some("1")
        );
        assert_eq!(get(&vars, "API_TIMEOUT_MS"), None);
    }

    #[test]
    fn managed_vars_name_every_variable_env_vars_can_set() {
        let everything = EnvOptions {
            models: ModelAliases {
                opus: Some("o".into()),
                sonnet: Some("s".into()),
                haiku: Some("h".into()),
                subagent: Some("a".into()),
            },
            max_context_tokens: Some(1),
            max_output_tokens: Some(1),
            api_timeout_ms: Some(1),
            disable_attribution_header: true,
            disable_nonessential_traffic: true,
            enable_model_discovery: true,
        };
        let names: Vec<String> = env_vars("http://x", "t", &everything)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, MANAGED_VARS);
    }

    #[test]
    fn shell_exports_quote_everything() {
        let vars = vec![
            ("A".to_owned(), "it's $HOME `x`".to_owned()),
            ("B".to_owned(), String::new()),
        ];
        assert_eq!(
            render_shell_exports(&vars),
            "export A='it'\\''s $HOME `x`'\nexport B=''\n"
        );
    }

    #[test]
    fn settings_block_is_json_in_order() {
        let vars = vec![
            ("Z".to_owned(), "1".to_owned()),
            ("A".to_owned(), "say \"hi\"".to_owned()),
        ];
        assert_eq!(
            render_settings_env_block(&vars),
            "{\n  \"env\": {\n    \"Z\": \"1\",\n    \"A\": \"say \\\"hi\\\"\"\n  }\n}\n"
        );
    }

    #[test]
    fn a_profile_base_url_names_the_profile_safely() {
        assert_eq!(
            profile_base_url("http://127.0.0.1:4747/", "cloud"),
            "http://127.0.0.1:4747/profiles/cloud"
        );
        assert_eq!(
            profile_base_url("http://127.0.0.1:4747", "my work/ü"),
            "http://127.0.0.1:4747/profiles/my%20work%2F%C3%BC"
        );
    }
}
