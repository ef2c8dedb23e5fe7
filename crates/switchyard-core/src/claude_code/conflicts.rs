use serde::Serialize;

use super::settings::ClaudeSettings;

/// Something that would override or break the gateway setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// An Anthropic API key Claude Code would send instead of (or besides) the gateway token.
    ApiKeySet,
    /// `apiKeyHelper` replaces the gateway token on every request.
    ApiKeyHelper,
    /// Claude Code is pointed at another endpoint.
    BaseUrlElsewhere,
    /// The base URL ends in `/v1`; Claude Code appends `/v1/messages` itself.
    BaseUrlHasV1,
    /// Bedrock/Vertex/Foundry mode ignores `ANTHROPIC_BASE_URL`.
    CloudProviderMode,
    /// An HTTP proxy variable may route loopback requests away.
    HttpProxy,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Conflict {
    pub kind: ConflictKind,
    /// Human-readable: what was found, where, what it does, and what to do.
    pub message: String,
}

/// Checks Claude Code's effective configuration for things that would defeat pointing it at
/// `gateway_url`. `settings` is the user `settings.json` (as read), `process_env` the
/// environment Claude Code would start with. Settings `env` entries win over the shell's,
/// which is why several checks look at both.
pub fn conflicts<'a>(
    settings: &ClaudeSettings,
    process_env: impl IntoIterator<Item = (&'a str, &'a str)>,
    gateway_url: &str,
) -> Vec<Conflict> {
    let shell: Vec<(&str, &str)> = process_env.into_iter().collect();
    let shell_var = |name: &str| shell.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let gateway = normalise(gateway_url);
    let mut found = Vec::new();
    let mut add = |kind, message: String| found.push(Conflict { kind, message });

    match settings.env_str("ANTHROPIC_API_KEY") {
        Some(key) if !key.is_empty() => add(
            ConflictKind::ApiKeySet,
            "settings.json sets ANTHROPIC_API_KEY: Claude Code sends it as x-api-key and it takes \
             precedence over the gateway token. Set it to \"\" (`switchyard env --configure` \
             does) or remove it."
                .to_owned(),
        ),
        Some(_) => {}
        None => {
            if shell_var("ANTHROPIC_API_KEY").is_some_and(|k| !k.is_empty()) {
                add(
                    ConflictKind::ApiKeySet,
                    "ANTHROPIC_API_KEY is set in your shell: Claude Code would send it as \
                     x-api-key and ask whether to use it. Add ANTHROPIC_API_KEY=\"\" to the \
                     settings env block or unset it in the shell."
                        .to_owned(),
                );
            }
        }
    }

    if let Some(helper) = settings.api_key_helper.as_deref().filter(|h| !h.is_empty()) {
        add(
            ConflictKind::ApiKeyHelper,
            format!(
                "settings.json has apiKeyHelper ({helper}): its output is sent as both x-api-key \
                 and the Bearer token, replacing the gateway token. Remove it while using \
                 Switchyard, or make it print the gateway token."
            ),
        );
    }

    let settings_url = settings.env_str("ANTHROPIC_BASE_URL");
    if let Some(url) = settings_url
        && normalise(url) != gateway
    {
        add(
            ConflictKind::BaseUrlElsewhere,
            format!(
                "settings.json sets ANTHROPIC_BASE_URL={url}, not the gateway ({gateway_url}); \
                 Claude Code will not use Switchyard."
            ),
        );
    }
    // A settings value wins over the shell's, so the shell only matters without one.
    if settings_url.is_none()
        && let Some(url) = shell_var("ANTHROPIC_BASE_URL")
        && normalise(url) != gateway
    {
        add(
            ConflictKind::BaseUrlElsewhere,
            format!(
                "your shell sets ANTHROPIC_BASE_URL={url}; Claude Code will use it instead of \
                 the gateway ({gateway_url}). Unset it, or let Switchyard write \
                 the settings.json env block (settings win over the shell)."
            ),
        );
    }
    // The value Claude Code will actually use.
    if let Some(url) = settings_url.or_else(|| shell_var("ANTHROPIC_BASE_URL"))
        && normalise(url).ends_with("/v1")
    {
        add(
            ConflictKind::BaseUrlHasV1,
            format!(
                "ANTHROPIC_BASE_URL={url} ends in /v1; Claude Code appends /v1/messages \
                 itself, so requests would go to /v1/v1/messages. Drop the /v1."
            ),
        );
    }

    for name in [
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_USE_FOUNDRY",
    ] {
        let value = settings.env_str(name).or_else(|| shell_var(name));
        if value.is_some_and(|v| !v.is_empty() && v != "0") {
            add(
                ConflictKind::CloudProviderMode,
                format!(
                    "{name} is set: Claude Code talks to that cloud provider and ignores \
                     ANTHROPIC_BASE_URL. Unset it to use Switchyard."
                ),
            );
        }
    }

    if gateway.starts_with("http://") {
        let no_proxy = settings
            .env_str("NO_PROXY")
            .or_else(|| shell_var("NO_PROXY"))
            .or_else(|| shell_var("no_proxy"))
            .unwrap_or("");
        let bypassed = no_proxy.split(',').map(str::trim).any(|h| {
            h == "*"
                || h == "127.0.0.1"
                || h == "localhost"
                || (!h.is_empty() && gateway.contains(h))
        });
        for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
            if let Some(proxy) = settings.env_str(name).or_else(|| shell_var(name))
                && !proxy.is_empty()
                && !bypassed
            {
                add(
                    ConflictKind::HttpProxy,
                    format!(
                        "{name}={proxy} is set and NO_PROXY does not list 127.0.0.1/localhost: \
                         Claude Code may send gateway requests through that proxy. Add \
                         127.0.0.1,localhost to NO_PROXY."
                    ),
                );
                break;
            }
        }
    }
    found
}

fn normalise(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GW: &str = "http://127.0.0.1:4747";

    fn settings(v: serde_json::Value) -> ClaudeSettings {
        serde_json::from_value(v).unwrap()
    }

    fn kinds(found: &[Conflict]) -> Vec<ConflictKind> {
        found.iter().map(|c| c.kind).collect()
    }

    #[test]
    fn clean_setup_has_no_conflicts() {
        let s = settings(
            json!({"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:4747/", "ANTHROPIC_API_KEY": ""}}),
        );
        let env = [("ANTHROPIC_API_KEY", "sk-ant-real"), ("PATH", "/usr/bin")];
        assert_eq!(conflicts(&s, env, GW), vec![]);
    }

    #[test]
    fn api_key_in_settings_or_shell() {
        let s = settings(json!({"env": {"ANTHROPIC_API_KEY": "sk-ant-x"}}));
        let found = conflicts(&s, [], GW);
        assert_eq!(kinds(&found), vec![ConflictKind::ApiKeySet]);
        assert!(
            found[0]
                .message
                .contains("settings.json sets ANTHROPIC_API_KEY")
        );

        let found = conflicts(
            &ClaudeSettings::default(),
            [("ANTHROPIC_API_KEY", "sk-ant-x")],
            GW,
        );
        assert_eq!(kinds(&found), vec![ConflictKind::ApiKeySet]);
        assert!(found[0].message.contains("shell"));
    }

    #[test]
    fn helper_base_urls_and_cloud_modes() {
        let s = settings(json!({
            "apiKeyHelper": "/usr/local/bin/token",
            "env": {"ANTHROPIC_BASE_URL": "https://gateway.example.invalid/v1", "CLAUDE_CODE_USE_BEDROCK": "1"}
        }));
        let found = conflicts(&s, [("ANTHROPIC_BASE_URL", "http://localhost:9999")], GW);
        assert_eq!(
            kinds(&found),
            vec![
                ConflictKind::ApiKeyHelper,
                ConflictKind::BaseUrlElsewhere,
                ConflictKind::BaseUrlHasV1,
                ConflictKind::CloudProviderMode,
            ]
        );
        assert!(found[0].message.contains("/usr/local/bin/token"));
        assert!(
            found[1]
                .message
                .contains("https://gateway.example.invalid/v1")
        );
        // Shell values only count when settings.json does not set the URL.
        let found = conflicts(
            &ClaudeSettings::default(),
            [("ANTHROPIC_BASE_URL", "http://localhost:9999")],
            GW,
        );
        assert_eq!(kinds(&found), vec![ConflictKind::BaseUrlElsewhere]);
        assert!(found[0].message.contains("http://localhost:9999"));
    }

    #[test]
    fn http_proxy_without_no_proxy() {
        let found = conflicts(
            &ClaudeSettings::default(),
            [("HTTPS_PROXY", "http://corp:3128")],
            GW,
        );
        assert_eq!(kinds(&found), vec![ConflictKind::HttpProxy]);
        let found = conflicts(
            &ClaudeSettings::default(),
            [
                ("HTTPS_PROXY", "http://corp:3128"),
                ("NO_PROXY", "localhost, 127.0.0.1"),
            ],
            GW,
        );
        assert_eq!(found, vec![]);
    }
}
