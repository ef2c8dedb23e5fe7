use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4747";

/// The whole config file. See `default.toml` for a commented example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    pub active_profile: String,
    /// Largest request body accepted, in MiB (Anthropic's own limit is 32).
    #[serde(default = "default_max_body_mib")]
    pub max_body_mib: u32,
    #[serde(default)]
    pub backends: Vec<BackendConfig>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Price overrides (USD per million tokens) by model name, on top of the bundled table.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pricing: BTreeMap<String, crate::pricing::ModelPrice>,
    /// Daily/monthly spend limits per profile or backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<crate::budget::BudgetConfig>,
    #[serde(default, skip_serializing_if = "UsageConfig::is_default")]
    pub usage: UsageConfig,
}

/// `[usage]`: the usage history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageConfig {
    /// Delete requests older than this many days (kept forever when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl UsageConfig {
    fn is_default(&self) -> bool {
        *self == UsageConfig::default()
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4747))
}

fn default_max_body_mib() -> u32 {
    32
}

impl Config {
    pub fn backend(&self, id: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.id == id)
    }

    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_body_mib)
            .unwrap_or(32)
            .saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Pass-through to any `/v1/messages` endpoint.
    Anthropic,
    /// Translation to OpenAI Chat Completions (`base_url` ends in `/v1`).
    OpenaiChat,
    /// Translation to Ollama's native `/api/chat`.
    Ollama,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Anthropic => "anthropic",
            BackendKind::OpenaiChat => "openai_chat",
            BackendKind::Ollama => "ollama",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    pub id: String,
    pub kind: BackendKind,
    pub base_url: String,
    /// Read the provider key from this environment variable instead of the keychain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// The model's context window, overriding what discovery reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u32>,
    /// The largest `max_tokens` the backend accepts; larger requests are clamped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default = "default_connect_s")]
    pub timeout_connect_s: u64,
    /// How long to wait for the upstream's first byte (local prefill can take minutes).
    #[serde(default = "default_first_byte_s")]
    pub timeout_first_byte_s: u64,
    /// Longest silence allowed between two upstream chunks once streaming.
    #[serde(default = "default_idle_s")]
    pub timeout_idle_s: u64,
    /// Times a failed attempt (unreachable, timeout, 429, 5xx) is retried on this backend, with
    /// exponential backoff, before the route's next target is tried.
    #[serde(default)]
    pub retries: u32,
    /// Requests sent to this backend at once; further ones wait (0: no limit).
    #[serde(default)]
    pub max_in_flight: u32,
    /// Extra headers sent with every request to this backend.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// OpenAI-style backends: recover tool calls a model printed as text (`<tool_call>{..}`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recover_text_tool_calls: bool,
}

fn default_connect_s() -> u64 {
    10
}
fn default_first_byte_s() -> u64 {
    300
}
fn default_idle_s() -> u64 {
    600
}

/// A profile maps requested model names to routes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RouteSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// An exact model name or a glob (`*sonnet*`).
    #[serde(rename = "match")]
    pub pattern: String,
    pub targets: Vec<TargetSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<TargetSpec>,
}

/// A profile's default: one target written inline, or a full route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    Route {
        targets: Vec<TargetSpec>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fallbacks: Vec<TargetSpec>,
    },
    Target(TargetSpec),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub backend: String,
    /// The upstream model; absent means "send the requested name unchanged".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Share of traffic among a route's targets (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
}
