use std::borrow::Cow;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{JsonString, RawJson, Reused};

/// `POST /v1/messages` (and, with `max_tokens` absent, `/v1/messages/count_tokens`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    pub messages: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Reused<System>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Reused<Vec<Tool>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<ThinkingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
}

impl MessagesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Content,
}

/// A message's content: a plain string is shorthand for one text block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl Content {
    /// The content as blocks (a string becomes one text block; blocks are borrowed).
    pub fn to_blocks(&self) -> Cow<'_, [ContentBlock]> {
        match self {
            Content::Text(text) => {
                Cow::Owned(vec![ContentBlock::Text(TextBlock::new(text.clone()))])
            }
            Content::Blocks(blocks) => Cow::Borrowed(blocks),
        }
    }
}

/// The system prompt: a string, or text blocks whose texts stay escaped as received (Claude
/// Code's is tens of KB, forwarded with every request).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum System {
    Text(String),
    Blocks(Vec<SystemBlock>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemBlock {
    pub text: JsonString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

/// A JSON string or a list of blocks, told apart by the JSON type as it is read. serde's
/// `untagged` would buffer the whole value and then try each variant, for a message's content
/// and again for each tool result inside it (a session's file contents and command outputs),
/// and say only that no variant matched; it also rules out [`JsonString`] inside.
struct TextOrBlocks<T> {
    expecting: &'static str,
    blocks: PhantomData<T>,
}

enum Either<T> {
    Text(String),
    Blocks(Vec<T>),
}

impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for TextOrBlocks<T> {
    type Value = Either<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Either<T>, E> {
        Ok(Either::Text(text.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Either<T>, E> {
        Ok(Either::Text(text))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Either<T>, A::Error> {
        let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(block) = seq.next_element()? {
            blocks.push(block);
        }
        Ok(Either::Blocks(blocks))
    }
}

/// `Deserialize` for an enum `{ Text(String), Blocks(Vec<_>) }` through [`TextOrBlocks`].
macro_rules! text_or_blocks {
    ($enum:ident, $expecting:literal) => {
        impl<'de> Deserialize<'de> for $enum {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let visitor = TextOrBlocks {
                    expecting: $expecting,
                    blocks: PhantomData,
                };
                Ok(match deserializer.deserialize_any(visitor)? {
                    Either::Text(text) => $enum::Text(text),
                    Either::Blocks(blocks) => $enum::Blocks(blocks),
                })
            }
        }
    };
}

text_or_blocks!(Content, "a string or a list of content blocks");
text_or_blocks!(System, "a string or a list of text blocks");
text_or_blocks!(ToolResultContent, "a string or a list of content blocks");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheControl {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextBlock {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl TextBlock {
    pub fn new(text: impl Into<String>) -> Self {
        TextBlock {
            text: text.into(),
            cache_control: None,
        }
    }
}

/// One block of message content. Block types this version does not know are kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text(TextBlock),
    Image(ImageBlock),
    Document(DocumentBlock),
    ToolUse(ToolUseBlock),
    ServerToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    Thinking(ThinkingBlock),
    RedactedThinking {
        data: String,
    },
    ToolReference {
        tool_name: String,
    },
    #[serde(untagged)]
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    pub source: ImageSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Url {
        url: String,
    },
    #[serde(untagged)]
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentBlock {
    /// Kept as JSON: base64 PDF, plain text, URL or nested content, all rendered differently.
    pub source: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUseBlock {
    pub id: String,
    pub name: String,
    pub input: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResultBlock {
    pub tool_use_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ToolResultContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThinkingBlock {
    pub thinking: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A tool definition: custom tools have an `input_schema`; server tools have a versioned `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Escaped as received: forwarded to translated backends without re-escaping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<JsonString>,
    /// Kept as the client's JSON text: translators forward it as is, so a schema is neither
    /// built into a tree nor re-serialized (tool schemas are a large part of every request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<RawJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<CacheControl>,
}

impl Tool {
    /// Server tools (web search, code execution, ...) run at Anthropic and cannot be translated.
    pub fn is_server_tool(&self) -> bool {
        matches!(self.kind.as_deref(), Some(kind) if kind != "custom")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    Any {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    Tool {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ThinkingConfig {
    Enabled {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget_tokens: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    Adaptive {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        display: Option<String>,
    },
    Disabled,
}

impl ThinkingConfig {
    pub fn is_on(&self) -> bool {
        !matches!(self, ThinkingConfig::Disabled)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_claude_code_shaped_request_and_skips_unknown_fields() {
        let body = json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 32000,
            "stream": true,
            "system": [
                {"type": "text", "text": "x-anthropic-billing-header: cc_version=1"},
                {"type": "text", "text": "You are Claude Code", "cache_control": {"type": "ephemeral"}}
            ],
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "", "signature": "EqQB"},
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a\nb", "is_error": false},
                    {"type": "web_fetch_tool_result", "tool_use_id": "srv_1", "content": {"x": 1}}
                ]}
            ],
            "tools": [
                {"name": "Bash", "input_schema": {"type": "object"}, "defer_loading": true},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
            ],
            "thinking": {"type": "adaptive"},
            "context_management": {"edits": []}
        });
        let req: MessagesRequest = serde_json::from_str(&body.to_string()).unwrap();
        assert!(req.is_stream());
        assert_eq!(req.max_tokens, Some(32000));
        let tools = req.tools.as_ref().unwrap();
        assert!(!tools[0].is_server_tool());
        assert!(tools[1].is_server_tool());
        // The schema is kept as the client's text.
        assert_eq!(
            tools[0].input_schema.as_ref().map(|s| s.get()),
            Some(r#"{"type":"object"}"#)
        );
        let Content::Blocks(blocks) = &req.messages[2].content else {
            panic!("expected blocks")
        };
        assert!(matches!(blocks[0], ContentBlock::ToolResult(_)));
        assert!(matches!(blocks[1], ContentBlock::Other(_)));
        // Unknown fields (`context_management`, `defer_loading`) are not kept: the typed
        // request feeds translators, which send an allowlist; the pass-through sends the bytes.
        let back = serde_json::to_value(&req).unwrap();
        assert!(back.get("context_management").is_none());
        assert!(back["tools"][0].get("defer_loading").is_none());
        assert_eq!(back["messages"], body["messages"]);
        assert_eq!(back["system"][1]["text"], body["system"][1]["text"]);
    }

    #[test]
    fn a_string_or_blocks_at_every_level_and_a_wrong_type_named() {
        // Parsed from text, as the gateway does: escaped strings, and tool results inside
        // internally tagged blocks (read from serde's buffer, not from the text).
        let message: Message = serde_json::from_str(
            &json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "plain \"quoted\" é"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [
                    {"type": "text", "text": "nested"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                ]}
            ]})
            .to_string(),
        )
        .unwrap();
        let Content::Blocks(blocks) = &message.content else {
            panic!("expected blocks: {message:?}")
        };
        let [
            ContentBlock::ToolResult(first),
            ContentBlock::ToolResult(second),
        ] = &blocks[..]
        else {
            panic!("expected two tool results: {blocks:?}")
        };
        assert_eq!(
            first.content,
            Some(ToolResultContent::Text("plain \"quoted\" é".to_owned()))
        );
        let Some(ToolResultContent::Blocks(nested)) = &second.content else {
            panic!("expected nested blocks: {second:?}")
        };
        assert_eq!(nested[0], ContentBlock::Text(TextBlock::new("nested")));
        assert!(matches!(nested[1], ContentBlock::Image(_)));

        let text: Message =
            serde_json::from_str(r#"{"role": "assistant", "content": "hi"}"#).unwrap();
        assert_eq!(text.content, Content::Text("hi".to_owned()));

        // A wrong type is named with what was expected (serde's untagged enums only say that
        // no variant matched).
        let err = serde_json::from_str::<Message>(r#"{"role": "user", "content": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "invalid type: integer `5`, expected a string or a list of content blocks"
            ),
            "{err}"
        );
        let err = serde_json::from_str::<MessagesRequest>(
            r#"{"model": "m", "messages": [], "system": {"text": "x"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("expected a string or a list of text blocks"),
            "{err}"
        );
    }
}
