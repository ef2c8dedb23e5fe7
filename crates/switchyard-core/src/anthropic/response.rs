use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Deserializer, Serialize};

use super::ContentBlock;

/// A complete (non-streaming) Messages API response; also the `message` of `message_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    pub id: String,
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    pub role: String,
    pub model: String,
    pub content: Vec<ContentBlock>,
    pub stop_reason: Option<StopReason>,
    #[serde(default)]
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

fn message_type() -> String {
    "message".to_owned()
}

impl MessagesResponse {
    /// An empty assistant message, as sent in `message_start`.
    pub fn start(id: String, model: String, usage: Usage) -> Self {
        MessagesResponse {
            id,
            kind: message_type(),
            role: "assistant".to_owned(),
            model,
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    PauseTurn,
    Refusal,
    ModelContextWindowExceeded,
}

/// Token usage in Anthropic's shape. `input_tokens` excludes cached tokens; the prompt's size is
/// the sum of the three input fields. The cache fields are always serialised (Claude Code
/// has broken on streams whose `message_start` lacked them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default, deserialize_with = "null_as_zero")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

/// The most tokens one count of one request is taken to hold. Context windows today reach 10
/// million tokens, so this is 100 times any real answer: a larger figure is an upstream's bug,
/// and one near `u64::MAX` would wrap counters and overflow SQLite's `sum()`. At this cap the
/// store's 64-bit sums hold nine billion requests, and a cost stays a small finite number.
pub const MAX_TOKENS_PER_COUNT: u64 = 1_000_000_000;

impl Usage {
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_creation_input_tokens)
            .saturating_add(self.cache_read_input_tokens)
    }

    /// Every count capped at [`MAX_TOKENS_PER_COUNT`]: applied where an upstream's figures
    /// enter the gateway, so that sums downstream never overflow.
    #[must_use]
    pub fn clamped(self) -> Usage {
        let cap = |n: u64| n.min(MAX_TOKENS_PER_COUNT);
        Usage {
            input_tokens: cap(self.input_tokens),
            output_tokens: cap(self.output_tokens),
            cache_creation_input_tokens: cap(self.cache_creation_input_tokens),
            cache_read_input_tokens: cap(self.cache_read_input_tokens),
        }
    }
}

fn null_as_zero<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(deserializer)?.unwrap_or(0))
}

fn random_base62(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `msg_` + 24 base62 characters, like Anthropic's ids.
pub fn new_message_id() -> String {
    format!("msg_{}", random_base62(24))
}

/// `toolu_` + 24 base62 characters: matches `^[a-zA-Z0-9_-]+$` as Anthropic requires.
pub fn new_tool_use_id() -> String {
    format!("toolu_{}", random_base62(24))
}
