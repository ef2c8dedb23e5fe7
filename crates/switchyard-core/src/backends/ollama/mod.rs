//! Translation to Ollama's native API (`POST {base_url}/api/chat`, NDJSON streaming). Native
//! rather than Ollama's `/v1`: only here can we set `num_ctx`, `keep_alive` and
//! `truncate: false`, without which Ollama silently forgets the start of long conversations.
//!
//! - [`wire`]: the `/api/chat` types we send and read.
//! - `request`: Anthropic request → `/api/chat` request.
//! - `stream`: NDJSON answer → Anthropic events (the non-streaming answer is one such line).
//!
//! Shared with the OpenAI translator: the event builder (`backends::events`), request
//! helpers and error mapping (`openai_chat::common`, `openai_chat::errors`).

mod request;
mod stream;
pub mod wire;

use crate::anthropic::{ApiError, ErrorType, MessagesRequest, MessagesResponse};
use crate::backends::events::into_response;
use crate::backends::openai_chat::errors::UpstreamError;
use crate::backends::{StreamTranslator, TargetContext, UpstreamRequest};

pub use stream::OllamaStream;
use stream::Setup;
use wire::ChatChunk;

/// Path of the endpoint, relative to the server's base URL (`http://127.0.0.1:11434`).
pub const PATH: &str = "/api/chat";

/// What must survive from a translated request to its answer.
#[derive(Debug, Clone)]
pub struct OllamaExchange {
    setup: Setup,
    stream: bool,
}

impl OllamaExchange {
    /// Translate `req` for the target. Fails (with Anthropic's wording) when the prompt alone
    /// is estimated to exceed the known context window.
    pub fn prepare(
        req: &MessagesRequest,
        ctx: &TargetContext<'_>,
    ) -> Result<(UpstreamRequest, OllamaExchange), ApiError> {
        let translated = request::translate(req, ctx)?;
        let body = super::encode_body(&translated.body, translated.estimated_prompt)?;
        let exchange = OllamaExchange {
            setup: Setup {
                requested_model: ctx.requested_model.to_owned(),
                estimated_prompt: translated.estimated_prompt,
                backend_id: ctx.backend.id.clone(),
                upstream_model: ctx.upstream_model.to_owned(),
                context_length: ctx.context_length,
            },
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

    /// The prompt size estimate used for clamping and for `message_start`.
    pub fn estimated_prompt_tokens(&self) -> u64 {
        self.setup.estimated_prompt
    }

    /// A complete (non-streaming) upstream JSON answer → Anthropic message.
    pub fn response(&self, body: &[u8]) -> Result<MessagesResponse, ApiError> {
        let chunk: ChatChunk = serde_json::from_slice(body).map_err(|err| {
            let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
            ApiError::new(
                ErrorType::ApiError,
                format!("Ollama's answer is not a chat response ({err}): {preview}"),
            )
        })?;
        let mut stream = OllamaStream::new(self.setup.clone());
        let mut events = stream.feed(b"");
        stream.on_chunk(chunk);
        events.extend(stream.finish());
        into_response(&events)
    }

    /// A translator for the upstream's NDJSON answer.
    pub fn stream(&self) -> OllamaStream {
        OllamaStream::new(self.setup.clone())
    }

    /// An upstream HTTP error (status, body) → the Anthropic error to answer with.
    pub fn error(&self, status: u16, body: &[u8]) -> ApiError {
        let upstream = UpstreamError::parse(body);
        self.setup.error(Some(status), upstream.message)
    }
}
