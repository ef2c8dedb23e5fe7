//! Shared by the translation tests: fixture loading, the structural invariants every
//! Anthropic event stream must satisfy, and id normalisation (ids are random).

#![cfg(test)]

use std::path::Path;

use serde_json::{Value, json};
use switchyard_core::anthropic::{
    ContentBlock, Delta, MessagesRequest, MessagesResponse, StopReason, StreamEvent,
};
use switchyard_core::backends::StreamTranslator;
use switchyard_core::config::BackendConfig;

/// A fixture folder: `request.anthropic.json` plus optional `context.json`, `upstream.sse` /
/// `upstream.ndjson` (stream), `upstream.json` (complete answer), `upstream_error.json`
/// (error body, with `error_status` in `context.json`).
pub struct Case {
    pub request: MessagesRequest,
    pub backend: BackendConfig,
    pub upstream_model: String,
    pub context_length: Option<u32>,
    pub error_status: u16,
    pub stream: Option<Vec<u8>>,
    pub response: Option<Vec<u8>>,
    pub error: Option<Vec<u8>>,
}

impl Case {
    pub fn load(dir: &Path, default_backend: Value) -> Case {
        let read = |name: &str| std::fs::read(dir.join(name)).ok();
        let request: MessagesRequest =
            serde_json::from_slice(&read("request.anthropic.json").unwrap()).unwrap();
        let context: Value = read("context.json")
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap_or_else(|| json!({}));
        let mut backend = default_backend;
        if let Some(overrides) = context.get("backend").and_then(Value::as_object) {
            for (k, v) in overrides {
                backend[k] = v.clone();
            }
        }
        Case {
            request,
            backend: serde_json::from_value(backend).unwrap(),
            upstream_model: context
                .get("upstream_model")
                .and_then(Value::as_str)
                .unwrap_or("qwen3-coder")
                .to_owned(),
            context_length: context
                .get("context_length")
                .and_then(Value::as_u64)
                .map(|n| u32::try_from(n).unwrap()),
            error_status: context
                .get("error_status")
                .and_then(Value::as_u64)
                .map_or(500, |n| u16::try_from(n).unwrap()),
            stream: read("upstream.sse").or_else(|| read("upstream.ndjson")),
            response: read("upstream.json"),
            error: read("upstream_error.json"),
        }
    }
}

/// Feed `bytes` cut at `cuts` (sorted offsets), then finish.
pub fn run_stream(
    translator: &mut dyn StreamTranslator,
    bytes: &[u8],
    cuts: &[usize],
) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    let mut last = 0;
    for &cut in cuts {
        events.extend(translator.feed(&bytes[last..cut]));
        last = cut;
    }
    events.extend(translator.feed(&bytes[last..]));
    events.extend(translator.finish());
    events
}

fn is_base62(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Replace random ids by stable ones (`msg_ID`, `toolu_1`, `toolu_2`...) after checking
/// their shape.
pub fn normalize_events(events: &mut [StreamEvent]) {
    let mut tools = 0;
    for event in events {
        match event {
            StreamEvent::MessageStart { message } => normalize_message_id(message),
            StreamEvent::ContentBlockStart {
                content_block: ContentBlock::ToolUse(tool),
                ..
            } => {
                tools += 1;
                tool.id = normalize_tool_id(&tool.id, tools);
            }
            _ => {}
        }
    }
}

fn normalize_message_id(message: &mut MessagesResponse) {
    let rest = message.id.strip_prefix("msg_").unwrap();
    assert!(is_base62(rest), "message id {}", message.id);
    message.id = "msg_ID".to_owned();
}

fn normalize_tool_id(id: &str, n: usize) -> String {
    let rest = id.strip_prefix("toolu_").unwrap();
    assert!(is_base62(rest), "tool id {id}");
    format!("toolu_{n}")
}

pub fn normalize_response(message: &mut MessagesResponse) {
    normalize_message_id(message);
    let mut tools = 0;
    for block in &mut message.content {
        if let ContentBlock::ToolUse(tool) = block {
            tools += 1;
            tool.id = normalize_tool_id(&tool.id, tools);
        }
        if let ContentBlock::Text(text) = block {
            assert!(
                !text.text.trim().is_empty(),
                "empty text block in a response"
            );
        }
    }
}

/// Events as one compact JSON line each: easy to read in a snapshot.
pub fn render(events: &[StreamEvent]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| Value::String(serde_json::to_string(e).unwrap()))
            .collect(),
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Text,
    Thinking,
    Tool,
}

/// The structural rules of §5.8 (and what the SDKs' accumulators need). Panics with the
/// offending position.
pub fn check_invariants(events: &[StreamEvent]) {
    assert!(
        matches!(events.first(), Some(StreamEvent::MessageStart { .. })),
        "first event must be message_start: {events:?}"
    );
    let ends_in_error = matches!(events.last(), Some(StreamEvent::Error { .. }));
    let mut open: Option<(u32, Kind, String, bool)> = None;
    let mut next_index = 0;
    let mut any_tool = false;
    let mut message_deltas = 0;
    for (i, event) in events.iter().enumerate() {
        let at = format!("event {i}: {event:?}");
        match event {
            StreamEvent::MessageStart { message } => {
                assert_eq!(i, 0, "{at}: second message_start");
                assert!(
                    message.content.is_empty() && message.stop_reason.is_none(),
                    "{at}"
                );
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                assert!(open.is_none(), "{at}: a block is already open");
                assert_eq!(*index, next_index, "{at}: indices must be contiguous");
                assert_eq!(message_deltas, 0, "{at}: block after message_delta");
                next_index += 1;
                let kind = match content_block {
                    ContentBlock::Text(t) => {
                        assert!(t.text.is_empty(), "{at}");
                        Kind::Text
                    }
                    ContentBlock::Thinking(t) => {
                        assert!(t.thinking.is_empty(), "{at}");
                        Kind::Thinking
                    }
                    ContentBlock::ToolUse(t) => {
                        assert_eq!(t.input, json!({}), "{at}: tool input must start as {{}}");
                        any_tool = true;
                        Kind::Tool
                    }
                    other => panic!("{at}: unexpected block {other:?}"),
                };
                open = Some((*index, kind, String::new(), false));
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                let Some((open_index, kind, buffer, signed)) = open.as_mut() else {
                    panic!("{at}: delta without an open block");
                };
                assert_eq!(
                    index, open_index,
                    "{at}: delta for a block that is not open"
                );
                match (kind, delta) {
                    (Kind::Text, Delta::TextDelta { text }) => buffer.push_str(text),
                    (Kind::Thinking, Delta::ThinkingDelta { thinking }) => {
                        assert!(!*signed, "{at}: thinking after signature");
                        buffer.push_str(thinking);
                    }
                    (Kind::Thinking, Delta::SignatureDelta { signature }) => {
                        assert!(signature.starts_with("swy1."), "{at}");
                        *signed = true;
                    }
                    (Kind::Tool, Delta::InputJsonDelta { partial_json }) => {
                        buffer.push_str(partial_json);
                    }
                    (kind, delta) => panic!("{at}: {delta:?} in a {kind:?} block"),
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                let Some((open_index, kind, buffer, signed)) = open.take() else {
                    panic!("{at}: stop without an open block");
                };
                assert_eq!(*index, open_index, "{at}");
                match kind {
                    Kind::Text => assert!(!buffer.trim().is_empty(), "{at}: empty text block"),
                    Kind::Thinking => {
                        assert!(!buffer.trim().is_empty(), "{at}: empty thinking block");
                        assert!(signed, "{at}: thinking block without signature");
                    }
                    Kind::Tool => {
                        let input: Value = serde_json::from_str(&buffer)
                            .unwrap_or_else(|e| panic!("{at}: tool input {buffer:?}: {e}"));
                        assert!(input.is_object(), "{at}: tool input not an object");
                    }
                }
            }
            StreamEvent::MessageDelta { delta, .. } => {
                assert!(open.is_none(), "{at}: message_delta with a block open");
                message_deltas += 1;
                assert_eq!(message_deltas, 1, "{at}: more than one message_delta");
                assert!(delta.stop_reason.is_some(), "{at}: null stop_reason");
                // A cut answer says so even after whole tool calls (a cut-off one is dropped).
                if any_tool {
                    assert!(
                        matches!(
                            delta.stop_reason,
                            Some(StopReason::ToolUse | StopReason::MaxTokens)
                        ),
                        "{at}"
                    );
                }
            }
            StreamEvent::MessageStop => {
                assert_eq!(i, events.len() - 1, "{at}: message_stop must be last");
                assert_eq!(
                    message_deltas, 1,
                    "{at}: message_stop without message_delta"
                );
            }
            StreamEvent::Error { .. } => {
                assert_eq!(i, events.len() - 1, "{at}: error must be last");
            }
            StreamEvent::Ping => {}
            StreamEvent::Unknown => panic!("{at}"),
        }
    }
    if !ends_in_error {
        assert!(
            matches!(events.last(), Some(StreamEvent::MessageStop)),
            "stream must end with message_stop or error"
        );
    }
}
