//! The Anthropic Messages API as typed structs. This is the gateway's canonical form: every
//! inbound request is parsed into these types, and every translating backend produces them.
//! Fields a translator does not use are skipped, not kept: the pass-through forwards the
//! client's bytes, so nothing a newer client sends is lost there.

mod error;
mod raw;
mod request;
mod response;
mod reused;
mod stream;

pub use error::{ApiError, ErrorBody, ErrorEnvelope, ErrorType};
pub use raw::{JsonString, RawJson};
pub use request::{
    CacheControl, Content, ContentBlock, DocumentBlock, ImageBlock, ImageSource, Message,
    MessagesRequest, Metadata, OutputConfig, Role, System, SystemBlock, TextBlock, ThinkingBlock,
    ThinkingConfig, Tool, ToolChoice, ToolResultBlock, ToolResultContent, ToolUseBlock,
};
pub use response::{
    MAX_TOKENS_PER_COUNT, MessagesResponse, StopReason, Usage, new_message_id, new_tool_use_id,
};
pub use reused::{Derivation, ReuseCache, Reused};
pub use stream::{Delta, MessageDelta, MessageDeltaUsage, StreamEvent};
