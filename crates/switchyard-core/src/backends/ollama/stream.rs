//! Ollama's NDJSON answer → Anthropic events (§3.2, §5.8 Ollama notes). Tool calls arrive as
//! whole objects, so each is emitted at once; `done_reason` stays `stop` even when tools were
//! called, and the shared builder turns that into `tool_use`. A call whose arguments came as a
//! string that is not a complete JSON object waits for the `done` line: dropped if the answer
//! was cut by `max_tokens` (`done_reason: "length"`), repaired otherwise.

use crate::anthropic::{ApiError, ErrorType, StopReason, StreamEvent, Usage};
use crate::backends::StreamTranslator;
use crate::backends::events::{EventBuilder, UpstreamUsage, complete_arguments};
use crate::backends::openai_chat::errors::{ErrorContext, UpstreamError, map_error};
use crate::sse::NdjsonDecoder;

use super::wire::ChatChunk;

#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub requested_model: String,
    pub estimated_prompt: u64,
    pub backend_id: String,
    pub upstream_model: String,
    pub context_length: Option<u32>,
}

impl Setup {
    pub fn error_context(&self) -> ErrorContext<'_> {
        ErrorContext {
            backend_id: &self.backend_id,
            upstream_model: &self.upstream_model,
            estimated_prompt: self.estimated_prompt,
            context_length: self.context_length,
        }
    }

    /// An error line (or body) from Ollama. Its text says what happened; the status, when
    /// there is one, refines it.
    pub fn error(&self, status: Option<u16>, message: String) -> ApiError {
        let lower = message.to_ascii_lowercase();
        let status = status.unwrap_or(if lower.contains("not found") {
            404
        } else {
            500
        });
        let upstream = UpstreamError {
            message,
            ..UpstreamError::default()
        };
        map_error(status, &upstream, &self.error_context())
    }
}

/// Streaming translator for one Ollama `/api/chat` answer (also used for the non-streaming
/// answer, which is a single such line).
#[derive(Debug)]
pub struct OllamaStream {
    lines: NdjsonDecoder,
    setup: Setup,
    builder: EventBuilder,
    /// Calls whose arguments are not (yet) a JSON object, until the answer says why it ended.
    unfinished: Vec<UnfinishedCall>,
}

#[derive(Debug)]
struct UnfinishedCall {
    id: Option<String>,
    name: String,
    arguments: String,
}

impl OllamaStream {
    pub(crate) fn new(setup: Setup) -> OllamaStream {
        OllamaStream {
            lines: NdjsonDecoder::new(),
            builder: EventBuilder::new(setup.requested_model.clone(), setup.estimated_prompt),
            setup,
            unfinished: Vec::new(),
        }
    }

    fn on_line(&mut self, line: &[u8]) {
        if self.builder.is_done() {
            return;
        }
        match serde_json::from_slice::<ChatChunk>(line) {
            Ok(chunk) => self.on_chunk(chunk),
            Err(err) => {
                let preview: String = String::from_utf8_lossy(line).chars().take(200).collect();
                self.builder.fail(&ApiError::new(
                    ErrorType::ApiError,
                    format!("Ollama sent a stream line that is not valid JSON ({err}): {preview}"),
                ));
            }
        }
    }

    /// One parsed line (or the whole non-streaming answer).
    pub(crate) fn on_chunk(&mut self, chunk: ChatChunk) {
        if self.builder.is_done() {
            return;
        }
        if let Some(message) = chunk.error {
            let error = self.setup.error(None, message);
            self.builder.fail(&error);
            return;
        }
        if let Some(thinking) = &chunk.message.thinking {
            self.builder.thinking(thinking);
        }
        if let Some(content) = &chunk.message.content {
            self.builder.text(content);
        }
        for call in chunk.message.tool_calls {
            // Calls are whole: a repeated id is the same call sent again.
            if let Some(id) = call.id.as_deref()
                && (self.builder.tool_id_for(id).is_some()
                    || self.unfinished.iter().any(|c| c.id.as_deref() == Some(id)))
            {
                continue;
            }
            if call.function.name.is_empty() {
                tracing::warn!("dropping an Ollama tool call without a name");
                continue;
            }
            let arguments = call
                .function
                .arguments
                .map(|a| a.into_text())
                .unwrap_or_default();
            if !arguments.trim().is_empty() && complete_arguments(&arguments).is_none() {
                self.unfinished.push(UnfinishedCall {
                    id: call.id,
                    name: call.function.name,
                    arguments,
                });
                continue;
            }
            self.builder
                .tool_call(call.id.as_deref(), &call.function.name, &arguments);
        }
        if chunk.done {
            let stop = match chunk.done_reason.as_deref() {
                Some("length") => StopReason::MaxTokens,
                _ => StopReason::EndTurn,
            };
            for call in std::mem::take(&mut self.unfinished) {
                // Cut off mid-arguments: repaired, it would look whole and a client would
                // run the tool on truncated input.
                if stop == StopReason::MaxTokens {
                    tracing::warn!(
                        tool = %crate::log_text::clip(&call.name),
                        "dropping a tool call cut off by max_tokens"
                    );
                    continue;
                }
                self.builder
                    .tool_call(call.id.as_deref(), &call.name, &call.arguments);
            }
            self.builder.finish(
                stop,
                None,
                UpstreamUsage {
                    prompt_tokens: chunk.prompt_eval_count,
                    completion_tokens: chunk.eval_count,
                    cached_tokens: chunk.prompt_eval_cached_count,
                },
            );
        }
    }
}

impl OllamaStream {
    fn unreadable(&mut self, err: &crate::sse::SseError) {
        self.builder.fail(&ApiError::new(
            ErrorType::ApiError,
            format!("Ollama's stream could not be read: {err}"),
        ));
    }
}

impl StreamTranslator for OllamaStream {
    /// The first call (even with no bytes) emits `message_start`.
    fn feed(&mut self, chunk: &[u8]) -> Vec<StreamEvent> {
        self.builder.start();
        match self.lines.feed(chunk) {
            Ok(lines) => lines.iter().for_each(|line| self.on_line(line)),
            Err(err) => self.unreadable(&err),
        }
        self.builder.drain()
    }

    fn finish(&mut self) -> Vec<StreamEvent> {
        self.builder.start();
        match self.lines.finish() {
            Ok(lines) => lines.iter().for_each(|line| self.on_line(line)),
            Err(err) => self.unreadable(&err),
        }
        if !self.builder.is_done() {
            self.builder.fail(&ApiError::new(
                ErrorType::ApiError,
                "Ollama's stream ended before the answer was complete (no `done` line)",
            ));
        }
        self.builder.drain()
    }

    fn usage(&self) -> Usage {
        self.builder.usage()
    }
}
