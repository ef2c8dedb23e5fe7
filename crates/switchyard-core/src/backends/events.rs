//! The Anthropic event sequence every translating backend produces, written once.
//!
//! [`EventBuilder`] is a synchronous state machine: translators push what the upstream said
//! (text, reasoning, whole tool calls, the end, an error) and drain well-formed Anthropic
//! events. It owns the rules Claude Code depends on:
//!
//! - `message_start` first, exactly once, with the full usage shape;
//! - content indices 0, 1, 2... in start order, at most one block open at a time;
//! - no empty or whitespace-only text/thinking block (Anthropic rejects them when replayed);
//! - thinking blocks closed with a `signature_delta` carrying [`SIGNATURE_PREFIX`], so that
//!   proxy-minted thinking can be recognised (and stripped before going to real Anthropic);
//! - tool_use blocks started with `input: {}`, arguments only via one `input_json_delta`
//!   holding a valid JSON object, ids minted as `toolu_...`;
//! - `stop_reason` forced to `tool_use` when any tool was called, unless the answer was cut
//!   by `max_tokens` (translators drop a call cut off mid-arguments, see
//!   [`complete_arguments`], so no truncated input is ever presented as a whole call);
//! - `message_delta` with `usage.output_tokens` always, then `message_stop`; or an `error`
//!   event, after which nothing more is emitted.
//!
//! [`into_response`] folds an event sequence into a non-streaming message the way the SDKs
//! accumulate a stream, so the non-streaming path shares every rule above.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::anthropic::{
    ApiError, ContentBlock, Delta, ErrorType, MessageDelta, MessageDeltaUsage, MessagesResponse,
    StopReason, StreamEvent, TextBlock, ThinkingBlock, ToolUseBlock, Usage, new_message_id,
    new_tool_use_id,
};

/// Prefix of every thinking signature Switchyard mints. Real Anthropic signatures are opaque
/// base64 and never contain a `.`, so this cannot collide with one.
pub const SIGNATURE_PREFIX: &str = "swy1.";

/// The signature for a proxy-minted thinking block: the prefix, then the reasoning text
/// (base64url), so that a later request can give the reasoning back to a backend that needs
/// it (DeepSeek) even when the client kept only the signature.
pub fn mint_signature(reasoning: &str) -> String {
    format!("{SIGNATURE_PREFIX}{}", URL_SAFE_NO_PAD.encode(reasoning))
}

/// Whether a thinking signature was minted by Switchyard (such blocks must never be sent to
/// real Anthropic: it would answer 400 `Invalid signature in thinking block`).
pub fn is_proxy_signature(signature: &str) -> bool {
    signature.starts_with(SIGNATURE_PREFIX)
}

/// The reasoning carried by one of our signatures; `None` for foreign or damaged ones.
pub fn recover_reasoning(signature: &str) -> Option<String> {
    let encoded = signature.strip_prefix(SIGNATURE_PREFIX)?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    String::from_utf8(bytes).ok()
}

/// Token counts as an upstream reports them: the prompt size *including* cached tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub cached_tokens: Option<u64>,
}

impl UpstreamUsage {
    /// Anthropic's shape: cached tokens move to `cache_read_input_tokens` and are taken out of
    /// `input_tokens`, so the three input fields still add up to the prompt size.
    fn input_usage(&self, estimated_prompt: u64) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(estimated_prompt);
        let cached = self.cached_tokens.unwrap_or(0).min(prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: cached,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
}

#[derive(Debug)]
struct OpenBlock {
    kind: BlockKind,
    index: u32,
    /// The thinking text so far (it goes into the signature at close).
    thinking: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Running,
    Done,
}

/// Builds one Anthropic message as stream events. See the module docs for the rules.
#[derive(Debug)]
pub struct EventBuilder {
    message_id: String,
    model: String,
    estimated_prompt: u64,
    phase: Phase,
    next_index: u32,
    open: Option<OpenBlock>,
    /// Whitespace received while no block of its kind is open: held back until real content
    /// arrives, dropped if none does, so that no whitespace-only block is ever emitted.
    pending_ws: Option<(BlockKind, String)>,
    /// Upstream tool-call id (when it had one) and the `toolu_` id minted for it, in order.
    tool_ids: Vec<(Option<String>, String)>,
    output_chars: usize,
    usage: Usage,
    out: Vec<StreamEvent>,
}

impl EventBuilder {
    /// `model` is echoed to the client (the name it asked for); `estimated_prompt` is reported
    /// as `input_tokens` until the upstream gives real figures.
    pub fn new(model: impl Into<String>, estimated_prompt: u64) -> Self {
        EventBuilder {
            message_id: new_message_id(),
            model: model.into(),
            estimated_prompt,
            phase: Phase::NotStarted,
            next_index: 0,
            open: None,
            pending_ws: None,
            tool_ids: Vec::new(),
            output_chars: 0,
            usage: Usage {
                input_tokens: estimated_prompt,
                ..Usage::default()
            },
            out: Vec::new(),
        }
    }

    /// Take the events produced so far.
    pub fn drain(&mut self) -> Vec<StreamEvent> {
        std::mem::take(&mut self.out)
    }

    /// `message_stop` or an `error` has been emitted: everything else is ignored.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Current usage (final once done).
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Whether any tool_use block has been emitted.
    pub fn any_tool(&self) -> bool {
        !self.tool_ids.is_empty()
    }

    /// The `toolu_` id minted for an upstream tool-call id.
    pub fn tool_id_for(&self, upstream_id: &str) -> Option<&str> {
        self.tool_ids
            .iter()
            .find(|(up, _)| up.as_deref() == Some(upstream_id))
            .map(|(_, ours)| ours.as_str())
    }

    /// The upstream tool-call id behind one of our `toolu_` ids (for backends that want their
    /// own ids back).
    pub fn upstream_id_for(&self, tool_use_id: &str) -> Option<&str> {
        self.tool_ids
            .iter()
            .find(|(_, ours)| ours == tool_use_id)
            .and_then(|(up, _)| up.as_deref())
    }

    /// Emit `message_start` if not done yet. Idempotent.
    pub fn start(&mut self) {
        if self.phase != Phase::NotStarted {
            return;
        }
        self.phase = Phase::Running;
        let usage = Usage {
            input_tokens: self.estimated_prompt,
            output_tokens: 1,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
        };
        self.out.push(StreamEvent::MessageStart {
            message: MessagesResponse::start(self.message_id.clone(), self.model.clone(), usage),
        });
    }

    pub fn text(&mut self, text: &str) {
        self.content(BlockKind::Text, text);
    }

    pub fn thinking(&mut self, thinking: &str) {
        self.content(BlockKind::Thinking, thinking);
    }

    fn content(&mut self, kind: BlockKind, piece: &str) {
        if self.is_done() || piece.is_empty() {
            return;
        }
        self.start();
        self.output_chars += piece.chars().count();
        if let Some(open) = &mut self.open
            && open.kind == kind
        {
            let index = open.index;
            if kind == BlockKind::Thinking {
                open.thinking.push_str(piece);
            }
            self.push_delta(kind, index, piece.to_owned());
            return;
        }
        let mut held = match self.pending_ws.take() {
            Some((pending_kind, ws)) if pending_kind == kind => ws,
            _ => String::new(),
        };
        held.push_str(piece);
        if held.trim().is_empty() {
            self.pending_ws = Some((kind, held));
            return;
        }
        self.close_block();
        let index = self.next_index;
        self.next_index += 1;
        let block = match kind {
            BlockKind::Text => ContentBlock::Text(TextBlock::new("")),
            BlockKind::Thinking => ContentBlock::Thinking(ThinkingBlock {
                thinking: String::new(),
                signature: Some(String::new()),
            }),
        };
        self.out.push(StreamEvent::ContentBlockStart {
            index,
            content_block: block,
        });
        self.open = Some(OpenBlock {
            kind,
            index,
            thinking: if kind == BlockKind::Thinking {
                held.clone()
            } else {
                String::new()
            },
        });
        self.push_delta(kind, index, held);
    }

    fn push_delta(&mut self, kind: BlockKind, index: u32, piece: String) {
        let delta = match kind {
            BlockKind::Text => Delta::TextDelta { text: piece },
            BlockKind::Thinking => Delta::ThinkingDelta { thinking: piece },
        };
        self.out
            .push(StreamEvent::ContentBlockDelta { index, delta });
    }

    /// One complete tool call: start (with `input: {}`), one `input_json_delta` holding a
    /// JSON object (see [`normalize_arguments`]), stop. Returns the minted `toolu_` id.
    pub fn tool_call(&mut self, upstream_id: Option<&str>, name: &str, arguments: &str) -> String {
        if self.is_done() {
            return String::new();
        }
        self.start();
        self.close_block();
        self.pending_ws = None;
        let id = new_tool_use_id();
        self.tool_ids.push((
            upstream_id.filter(|s| !s.is_empty()).map(str::to_owned),
            id.clone(),
        ));
        let index = self.next_index;
        self.next_index += 1;
        let json = normalize_arguments(arguments);
        self.output_chars += json.chars().count() + name.len();
        self.out.push(StreamEvent::ContentBlockStart {
            index,
            content_block: ContentBlock::ToolUse(ToolUseBlock {
                id: id.clone(),
                name: name.to_owned(),
                input: Value::Object(Map::new()),
            }),
        });
        self.out.push(StreamEvent::ContentBlockDelta {
            index,
            delta: Delta::InputJsonDelta { partial_json: json },
        });
        self.out.push(StreamEvent::ContentBlockStop { index });
        id
    }

    fn close_block(&mut self) {
        if let Some(open) = self.open.take() {
            if open.kind == BlockKind::Thinking {
                self.out.push(StreamEvent::ContentBlockDelta {
                    index: open.index,
                    delta: Delta::SignatureDelta {
                        signature: mint_signature(&open.thinking),
                    },
                });
            }
            self.out
                .push(StreamEvent::ContentBlockStop { index: open.index });
        }
    }

    /// The upstream finished: close what is open, then `message_delta` + `message_stop`.
    /// `stop` is overridden to `tool_use` when any tool was called.
    pub fn finish(
        &mut self,
        stop: StopReason,
        stop_sequence: Option<String>,
        upstream: UpstreamUsage,
    ) {
        if self.is_done() {
            return;
        }
        self.start();
        self.close_block();
        self.pending_ws = None;
        // `tool_use` exactly when a tool_use block exists: Claude Code runs tools only on
        // `tool_use`, and waits for a tool block that never comes otherwise. An answer cut by
        // `max_tokens` is incomplete whatever it holds: `tool_use` would tell the client the
        // model finished its calls.
        let stop = match (self.any_tool(), stop) {
            (_, StopReason::MaxTokens) => StopReason::MaxTokens,
            (true, _) => StopReason::ToolUse,
            (false, StopReason::ToolUse) => StopReason::EndTurn,
            (false, stop) => stop,
        };
        let stop_sequence = stop_sequence.filter(|_| stop == StopReason::StopSequence);
        let mut usage = upstream.input_usage(self.estimated_prompt);
        // A rough 4 characters per token when the upstream reports nothing.
        usage.output_tokens = upstream
            .completion_tokens
            .unwrap_or_else(|| self.output_chars.div_ceil(4) as u64);
        // The client sees these figures too: never an upstream's absurd count.
        let usage = usage.clamped();
        self.usage = usage;
        self.out.push(StreamEvent::MessageDelta {
            delta: MessageDelta {
                stop_reason: Some(stop),
                stop_sequence,
            },
            usage: MessageDeltaUsage {
                output_tokens: usage.output_tokens,
                input_tokens: Some(usage.input_tokens),
                cache_creation_input_tokens: Some(usage.cache_creation_input_tokens),
                cache_read_input_tokens: Some(usage.cache_read_input_tokens),
            },
        });
        self.out.push(StreamEvent::MessageStop);
        self.phase = Phase::Done;
    }

    /// The upstream failed mid-answer: one `error` event, then nothing more.
    pub fn fail(&mut self, error: &ApiError) {
        if self.is_done() {
            return;
        }
        self.start();
        self.out.push(StreamEvent::Error {
            error: error.body(),
        });
        self.phase = Phase::Done;
    }
}

/// The text of the JSON object that tool arguments hold as sent: the object itself, or a
/// JSON string holding one (double-encoded). `None` for anything else, empty and truncated
/// arguments included: in an answer cut by `max_tokens`, such a call was cut off mid-way.
pub fn complete_arguments(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    match serde_json::from_str::<Value>(trimmed).ok()? {
        Value::Object(_) => Some(trimmed.to_owned()),
        Value::String(inner) => match serde_json::from_str::<Value>(inner.trim()) {
            Ok(Value::Object(_)) => Some(inner.trim().to_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// Turn whatever an upstream sent as tool arguments in a finished answer into the text of one
/// JSON object: empty → `{}`; a complete object (see [`complete_arguments`]) → that object;
/// truncated JSON → closed if that makes a valid object (some servers drop the last brace);
/// anything else → `{}` (logged), since Claude Code fails hard on input that is not an
/// object. Not for an answer cut by `max_tokens`, whose truncated calls must not be repaired.
pub fn normalize_arguments(raw: &str) -> String {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return "{}".to_owned();
    }
    if let Some(object) = complete_arguments(trimmed) {
        return object;
    }
    if let Some(repaired) = close_truncated_json(trimmed) {
        return repaired;
    }
    // The arguments are the model's words (often the user's code): their size only.
    tracing::warn!(
        bytes = trimmed.len(),
        "tool call arguments are not a JSON object; sending {{}}"
    );
    "{}".to_owned()
}

/// Close the strings, arrays and objects a truncated JSON object left open.
fn close_truncated_json(text: &str) -> Option<String> {
    if !text.starts_with('{') {
        return None;
    }
    let mut stack = Vec::new();
    let mut strings = crate::json_text::StringTracker::default();
    for c in text.chars() {
        if !strings.structural(c) {
            continue;
        }
        match c {
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut repaired = text.to_owned();
    if strings.in_string {
        if strings.escaped {
            repaired.pop();
        }
        repaired.push('"');
    }
    let trimmed_len = repaired.trim_end().trim_end_matches(',').len();
    repaired.truncate(trimmed_len);
    while let Some(closer) = stack.pop() {
        repaired.push(closer);
    }
    match serde_json::from_str::<Value>(&repaired) {
        Ok(Value::Object(_)) => Some(repaired),
        _ => None,
    }
}

/// Fold a complete event sequence into one message, the way the SDKs accumulate a stream.
/// An `error` event becomes `Err`.
pub fn into_response(events: &[StreamEvent]) -> Result<MessagesResponse, ApiError> {
    let mut message: Option<MessagesResponse> = None;
    let mut json_buffers: BTreeMap<u32, String> = BTreeMap::new();
    for event in events {
        match event {
            StreamEvent::MessageStart { message: start } => message = Some(start.clone()),
            StreamEvent::Error { error } => {
                let kind = serde_json::from_value::<ErrorType>(Value::String(error.kind.clone()))
                    .unwrap_or(ErrorType::ApiError);
                return Err(ApiError::new(kind, error.message.clone()));
            }
            StreamEvent::Ping | StreamEvent::Unknown | StreamEvent::MessageStop => {}
            other => {
                let Some(message) = message.as_mut() else {
                    return Err(ApiError::new(
                        ErrorType::ApiError,
                        "internal error: stream event before message_start",
                    ));
                };
                apply(message, &mut json_buffers, other)?;
            }
        }
    }
    message.ok_or_else(|| ApiError::new(ErrorType::ApiError, "internal error: empty answer"))
}

fn apply(
    message: &mut MessagesResponse,
    json_buffers: &mut BTreeMap<u32, String>,
    event: &StreamEvent,
) -> Result<(), ApiError> {
    let missing = || ApiError::new(ErrorType::ApiError, "internal error: unknown content block");
    match event {
        StreamEvent::ContentBlockStart { content_block, .. } => {
            message.content.push(content_block.clone());
        }
        StreamEvent::ContentBlockDelta { index, delta } => {
            let block = message
                .content
                .get_mut(*index as usize)
                .ok_or_else(missing)?;
            match (block, delta) {
                (ContentBlock::Text(text), Delta::TextDelta { text: piece }) => {
                    text.text.push_str(piece);
                }
                (ContentBlock::Thinking(thinking), Delta::ThinkingDelta { thinking: piece }) => {
                    thinking.thinking.push_str(piece);
                }
                (ContentBlock::Thinking(thinking), Delta::SignatureDelta { signature }) => {
                    thinking.signature = Some(signature.clone());
                }
                (ContentBlock::ToolUse(_), Delta::InputJsonDelta { partial_json }) => {
                    json_buffers
                        .entry(*index)
                        .or_default()
                        .push_str(partial_json);
                }
                _ => {}
            }
        }
        StreamEvent::ContentBlockStop { index } => {
            if let Some(json) = json_buffers.remove(index)
                && let Some(ContentBlock::ToolUse(tool)) = message.content.get_mut(*index as usize)
            {
                tool.input = serde_json::from_str(&json).map_err(|err| {
                    ApiError::new(
                        ErrorType::ApiError,
                        format!("internal error: tool input is not JSON: {err}"),
                    )
                })?;
            }
        }
        StreamEvent::MessageDelta { delta, usage } => {
            message.stop_reason = delta.stop_reason;
            message.stop_sequence = delta.stop_sequence.clone();
            message.usage.output_tokens = usage.output_tokens;
            if let Some(n) = usage.input_tokens {
                message.usage.input_tokens = n;
            }
            if let Some(n) = usage.cache_read_input_tokens {
                message.usage.cache_read_input_tokens = n;
            }
            if let Some(n) = usage.cache_creation_input_tokens {
                message.usage.cache_creation_input_tokens = n;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(events: &[StreamEvent]) -> Vec<&'static str> {
        events.iter().map(StreamEvent::name).collect()
    }

    #[test]
    fn signature_round_trips_reasoning() {
        let sig = mint_signature("pensée 🤔");
        assert!(is_proxy_signature(&sig));
        assert_eq!(recover_reasoning(&sig).as_deref(), Some("pensée 🤔"));
        assert_eq!(recover_reasoning("EqQBCgIYAhIM"), None);
        assert!(!is_proxy_signature("EqQBCgIYAhIM"));
    }

    #[test]
    fn whitespace_only_text_never_opens_a_block() {
        let mut b = EventBuilder::new("m", 10);
        b.text("");
        b.text("\n\n");
        b.tool_call(Some("call_1"), "Bash", r#"{"command":"ls"}"#);
        b.finish(StopReason::EndTurn, None, UpstreamUsage::default());
        let events = b.drain();
        assert_eq!(
            names(&events),
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        let StreamEvent::MessageDelta { delta, .. } = &events[4] else {
            panic!("expected message_delta")
        };
        assert_eq!(delta.stop_reason, Some(StopReason::ToolUse));
        let ours = b.tool_id_for("call_1").unwrap().to_owned();
        assert!(ours.starts_with("toolu_"));
        assert_eq!(b.upstream_id_for(&ours), Some("call_1"));
    }

    #[test]
    fn tool_use_stop_without_a_tool_block_is_end_turn() {
        let mut b = EventBuilder::new("m", 0);
        b.text("done");
        b.finish(StopReason::ToolUse, None, UpstreamUsage::default());
        let message = into_response(&b.drain()).unwrap();
        assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
    }

    #[test]
    fn leading_whitespace_is_kept_once_real_text_arrives() {
        let mut b = EventBuilder::new("m", 0);
        b.text("\n");
        b.text("hi");
        b.finish(StopReason::EndTurn, None, UpstreamUsage::default());
        let message = into_response(&b.drain()).unwrap();
        assert_eq!(
            message.content,
            vec![ContentBlock::Text(TextBlock::new("\nhi"))]
        );
    }

    #[test]
    fn nothing_after_an_error() {
        let mut b = EventBuilder::new("m", 0);
        b.text("a");
        b.fail(&ApiError::new(ErrorType::OverloadedError, "busy"));
        b.text("b");
        b.finish(StopReason::EndTurn, None, UpstreamUsage::default());
        let events = b.drain();
        assert_eq!(events.last().map(StreamEvent::name), Some("error"));
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn cached_tokens_move_out_of_input_tokens() {
        let mut b = EventBuilder::new("m", 5);
        b.finish(
            StopReason::EndTurn,
            None,
            UpstreamUsage {
                prompt_tokens: Some(1200),
                completion_tokens: Some(40),
                cached_tokens: Some(1024),
            },
        );
        let usage = b.usage();
        assert_eq!(usage.input_tokens, 176);
        assert_eq!(usage.cache_read_input_tokens, 1024);
        assert_eq!(usage.output_tokens, 40);
    }

    #[test]
    fn max_tokens_stays_max_tokens_after_a_tool_call() {
        let mut b = EventBuilder::new("m", 0);
        b.tool_call(Some("call_1"), "Bash", r#"{"command":"pwd"}"#);
        b.finish(StopReason::MaxTokens, None, UpstreamUsage::default());
        let message = into_response(&b.drain()).unwrap();
        assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
        assert_eq!(message.content.len(), 1);
    }

    #[test]
    fn upstream_usage_is_capped_for_the_client_too() {
        let mut b = EventBuilder::new("m", 5);
        b.finish(
            StopReason::EndTurn,
            None,
            UpstreamUsage {
                prompt_tokens: Some(u64::MAX),
                completion_tokens: Some(u64::MAX),
                cached_tokens: Some(3),
            },
        );
        let usage = b.usage();
        assert_eq!(usage.input_tokens, crate::anthropic::MAX_TOKENS_PER_COUNT);
        assert_eq!(usage.output_tokens, crate::anthropic::MAX_TOKENS_PER_COUNT);
        assert_eq!(usage.cache_read_input_tokens, 3);
        let message = into_response(&b.drain()).unwrap();
        assert_eq!(message.usage, usage);
    }

    #[test]
    fn only_whole_objects_are_complete_arguments() {
        assert_eq!(
            complete_arguments(" {\"a\":1} ").as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(
            complete_arguments("\"{\\\"a\\\":1}\"").as_deref(),
            Some("{\"a\":1}")
        );
        for cut in ["", "{", "{\"a\":\"x", "{\"a\":[1,2,", "[1]", "\"x\""] {
            assert_eq!(complete_arguments(cut), None, "{cut:?}");
        }
    }

    #[test]
    fn arguments_become_one_json_object() {
        assert_eq!(normalize_arguments(""), "{}");
        assert_eq!(normalize_arguments(" {\"a\":1} "), "{\"a\":1}");
        assert_eq!(normalize_arguments("\"{\\\"a\\\":1}\""), "{\"a\":1}");
        assert_eq!(
            normalize_arguments("{\"a\":\"x"),
            "{\"a\":\"x\"}",
            "truncated string closed"
        );
        assert_eq!(normalize_arguments("{\"a\":[1,2,"), "{\"a\":[1,2]}");
        assert_eq!(normalize_arguments("[1]"), "{}");
        assert_eq!(normalize_arguments("not json"), "{}");
    }

    #[test]
    fn unreadable_tool_arguments_are_not_logged() {
        let logged = crate::log_text::captured(|| {
            assert_eq!(normalize_arguments("rm -rf ~/secret-project"), "{}");
        });
        assert!(logged.contains("not a JSON object"), "{logged}");
        assert!(!logged.contains("secret-project"), "{logged}");
    }
}
