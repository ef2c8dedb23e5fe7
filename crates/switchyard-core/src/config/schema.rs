use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::Strategy;
use crate::telemetry::TelemetryConfig;

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
    /// OpenTelemetry export of one span per request (off unless `otlp_endpoint` is set).
    #[serde(default, skip_serializing_if = "TelemetryConfig::is_default")]
    pub telemetry: TelemetryConfig,
    /// The response cache (off unless enabled here and on the profile).
    #[serde(default, skip_serializing_if = "CacheConfig::is_default")]
    pub cache: CacheConfig,
    /// Where captured requests are kept and for how long (capture itself is turned on per
    /// profile with `capture = true`, or for a while from the app or `switchyard capture on`).
    #[serde(default, skip_serializing_if = "CaptureConfig::is_default")]
    pub capture: CaptureConfig,
}

/// `[capture]`: the request inspector's store (in the usage database, compressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureConfig {
    /// Captures older than this many days are deleted.
    #[serde(default = "default_capture_days")]
    pub retention_days: u32,
    /// The most the captures take in the database, in MiB (oldest deleted first).
    #[serde(default = "default_capture_max_mib")]
    pub max_mib: u64,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            retention_days: default_capture_days(),
            max_mib: default_capture_max_mib(),
        }
    }
}

impl CaptureConfig {
    fn is_default(&self) -> bool {
        *self == CaptureConfig::default()
    }

    /// The largest `max_mib` accepted (as the cache's).
    pub const MAX_MIB: u64 = 64 * 1024;
}

fn default_capture_days() -> u32 {
    7
}

fn default_capture_max_mib() -> u64 {
    256
}

/// `[cache]`: answers kept in the usage database and replayed for an identical request (see
/// `cache/`). A profile uses it only with `cache = true` as well: a cached answer is the same
/// answer again, which suits repeated runs (tests, scripts, evaluations), not a conversation
/// that expects a fresh sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    #[serde(default)]
    pub enabled: bool,
    /// How long an answer is served from the cache, in seconds.
    #[serde(default = "default_cache_ttl_s")]
    pub ttl_s: u64,
    /// The most the cached answers take in the database, in MiB (least recently used go
    /// first).
    #[serde(default = "default_cache_max_mib")]
    pub max_mib: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: false,
            ttl_s: default_cache_ttl_s(),
            max_mib: default_cache_max_mib(),
        }
    }
}

impl CacheConfig {
    fn is_default(&self) -> bool {
        *self == CacheConfig::default()
    }

    /// The largest `max_mib` accepted: 64 GiB of answers is more than any use needs, and a
    /// bound keeps the byte count far from overflow.
    pub const MAX_MIB: u64 = 64 * 1024;

    /// `max_mib` in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_mib.min(Self::MAX_MIB) << 20
    }
}

fn default_cache_ttl_s() -> u64 {
    3600
}

fn default_cache_max_mib() -> u64 {
    256
}

/// `[usage]`: the usage history.
#[cfg_attr(feature = "specta", derive(specta::Type))]
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
    /// Whether requests routed under `profile` use the response cache: `[cache] enabled`
    /// and the profile's `cache = true`, both.
    pub fn caches(&self, profile: &str) -> bool {
        self.cache.enabled && self.profiles.get(profile).is_some_and(|p| p.cache)
    }

    pub fn backend(&self, id: &str) -> Option<&BackendConfig> {
        self.backends.iter().find(|b| b.id == id)
    }

    pub fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_body_mib)
            .unwrap_or(32)
            .saturating_mul(1024 * 1024)
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// Pass-through to any `/v1/messages` endpoint.
    Anthropic,
    /// Translation to OpenAI Chat Completions (`base_url` ends in `/v1`).
    OpenaiChat,
    /// Translation to Ollama's native `/api/chat`.
    Ollama,
    /// Claude on Amazon Bedrock (`InvokeModel`, SigV4 or a Bedrock API key); `region`, and
    /// `base_url` only for a VPC endpoint or a gateway.
    Bedrock,
    /// Claude on Google Vertex AI (`rawPredict`, a service account's access token);
    /// `project` and `region`, and `base_url` only for a private endpoint.
    Vertex,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Anthropic => "anthropic",
            BackendKind::OpenaiChat => "openai_chat",
            BackendKind::Ollama => "ollama",
            BackendKind::Bedrock => "bedrock",
            BackendKind::Vertex => "vertex",
        }
    }

    /// Claude on a cloud platform: Anthropic's Messages body under the platform's own
    /// envelope and credentials (the answer is Anthropic's, so nothing is translated).
    pub fn is_cloud_claude(self) -> bool {
        matches!(self, BackendKind::Bedrock | BackendKind::Vertex)
    }

    /// Whether `base_url` may be left empty (the endpoint follows from `region`).
    pub fn has_default_endpoint(self) -> bool {
        self.is_cloud_claude()
    }
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    pub id: String,
    pub kind: BackendKind,
    /// The API's URL. Bedrock and Vertex leave it empty (the region's public endpoint) unless
    /// they go through a VPC / private endpoint or a gateway.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub base_url: String,
    /// Bedrock and Vertex: the cloud region (`us-east-1`, `us-east5`, `global`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Vertex: the Google Cloud project the model is enabled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Read the provider key from this environment variable instead of the keychain; a list
    /// makes a pool the requests rotate over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<super::KeyEnv>,
    /// Named keychain keys the requests rotate over (`switchyard key set ID --name NAME`);
    /// `default` is the backend's own entry. Empty: that entry alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
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
    /// Requests per minute this backend takes: a target at its limit is skipped to the next
    /// one (a 429 with `retry-after` only when none is left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u32>,
    /// Tokens (input and output) per minute, counted with the local estimate when a request
    /// is sent and corrected with the real usage when it finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Failures (after retries) within a minute that are let pass before the backend cools
    /// down; 0: it cools down at the first.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub allowed_fails: u32,
    /// How long a failing backend is tried last; absent: the upstream's `retry-after`, else
    /// 5 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<u64>,
    /// Extra headers sent with every request to this backend.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// OpenAI-style backends: recover tool calls a model printed as text (`<tool_call>{..}`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recover_text_tool_calls: bool,
    /// Whether the backend runs on this machine or the private network (free, counted as
    /// saved) or is a cloud API; absent: decided from `base_url`. A loopback proxy to a cloud
    /// provider says `local = false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<bool>,
}

impl BackendConfig {
    /// A backend with the file's defaults for everything but what names and reaches it.
    pub fn new(id: impl Into<String>, kind: BackendKind, base_url: impl Into<String>) -> Self {
        BackendConfig {
            id: id.into(),
            kind,
            base_url: base_url.into(),
            region: None,
            project: None,
            api_key_env: None,
            keys: Vec::new(),
            context_length: None,
            max_output_tokens: None,
            timeout_connect_s: default_connect_s(),
            timeout_first_byte_s: default_first_byte_s(),
            timeout_idle_s: default_idle_s(),
            retries: 0,
            max_in_flight: 0,
            rpm: None,
            tpm: None,
            allowed_fails: 0,
            cooldown_s: None,
            headers: BTreeMap::new(),
            recover_text_tool_calls: false,
            local: None,
        }
    }

    /// Local (priced at $0, served without a keychain) or cloud: `local` when the file says
    /// so, otherwise what the URL suggests.
    pub fn is_local(&self) -> bool {
        // Bedrock and Vertex are clouds whatever their URL (a VPC endpoint has a private
        // address; a test's fake is on loopback and says `local = true` if it means it).
        self.local.unwrap_or_else(|| {
            !self.kind.is_cloud_claude() && crate::pricing::is_local_url(&self.base_url)
        })
    }

    /// The base URL set in the file, if any (Bedrock and Vertex may leave it empty).
    pub fn base_url_override(&self) -> Option<&str> {
        let url = self.base_url.trim();
        (!url.is_empty()).then_some(url)
    }

    /// The region, when set and not blank.
    pub fn region(&self) -> Option<&str> {
        self.region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
    }

    /// The project, when set and not blank.
    pub fn project(&self) -> Option<&str> {
        self.project
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// How this profile's routes use their targets, unless a route says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RouteSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    /// Answer repeated requests from the response cache (needs `[cache] enabled = true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cache: bool,
    /// Capture every request of this profile for the inspector (headers without
    /// credentials, bodies, what went upstream and came back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub capture: bool,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// An exact model name or a glob (`*sonnet*`); every model when absent.
    #[serde(rename = "match", default = "any_model")]
    pub pattern: String,
    /// Conditions on the request: a rule with any is tried before the name rules, in file
    /// order, and applies when its `match` and every condition hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<When>,
    pub targets: Vec<TargetSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<TargetSpec>,
    /// How the targets are used (the profile's strategy when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
}

fn any_model() -> String {
    "*".to_owned()
}

impl Rule {
    /// The rule as logs and usage rows name it: `rule 2: * when images, subagent` (`n` is its
    /// 1-based place in the profile).
    pub fn label(&self, n: usize) -> String {
        match &self.when {
            Some(when) => format!("rule {n}: {} when {}", self.pattern, when.describe()),
            None => format!("rule {n}: {}", self.pattern),
        }
    }
}

impl When {
    /// The conditions in short words: `images, no thinking, prompt >= 50000 tokens, subagent`.
    pub fn describe(&self) -> String {
        let flag = |set: Option<bool>, name: &str| {
            set.map(|on| {
                if on {
                    name.to_owned()
                } else {
                    format!("no {name}")
                }
            })
        };
        let parts: Vec<String> = [
            flag(self.images, "images"),
            flag(self.server_tools, "server tools"),
            flag(self.thinking, "thinking"),
            self.min_prompt_tokens
                .map(|n| format!("prompt >= {n} tokens")),
            self.agent.map(|a| match a {
                AgentKind::Main => "main agent".to_owned(),
                AgentKind::Subagent => "subagent".to_owned(),
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "always".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// What a request must be like for a conditional rule to apply (every condition set must
/// hold).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// An image block anywhere in the messages (tool results included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<bool>,
    /// A tool that runs at Anthropic (web search, web fetch, code execution, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_tools: Option<bool>,
    /// Thinking enabled or adaptive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<bool>,
    /// The local estimate of the prompt is at least this many tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_prompt_tokens: Option<u64>,
    /// Claude Code's main agent or one of its subagents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentKind>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    #[default]
    Main,
    Subagent,
}

/// A profile's default: one target written inline, or a full route.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    Route {
        targets: Vec<TargetSpec>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fallbacks: Vec<TargetSpec>,
        /// How the targets are used (the profile's strategy when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        strategy: Option<Strategy>,
    },
    Target(TargetSpec),
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub backend: String,
    /// The upstream model; absent means "send the requested name unchanged".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Share of traffic among a route's targets (default 1); only with `strategy = "weighted"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    /// `false`: the model cannot read images, so a request with images skips this target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<bool>,
}

impl TargetSpec {
    /// `backend/model`, or the backend alone when the requested name is sent unchanged.
    pub fn label(&self) -> String {
        match &self.model {
            Some(model) => format!("{}/{model}", self.backend),
            None => self.backend.clone(),
        }
    }
}
