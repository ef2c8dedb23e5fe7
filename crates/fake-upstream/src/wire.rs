//! The part of the Messages API the fake reads, and everything it writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How Claude Code marks a subagent's attribution block (the first `system` block).
pub const SUBAGENT_ATTRIBUTION: &str = "cc_is_subagent=true";

/// The tool Claude Code spawns a subagent with: `Agent` in 2.1.x, `Task` before.
pub const AGENT_TOOLS: &[&str] = &["Agent", "Task"];

/// What the fake reads from a `/v1/messages` (or `count_tokens`) body; the rest is ignored.
#[derive(Debug, Deserialize)]
pub struct Request {
    pub model: String,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Vec<ToolDef>,
    /// A string or text blocks; read as JSON so an unexpected block shape is no 400.
    #[serde(default)]
    pub system: Option<Value>,
    /// Claude Code puts a JSON string in `user_id` that carries its `session_id`.
    #[serde(default)]
    pub metadata: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: Content,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Blocks(Vec<Block>),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        is_error: bool,
        #[serde(default)]
        content: Option<Value>,
    },
    ToolUse {
        id: String,
        name: String,
    },
    Text {
        text: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct ToolDef {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub input_schema: Value,
}

/// The text of a `tool_result`'s content: a string, or its text blocks joined.
fn text_of(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

impl Request {
    /// The `tool_result` blocks of the last message, when it is the user's.
    pub fn last_tool_results(&self) -> Vec<(&str, bool)> {
        match self.messages.last() {
            Some(Message {
                role,
                content: Content::Blocks(blocks),
            }) if role == "user" => blocks
                .iter()
                .filter_map(|b| match b {
                    Block::ToolResult {
                        tool_use_id,
                        is_error,
                        ..
                    } => Some((tool_use_id.as_str(), *is_error)),
                    Block::ToolUse { .. } | Block::Text { .. } | Block::Other => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the last message is the user's and its text contains `needle`.
    pub fn last_user_text_contains(&self, needle: &str) -> bool {
        match self.messages.last() {
            Some(Message { role, content }) if role == "user" => match content {
                Content::Text(text) => text.contains(needle),
                Content::Blocks(blocks) => blocks
                    .iter()
                    .any(|b| matches!(b, Block::Text { text } if text.contains(needle))),
            },
            _ => false,
        }
    }

    pub fn has_tool(&self, name: &str) -> bool {
        self.tools.iter().any(|t| t.name == name)
    }

    /// The subagent-spawning tool this request offers, under whichever name it has.
    pub fn agent_tool(&self) -> Option<&ToolDef> {
        AGENT_TOOLS
            .iter()
            .find_map(|name| self.tools.iter().find(|t| t.name == *name))
    }

    /// The text of the last message's `tool_result`s answering a call of one of `tools`
    /// (the call is looked up by id in the assistant's turns).
    pub fn last_results_of(&self, tools: &[&str]) -> Vec<String> {
        let Some(Message {
            role,
            content: Content::Blocks(blocks),
        }) = self.messages.last()
        else {
            return Vec::new();
        };
        if role != "user" {
            return Vec::new();
        }
        let called = |wanted: &str| {
            self.messages.iter().any(|m| match &m.content {
                Content::Blocks(blocks) if m.role == "assistant" => blocks.iter().any(
                    |b| matches!(b, Block::ToolUse { id, name } if id == wanted && tools.contains(&name.as_str())),
                ),
                _ => false,
            })
        };
        blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolResult {
                    tool_use_id,
                    content,
                    ..
                } if called(tool_use_id) => Some(text_of(content.as_ref())),
                _ => None,
            })
            .collect()
    }

    /// The first `system` block's text (or the whole system string).
    pub fn first_system_text(&self) -> Option<&str> {
        match self.system.as_ref()? {
            Value::String(text) => Some(text),
            Value::Array(blocks) => blocks.first()?.get("text")?.as_str(),
            _ => None,
        }
    }

    /// Whether the attribution block says the request is a subagent's.
    pub fn subagent_attribution(&self) -> bool {
        self.first_system_text()
            .is_some_and(|text| text.contains(SUBAGENT_ATTRIBUTION))
    }

    /// The `session_id` inside `metadata.user_id` (a JSON string, in Claude Code 2.1.x).
    pub fn metadata_session_id(&self) -> Option<String> {
        let user_id = self.metadata.as_ref()?.get("user_id")?.as_str()?;
        let parsed: Value = serde_json::from_str(user_id).ok()?;
        Some(parsed.get("session_id")?.as_str()?.to_owned())
    }
}

/// A complete (non-streaming) answer; also the `message` of `message_start`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageOut {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub role: &'static str,
    pub model: String,
    pub content: Vec<BlockOut>,
    pub stop_reason: Option<&'static str>,
    pub stop_sequence: Option<String>,
    pub usage: UsageOut,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockOut {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        /// `{}` in `content_block_start`: the input arrives as `input_json_delta`s.
        input: Value,
    },
}

/// Claude Code's `Write` tool input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WriteInput {
    pub file_path: String,
    pub content: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UsageOut {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    MessageStart {
        message: MessageOut,
    },
    ContentBlockStart {
        index: usize,
        content_block: BlockOut,
    },
    Ping,
    ContentBlockDelta {
        index: usize,
        delta: Delta,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: MessageDeltaOut,
        usage: DeltaUsage,
    },
    MessageStop,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::MessageStart { .. } => "message_start",
            Event::ContentBlockStart { .. } => "content_block_start",
            Event::Ping => "ping",
            Event::ContentBlockDelta { .. } => "content_block_delta",
            Event::ContentBlockStop { .. } => "content_block_stop",
            Event::MessageDelta { .. } => "message_delta",
            Event::MessageStop => "message_stop",
        }
    }

    /// The event as SSE bytes: `event: NAME`, `data: JSON`, blank line.
    pub fn to_sse(&self) -> Result<Vec<u8>, serde_json::Error> {
        let data = serde_json::to_string(self)?;
        Ok(format!("event: {}\ndata: {data}\n\n", self.name()).into_bytes())
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Delta {
    TextDelta { text: String },
    InputJsonDelta { partial_json: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageDeltaOut {
    pub stop_reason: &'static str,
    pub stop_sequence: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct DeltaUsage {
    pub output_tokens: u64,
}

#[derive(Debug, Serialize)]
pub struct ErrorEnvelope {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub error: ErrorBody,
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
}

impl ErrorEnvelope {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        ErrorEnvelope {
            kind: "error",
            error: ErrorBody {
                kind,
                message: message.into(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TokenCount {
    pub input_tokens: u64,
}
