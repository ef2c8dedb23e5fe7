use serde::{Deserialize, Serialize};

use crate::anthropic::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Ok,
    Error,
    /// The client went away before the answer was complete.
    Cancelled,
}

impl RequestStatus {
    /// The text the store keeps (and the CSV export shows).
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Ok => "ok",
            RequestStatus::Error => "error",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    /// Reads the store's text; anything unexpected (a newer writer's status) reads as an
    /// error rather than being hidden.
    pub fn from_stored(text: &str) -> Self {
        match text {
            "ok" => RequestStatus::Ok,
            "cancelled" => RequestStatus::Cancelled,
            _ => RequestStatus::Error,
        }
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What the gateway knows about one finished request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// Unix time in milliseconds when the request arrived.
    pub started_at_ms: i64,
    /// The client's `user-agent`.
    pub client: Option<String>,
    /// Claude Code's session: `x-claude-code-session-id`, else `metadata.user_id`'s
    /// `session_id`.
    pub session_id: Option<String>,
    /// The subagent that sent it (`x-claude-code-agent-id`); `None` for the main agent.
    pub agent_id: Option<String>,
    /// The agent that started that subagent (`x-claude-code-parent-agent-id`), when nested.
    pub parent_agent_id: Option<String>,
    pub requested_model: String,
    pub profile: String,
    /// The backend that answered (or the last one tried).
    pub backend: Option<String>,
    pub backend_kind: Option<String>,
    pub upstream_model: Option<String>,
    pub stream: bool,
    pub status: RequestStatus,
    pub http_status: u16,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub usage: Usage,
    pub ttft_ms: Option<u64>,
    pub latency_ms: u64,
    /// Targets tried, the one that answered included (1 = no fallback).
    pub attempts: u32,
    /// The rule that routed it, in words (`rule 2: * when images`); `None` before routing.
    pub rule: Option<String>,
    /// What the gateway changed or noticed on the way (server tools dropped, ...).
    pub notes: Option<String>,
    /// Answered from the response cache: no backend was called, so the request cost nothing
    /// and what the original answer cost counts as saved (`usage` holds the original's
    /// tokens).
    #[serde(default)]
    pub cache_hit: bool,
    /// Which of the backend's keys it was sent with, by name (never the secret); `None` for a
    /// backend's own unnamed key or a keyless backend.
    #[serde(default)]
    pub key_name: Option<String>,
    /// The request inspector's capture of it, when it was captured.
    #[serde(default)]
    pub capture_id: Option<String>,
}

/// Where finished requests are reported. Implementations must not block: the request path
/// calls this inline.
pub trait UsageSink: Send + Sync {
    fn record(&self, record: UsageRecord);
    /// Why requests are not being recorded right now (a full disk, a failing database), as a
    /// sentence for the app and `/health`; `None` while all is well.
    fn problem(&self) -> Option<String> {
        None
    }
}

/// A sink that keeps nothing (for tests and tools that do not record usage).
impl UsageSink for () {
    fn record(&self, _record: UsageRecord) {}
}
