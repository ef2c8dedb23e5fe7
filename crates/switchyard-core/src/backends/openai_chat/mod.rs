//! Translation to OpenAI Chat Completions (`POST {base_url}/chat/completions`, `base_url`
//! ending in `/v1`): vLLM, llama.cpp, LM Studio, Ollama's `/v1`, OpenAI, DeepSeek, and other
//! compatible clouds.
//!
//! - [`wire`]: the Chat Completions types we send and read.
//! - `request`: Anthropic request → Chat Completions request.
//! - `stream` / `response`: Chat Completions answer → Anthropic events / message.
//! - `errors`: upstream errors → Anthropic errors.
//! - [`names`]: tool-name shortening; [`dialect`]: per-server differences.
//! - `think_tags`: `<think>` reasoning printed inline → thinking blocks (always on).
//! - `text_tools`: tool calls printed as text → tool_use blocks (`recover_text_tool_calls`).
//! - `common`: request rules shared with the Ollama translator.

pub(crate) mod common;
pub mod dialect;
pub(crate) mod errors;
pub mod names;
mod request;
mod response;
mod stream;
mod text_tools;
mod think_tags;
pub mod wire;

use crate::anthropic::{ApiError, MessagesRequest, MessagesResponse};
use crate::backends::{TargetContext, UpstreamRequest};

use errors::{UpstreamError, map_error};
pub use stream::OpenAiStream;
use stream::Setup;

/// Path of the endpoint, relative to a `base_url` that ends in `/v1`.
pub const PATH: &str = "/chat/completions";

/// What must survive from a translated request to its answer.
#[derive(Debug, Clone)]
pub struct OpenAiExchange {
    setup: Setup,
    tools_sent: bool,
    stream: bool,
}

impl OpenAiExchange {
    /// Translate `req` for the target. Fails (with Anthropic's wording) when the prompt alone
    /// is estimated to exceed the known context window.
    pub fn prepare(
        req: &MessagesRequest,
        ctx: &TargetContext<'_>,
    ) -> Result<(UpstreamRequest, OpenAiExchange), ApiError> {
        let translated = request::translate(req, ctx)?;
        let body = super::encode_body(&translated.body, translated.estimated_prompt)?;
        let exchange = OpenAiExchange {
            setup: Setup {
                requested_model: ctx.requested_model.to_owned(),
                estimated_prompt: translated.estimated_prompt,
                names: translated.names,
                stop_sequences: req.stop_sequences.clone().unwrap_or_default(),
                recover_text_tools: ctx.backend.recover_text_tool_calls && translated.tools_sent,
                backend_id: ctx.backend.id.clone(),
                upstream_model: ctx.upstream_model.to_owned(),
                context_length: ctx.context_length,
            },
            tools_sent: translated.tools_sent,
            stream: req.is_stream(),
        };
        Ok((
            UpstreamRequest {
                path: PATH.to_owned(),
                body,
            },
            exchange,
        ))
    }

    /// Whether the upstream request asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    /// Whether any tool definition was sent upstream.
    pub fn tools_sent(&self) -> bool {
        self.tools_sent
    }

    /// The prompt size estimate used for clamping and for `message_start`.
    pub fn estimated_prompt_tokens(&self) -> u64 {
        self.setup.estimated_prompt
    }

    /// A complete (non-streaming) upstream JSON answer → Anthropic message.
    pub fn response(&self, body: &[u8]) -> Result<MessagesResponse, ApiError> {
        response::translate(self.setup.clone(), body)
    }

    /// A translator for the upstream's SSE answer.
    pub fn stream(&self) -> OpenAiStream {
        OpenAiStream::new(self.setup.clone())
    }

    /// An upstream HTTP error (status, body) → the Anthropic error to answer with. The caller
    /// copies a `retry-after` header into `retry_after` when the upstream sent one.
    pub fn error(&self, status: u16, body: &[u8]) -> ApiError {
        map_error(
            status,
            &UpstreamError::parse(body),
            &self.setup.error_context(),
        )
    }
}
