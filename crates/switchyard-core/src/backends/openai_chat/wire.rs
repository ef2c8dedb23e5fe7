//! Chat Completions wire format: only the fields we send or read. Outbound structs omit
//! `None` (strict servers reject unknown or null keys); inbound structs default every field
//! and tolerate `null` and unknown fields.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `null` (or a missing field) as the type's default.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Arc<ChatTools>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ChatToolChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseFormat {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub json_schema: JsonSchemaFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonSchemaFormat {
    pub name: &'static str,
    /// The client's schema, forwarded as given.
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    System {
        content: Arc<crate::anthropic::JsonString>,
    },
    User {
        content: UserContent,
    },
    Assistant {
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ChatToolCall>,
        /// Only for backends that need prior reasoning back (DeepSeek thinking mode).
        #[serde(skip_serializing_if = "Option::is_none")]
        reasoning_content: Option<String>,
    },
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A single text part goes as a plain string: some chat templates mis-render part arrays.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: ChatFunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatFunctionCall {
    pub name: String,
    /// A JSON string, not an object.
    pub arguments: String,
}

/// The `tools` array, encoded (once per tool set), with the names it shortened.
#[derive(Debug, PartialEq)]
pub struct ChatTools {
    pub json: crate::anthropic::RawJson,
    pub count: usize,
    pub names: super::names::NameMap,
}

impl Serialize for ChatTools {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.json.serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: ChatFunction,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatFunction {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<crate::anthropic::JsonString>,
    /// The tool's JSON schema, forwarded as given.
    pub parameters: crate::anthropic::RawJson,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChatToolChoice {
    /// `"auto"`, `"required"`, `"none"`.
    Mode(&'static str),
    Named(NamedToolChoice),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedToolChoice {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: ToolName,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolName {
    pub name: String,
}

// ---- inbound ----

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChatResponse {
    #[serde(deserialize_with = "null_default")]
    pub choices: Vec<ResponseChoice>,
    pub usage: Option<ChatUsage>,
    pub error: Option<ErrorField>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResponseChoice {
    #[serde(deserialize_with = "null_default")]
    pub message: ResponseMessage,
    pub finish_reason: Option<String>,
    /// vLLM: the stop string that matched (or a token id).
    pub stop_reason: Option<StopMatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResponseMessage {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub tool_calls: Vec<ResponseToolCall>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ResponseToolCall {
    pub id: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub function: FunctionFragment,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FunctionFragment {
    pub name: Option<String>,
    pub arguments: Option<Arguments>,
}

/// Arguments are a JSON string in the spec; a few servers send the object itself.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Arguments {
    Text(String),
    Object(serde_json::Map<String, Value>),
}

impl Arguments {
    pub fn into_text(self) -> String {
        match self {
            Arguments::Text(text) => text,
            Arguments::Object(map) => Value::Object(map).to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum StopMatch {
    Text(String),
    Token(i64),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ChatUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PromptTokensDetails {
    pub cached_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChatChunk {
    #[serde(deserialize_with = "null_default")]
    pub choices: Vec<ChunkChoice>,
    pub usage: Option<ChatUsage>,
    pub error: Option<ErrorField>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChunkChoice {
    #[serde(deserialize_with = "null_default")]
    pub index: u32,
    #[serde(deserialize_with = "null_default")]
    pub delta: ChunkDelta,
    pub finish_reason: Option<String>,
    pub stop_reason: Option<StopMatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChunkDelta {
    pub content: Option<String>,
    pub reasoning_content: Option<String>,
    pub reasoning: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub tool_calls: Vec<ChunkToolCall>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChunkToolCall {
    pub index: Option<u32>,
    pub id: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub function: FunctionFragment,
}

/// An error body: OpenAI's `{"error":{...}}`, vLLM's flat `{"object":"error","message":..}`,
/// Ollama's `{"error":"text"}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ErrorBody {
    pub error: Option<ErrorField>,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorField {
    Text(String),
    Object(ErrorObject),
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ErrorObject {
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub code: Option<ErrorCode>,
    /// llama.cpp `exceed_context_size_error`.
    pub n_prompt_tokens: Option<u64>,
    pub n_ctx: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ErrorCode {
    Text(String),
    Number(i64),
}
