//! Backends: where a routed request goes, and how it is translated on the way.
//!
//! - `anthropic`: pass-through to any `/v1/messages` endpoint; bytes relayed unchanged.
//! - `openai_chat`: translation to OpenAI Chat Completions.
//! - `ollama`: translation to Ollama's native `/api/chat`.
//! - `bedrock`: Claude on Amazon Bedrock: body, URL, SigV4, event stream, errors.
//! - `vertex`: Claude on Google Vertex AI: body, URL, service-account token, errors.
//! - `cloud_betas`: the `anthropic-beta` flags Bedrock and Vertex are sent (an allow-list).
//! - `events`: the Anthropic event sequence both translators produce (and the signature
//!   prefix that marks proxy-minted thinking blocks).
//!
//! Translation is separate from sending. A translating backend turns a request into an
//! [`UpstreamRequest`] plus an exchange value that knows how to read the answer: a complete
//! response, an error, or a byte stream through a synchronous [`StreamTranslator`].

pub mod anthropic;
pub mod bedrock;
pub mod cloud_betas;
pub mod events;
pub mod ollama;
pub mod openai_chat;
pub mod vertex;

use crate::anthropic::{ApiError, StreamEvent, Usage};
use crate::config::BackendConfig;

/// What a translator needs to know about the target it translates for.
#[derive(Debug, Clone, Copy)]
pub struct TargetContext<'a> {
    pub backend: &'a BackendConfig,
    /// The model name sent upstream.
    pub upstream_model: &'a str,
    /// The model name the client asked for (echoed back in responses).
    pub requested_model: &'a str,
    /// The model's context window in tokens, when known (config override, else discovery).
    pub context_length: Option<u32>,
}

/// A translated body as JSON. The buffer is sized from the prompt's token estimate (a token is
/// a few bytes of JSON), so a 100 KB body is written once instead of grown by doubling.
pub(crate) fn encode_body<T: serde::Serialize>(
    body: &T,
    estimated_tokens: u64,
) -> Result<Vec<u8>, ApiError> {
    let capacity = usize::try_from(estimated_tokens.saturating_mul(4))
        .unwrap_or(usize::MAX)
        .clamp(1024, 16 << 20);
    let mut out = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut out, body).map_err(|err| {
        ApiError::new(
            crate::anthropic::ErrorType::ApiError,
            format!("could not encode the upstream request: {err}"),
        )
    })?;
    Ok(out)
}

/// A translated request: a path relative to the backend's `base_url` and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamRequest {
    pub path: String,
    pub body: Vec<u8>,
}

/// Turns an upstream byte stream into Anthropic stream events. Pure and synchronous: bytes in,
/// events out, any chunking. After `finish` the event sequence is complete and well-formed
/// (`message_start` .. `message_stop`, or an `error` event).
pub trait StreamTranslator: Send {
    /// Push the next chunk of upstream bytes.
    fn feed(&mut self, chunk: &[u8]) -> Vec<StreamEvent>;
    /// The upstream ended (cleanly or not): close what is open.
    fn finish(&mut self) -> Vec<StreamEvent>;
    /// Tokens counted so far (the final figures once finished).
    fn usage(&self) -> Usage;
}
