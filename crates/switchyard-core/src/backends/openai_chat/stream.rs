//! Chat Completions answer → Anthropic events (§5.6-5.8), for streams and (through the same
//! [`Machine`]) complete responses.
//!
//! Tool calls are collected per upstream call (by `index`, else by `id`, else the last one)
//! and each is emitted whole when the answer ends: servers split arguments anywhere,
//! interleave parallel calls, repeat ids, or send several calls in one chunk, and emitting at
//! the end is the only way to guarantee Claude Code one valid JSON object per call. Claude
//! Code does not stream tool input through a gateway anyway (§6.1).

use crate::anthropic::{ApiError, ErrorType, StopReason, StreamEvent, Usage};
use crate::backends::StreamTranslator;
use crate::backends::events::{EventBuilder, UpstreamUsage, complete_arguments};
use crate::sse::SseDecoder;

use super::errors::{ErrorContext, UpstreamError, map_error};
use super::names::NameMap;
use super::text_tools::{Piece, TextToolScanner};
use super::think_tags::{Part, ThinkTagSplitter};
use super::wire::{ChatChunk, ChatUsage, ChunkToolCall, StopMatch};

/// What the machine needs from the exchange.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub requested_model: String,
    pub estimated_prompt: u64,
    pub names: NameMap,
    pub stop_sequences: Vec<String>,
    pub recover_text_tools: bool,
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
}

#[derive(Debug, Default)]
struct PendingTool {
    index: Option<u32>,
    id: Option<String>,
    name: String,
    arguments: String,
}

/// The shared state machine: deltas in, events out through the [`EventBuilder`].
#[derive(Debug)]
pub(crate) struct Machine {
    setup: Setup,
    pub builder: EventBuilder,
    tools: Vec<PendingTool>,
    scanner: Option<TextToolScanner>,
    think_tags: ThinkTagSplitter,
    finish_reason: Option<String>,
    stop_match: Option<String>,
    usage: Option<ChatUsage>,
}

impl Machine {
    pub fn new(setup: Setup) -> Machine {
        Machine {
            builder: EventBuilder::new(setup.requested_model.clone(), setup.estimated_prompt),
            scanner: setup.recover_text_tools.then(TextToolScanner::default),
            setup,
            think_tags: ThinkTagSplitter::default(),
            tools: Vec::new(),
            finish_reason: None,
            stop_match: None,
            usage: None,
        }
    }

    pub fn reasoning(&mut self, text: &str) {
        self.builder.thinking(text);
    }

    pub fn content(&mut self, text: &str) {
        let parts = self.think_tags.push(text);
        self.apply_parts(parts);
    }

    fn apply_parts(&mut self, parts: Vec<Part>) {
        for part in parts {
            match part {
                Part::Reasoning(reasoning) => self.builder.thinking(&reasoning),
                Part::Text(text) => self.answer_text(&text),
            }
        }
    }

    fn answer_text(&mut self, text: &str) {
        match &mut self.scanner {
            None => self.builder.text(text),
            Some(scanner) => {
                let pieces = scanner.push(text);
                self.apply_pieces(pieces);
            }
        }
    }

    fn apply_pieces(&mut self, pieces: Vec<Piece>) {
        for piece in pieces {
            match piece {
                Piece::Text(text) => self.builder.text(&text),
                Piece::ToolCall { name, arguments } => self.tools.push(PendingTool {
                    name,
                    arguments,
                    ..PendingTool::default()
                }),
            }
        }
    }

    pub fn tool_fragment(&mut self, call: ChunkToolCall) {
        let id = call.id.filter(|id| !id.is_empty());
        let position = match (call.index, &id) {
            // Same index but a different id: a server that numbers every call 0.
            (Some(index), _) => self.tools.iter().rposition(|t| {
                t.index == Some(index) && (id.is_none() || t.id.is_none() || t.id == id)
            }),
            (None, Some(id)) => self.tools.iter().position(|t| t.id.as_ref() == Some(id)),
            (None, None) => self.tools.len().checked_sub(1),
        };
        let position = position.unwrap_or_else(|| {
            self.tools.push(PendingTool {
                index: call.index,
                ..PendingTool::default()
            });
            self.tools.len() - 1
        });
        let Some(tool) = self.tools.get_mut(position) else {
            return;
        };
        if tool.id.is_none() {
            tool.id = id;
        }
        if let Some(name) = call.function.name.filter(|n| !n.is_empty())
            && tool.name.is_empty()
        {
            tool.name = name;
        }
        if let Some(arguments) = call.function.arguments {
            tool.arguments.push_str(&arguments.into_text());
        }
    }

    pub fn finish_reason(&mut self, reason: String, stop_match: Option<StopMatch>) {
        self.finish_reason = Some(reason);
        if let Some(StopMatch::Text(text)) = stop_match {
            self.stop_match = Some(text);
        }
    }

    pub fn usage(&mut self, usage: ChatUsage) {
        self.usage = Some(usage);
    }

    pub fn saw_finish(&self) -> bool {
        self.finish_reason.is_some()
    }

    pub fn fail(&mut self, error: &ApiError) {
        self.builder.fail(error);
    }

    /// The answer is complete: emit the collected tool calls and close the message.
    pub fn finalize(&mut self) {
        if self.builder.is_done() {
            return;
        }
        let parts = self.think_tags.finish();
        self.apply_parts(parts);
        if let Some(scanner) = &mut self.scanner {
            let pieces = scanner.finish();
            self.apply_pieces(pieces);
        }
        let (stop, stop_sequence) = self.stop_reason();
        for tool in std::mem::take(&mut self.tools) {
            if tool.name.is_empty() {
                tracing::warn!(
                    bytes = tool.arguments.len(),
                    "dropping a tool call without a name"
                );
                continue;
            }
            // Cut by `max_tokens` mid-arguments: repaired, the call would look whole and a
            // client would run the tool on truncated input. The message ends `max_tokens`.
            if stop == StopReason::MaxTokens && complete_arguments(&tool.arguments).is_none() {
                tracing::warn!(
                    tool = %crate::log_text::clip(&tool.name),
                    "dropping a tool call cut off by max_tokens"
                );
                continue;
            }
            let name = self.setup.names.client_name(&tool.name);
            self.builder
                .tool_call(tool.id.as_deref(), &name, &tool.arguments);
        }
        let usage = self.usage.map(|u| UpstreamUsage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.prompt_tokens_details.and_then(|d| d.cached_tokens),
        });
        self.builder
            .finish(stop, stop_sequence, usage.unwrap_or_default());
    }

    fn stop_reason(&self) -> (StopReason, Option<String>) {
        match self.finish_reason.as_deref() {
            Some("length") => (StopReason::MaxTokens, None),
            Some("tool_calls" | "function_call") => (StopReason::ToolUse, None),
            Some("content_filter") => (StopReason::Refusal, None),
            _ => match &self.stop_match {
                Some(matched) if self.setup.stop_sequences.contains(matched) => {
                    (StopReason::StopSequence, Some(matched.clone()))
                }
                _ => (StopReason::EndTurn, None),
            },
        }
    }
}

/// Streaming translator for one Chat Completions SSE answer.
pub struct OpenAiStream {
    sse: SseDecoder,
    machine: Machine,
    saw_done: bool,
    saw_event: bool,
    /// The first bytes, kept until an SSE event arrives: a server that ignored `stream` or
    /// answered an error with status 200 sends plain JSON, which then explains the failure.
    head: Vec<u8>,
}

const HEAD_LIMIT: usize = 64 * 1024;

impl OpenAiStream {
    pub(crate) fn new(setup: Setup) -> OpenAiStream {
        OpenAiStream {
            sse: SseDecoder::new(),
            machine: Machine::new(setup),
            saw_done: false,
            saw_event: false,
            head: Vec::new(),
        }
    }

    fn on_data(&mut self, data: &str) {
        let data = data.trim();
        if data.is_empty() || self.machine.builder.is_done() {
            return;
        }
        if data == "[DONE]" {
            self.saw_done = true;
            self.machine.finalize();
            return;
        }
        let chunk: ChatChunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(err) => {
                let preview: String = data.chars().take(200).collect();
                self.machine.fail(&ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "the backend sent a stream chunk that is not valid JSON ({err}): {preview}"
                    ),
                ));
                return;
            }
        };
        if let Some(field) = chunk.error {
            let upstream = UpstreamError::from_field(field);
            let status = upstream.status_hint().unwrap_or(500);
            let error = map_error(status, &upstream, &self.machine.setup.error_context());
            self.machine.fail(&error);
            return;
        }
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            let delta = choice.delta;
            if let Some(reasoning) = delta.reasoning_content.or(delta.reasoning) {
                self.machine.reasoning(&reasoning);
            }
            if let Some(content) = delta.content {
                self.machine.content(&content);
            }
            for call in delta.tool_calls {
                self.machine.tool_fragment(call);
            }
            // Some servers send `""` instead of `null` on every chunk.
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.machine.finish_reason(reason, choice.stop_reason);
            }
        }
        if let Some(usage) = chunk.usage {
            self.machine.usage(usage);
        }
    }

    fn on_events(&mut self, events: Result<Vec<crate::sse::SseEvent>, crate::sse::SseError>) {
        match events {
            Ok(events) => {
                self.saw_event |= !events.is_empty();
                for event in events {
                    self.on_data(&event.data);
                }
            }
            Err(err) => self.machine.fail(&ApiError::new(
                ErrorType::ApiError,
                format!("the backend's stream could not be read: {err}"),
            )),
        }
    }
}

impl OpenAiStream {
    /// The upstream answered 200 without any SSE event: an error body, or a complete JSON
    /// answer from a server that does not stream.
    fn not_a_stream(&self) -> ApiError {
        let parsed = serde_json::from_slice::<super::wire::ErrorBody>(&self.head);
        if let Ok(super::wire::ErrorBody {
            error: Some(field), ..
        }) = parsed
        {
            let upstream = UpstreamError::from_field(field);
            let status = upstream.status_hint().unwrap_or(500);
            return map_error(status, &upstream, &self.machine.setup.error_context());
        }
        let preview: String = String::from_utf8_lossy(&self.head)
            .chars()
            .take(200)
            .collect();
        ApiError::new(
            ErrorType::ApiError,
            format!("the backend did not answer with an event stream: {preview}"),
        )
    }
}

impl StreamTranslator for OpenAiStream {
    /// The first call (even with no bytes) emits `message_start`.
    fn feed(&mut self, chunk: &[u8]) -> Vec<StreamEvent> {
        self.machine.builder.start();
        if !self.saw_event && self.head.len() < HEAD_LIMIT {
            self.head.extend_from_slice(chunk);
        }
        if !self.machine.builder.is_done() {
            let events = self.sse.feed(chunk);
            self.on_events(events);
        }
        self.machine.builder.drain()
    }

    fn finish(&mut self) -> Vec<StreamEvent> {
        self.machine.builder.start();
        if !self.machine.builder.is_done() {
            let events = self.sse.finish();
            self.on_events(events);
        }
        if !self.machine.builder.is_done() {
            // A finish reason means the answer was complete even without `[DONE]`.
            if self.saw_done || self.machine.saw_finish() {
                self.machine.finalize();
            } else if !self.saw_event && !self.head.is_empty() {
                let error = self.not_a_stream();
                self.machine.fail(&error);
            } else {
                self.machine.fail(&ApiError::new(
                    ErrorType::ApiError,
                    "the backend's stream ended before the answer was complete",
                ));
            }
        }
        self.machine.builder.drain()
    }

    fn usage(&self) -> Usage {
        self.machine.builder.usage()
    }
}
