//! Pass-through to any `/v1/messages` endpoint (Anthropic, and local engines or clouds that
//! speak the Messages API themselves). The body is forwarded byte for byte except for the
//! `model` value; the answer is relayed as it arrives while a tap reads usage on the side.

use std::ops::Range;

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::anthropic::{
    ApiError, ErrorEnvelope, ErrorType, MessageDeltaUsage, StopReason, StreamEvent, Usage,
};
use crate::sse::SseDecoder;

use super::events::SIGNATURE_PREFIX as MINTED_SIGNATURE_PREFIX;

/// `base_url` + `/v1/messages` (or `/messages` when the base already ends in `/v1`).
pub fn endpoint(base_url: &str, path: &str) -> String {
    let base = base_url.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}{path}")
    } else {
        format!("{base}/v1{path}")
    }
}

/// Where the top-level `model` value sits in a JSON body (one borrowing pass).
pub fn model_range(body: &[u8]) -> Result<Range<usize>, ApiError> {
    #[derive(Deserialize)]
    struct ModelField<'a> {
        #[serde(borrow)]
        model: &'a RawValue,
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_request("the request body is not valid UTF-8"))?;
    let field: ModelField<'_> = serde_json::from_str(text)
        .map_err(|err| ApiError::invalid_request(format!("invalid request body: {err}")))?;
    Ok(field_range(text, field.model))
}

/// Replace the top-level `model` value in a JSON body without touching any other byte, so
/// that thinking signatures, key order and fields we do not know reach the backend exactly.
pub fn replace_model(body: &[u8], model: &str) -> Result<Bytes, ApiError> {
    splice_model(body, model_range(body)?, model)
}

/// Put `model` where the old value was (`at`, from [`model_range`]).
fn splice_model(body: &[u8], at: Range<usize>, model: &str) -> Result<Bytes, ApiError> {
    let Range { start, end } = at;
    if start > end || end > body.len() {
        return Err(ApiError::new(
            ErrorType::ApiError,
            "could not locate `model` in the body",
        ));
    }
    let replacement = serde_json::to_string(model)
        .map_err(|err| ApiError::new(ErrorType::ApiError, err.to_string()))?;
    let mut out = Vec::with_capacity(body.len() + replacement.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(replacement.as_bytes());
    out.extend_from_slice(&body[end..]);
    Ok(Bytes::from(out))
}

/// The body to forward: the client's bytes with `model` (at `model_at`) replaced and foreign
/// thinking blocks (see [`strip_foreign_thinking`]) removed; nothing else changes.
pub fn prepare_body(body: &[u8], model_at: Range<usize>, model: &str) -> Result<Bytes, ApiError> {
    let body = splice_model(body, model_at, model)?;
    Ok(strip_foreign_thinking(&body)?.unwrap_or(body))
}

/// Locate a top-level field's raw value inside `text` (the value borrows from it).
pub(crate) fn field_range(text: &str, raw: &RawValue) -> Range<usize> {
    let start = (raw.get().as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    start..start + raw.get().len()
}

/// Remove thinking blocks that a translating backend minted (their signature starts with
/// [`MINTED_SIGNATURE_PREFIX`]), and unsigned ones alongside them: a real Anthropic backend
/// rejects both. Bodies without a minted signature (the usual case) are not parsed at all. This happens when a conversation moves from a local profile to the cloud.
/// Returns `None` (forward the body untouched) when there is nothing to strip; otherwise only
/// the `messages` array is rebuilt, from the raw bytes of every block that stays.
pub fn strip_foreign_thinking(body: &[u8]) -> Result<Option<Bytes>, ApiError> {
    if memchr::memmem::find(body, MINTED_SIGNATURE_PREFIX.as_bytes()).is_none() {
        return Ok(None);
    }
    let bad =
        |err: serde_json::Error| ApiError::invalid_request(format!("invalid request body: {err}"));
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_request("the request body is not valid UTF-8"))?;
    #[derive(Deserialize)]
    struct Top<'a> {
        #[serde(borrow)]
        messages: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct BlockKind {
        #[serde(rename = "type", default)]
        kind: String,
        #[serde(default)]
        signature: Option<String>,
    }
    let top: Top<'_> = serde_json::from_str(text).map_err(bad)?;
    let messages: Vec<indexmap::IndexMap<String, &RawValue>> =
        serde_json::from_str(top.messages.get()).map_err(bad)?;
    let mut changed = false;
    let mut rebuilt = Vec::with_capacity(messages.len());
    for message in &messages {
        let mut fields = Vec::with_capacity(message.len());
        for (key, value) in message {
            let mut raw = value.get().to_owned();
            if key == "content" && raw.trim_start().starts_with('[') {
                let blocks: Vec<&RawValue> = serde_json::from_str(value.get()).map_err(bad)?;
                let kept: Vec<&str> = blocks
                    .iter()
                    .filter(|block| {
                        let Ok(b) = serde_json::from_str::<BlockKind>(block.get()) else {
                            return true;
                        };
                        let foreign = b.kind == "thinking"
                            && b.signature.as_deref().is_none_or(|s| {
                                s.is_empty() || s.starts_with(MINTED_SIGNATURE_PREFIX)
                            });
                        !foreign
                    })
                    .map(|b| b.get())
                    .collect();
                if kept.len() != blocks.len() {
                    changed = true;
                    raw = format!("[{}]", kept.join(","));
                }
            }
            fields.push(format!(
                "{}:{raw}",
                serde_json::to_string(key).map_err(bad)?
            ));
        }
        rebuilt.push(format!("{{{}}}", fields.join(",")));
    }
    if !changed {
        return Ok(None);
    }
    let range = field_range(text, top.messages);
    let mut out = Vec::with_capacity(body.len());
    out.extend_from_slice(&body[..range.start]);
    out.push(b'[');
    out.extend_from_slice(rebuilt.join(",").as_bytes());
    out.push(b']');
    out.extend_from_slice(&body[range.end..]);
    Ok(Some(Bytes::from(out)))
}

/// The client headers a pass-through forwards: `anthropic-*` (version, beta flags: never
/// filtered, new ones arrive with every Claude Code release) and Claude Code's session headers.
/// Credentials are never forwarded; the backend's own key is added by the caller.
pub fn forwarded_headers(inbound: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in inbound {
        let n = name.as_str();
        if n.starts_with("anthropic-") && n != "anthropic-dangerous-direct-browser-access"
            || n.starts_with("x-claude-code-")
        {
            out.append(name.clone(), value.clone());
        }
    }
    if !out.contains_key("anthropic-version") {
        out.insert(
            "anthropic-version",
            http::HeaderValue::from_static("2023-06-01"),
        );
    }
    out
}

/// An upstream error answer in Anthropic's shape. The upstream's own wording is kept (Claude
/// Code reacts to "prompt is too long", signature errors, ...); only a body we cannot read is
/// replaced by a message naming the backend.
pub fn upstream_error(status: u16, body: &[u8], backend_id: &str) -> ApiError {
    if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
        let kind =
            ErrorType::from_name(&envelope.error.kind).unwrap_or(ErrorType::from_status(status));
        return ApiError::new(kind, envelope.error.message).with_status(status);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(300)])
        .trim()
        .to_owned();
    ApiError::new(
        ErrorType::from_status(status),
        format!(
            "backend {backend_id:?} answered HTTP {status}{}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ),
    )
    .with_status(status)
}

/// Usage of a complete (non-streaming) Messages response.
pub fn response_usage(body: &[u8]) -> Usage {
    #[derive(Deserialize)]
    struct UsageOnly {
        #[serde(default)]
        usage: Usage,
    }
    serde_json::from_slice::<UsageOnly>(body)
        .map(|u| u.usage)
        .unwrap_or_default()
}

/// Reads a relayed SSE stream on the side: usage, whether the message finished, and any error
/// event. Only the few event types that matter are JSON-parsed.
#[derive(Default)]
pub struct UsageTap {
    decoder: SseDecoder,
    pub usage: Usage,
    pub started: bool,
    pub stopped: bool,
    /// The stop reason `message_delta` gave (the response cache keeps only some).
    pub stop_reason: Option<StopReason>,
    pub error: Option<ApiError>,
    /// The stream itself could not be read (an event past the size limit, invalid UTF-8):
    /// the relay tells the client with an `error` event and relays nothing more.
    pub unreadable: Option<ApiError>,
    /// Whether the bytes relayed so far end on an event boundary (a `ping` may be inserted).
    pub at_boundary: bool,
    /// Complete events seen: the idle timeout waits for events, not bytes.
    pub events: u64,
}

impl UsageTap {
    pub fn new() -> Self {
        UsageTap {
            at_boundary: true,
            ..Default::default()
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        if !chunk.is_empty() {
            self.at_boundary = chunk.ends_with(b"\n\n") || chunk.ends_with(b"\r\n\r\n");
        }
        match self.decoder.feed(chunk) {
            Ok(events) => {
                self.events += events.len() as u64;
                for event in events {
                    self.observe(&event.event, &event.data);
                }
            }
            Err(err) => {
                self.unreadable = Some(ApiError::new(ErrorType::ApiError, err.to_string()));
            }
        }
    }

    fn observe(&mut self, name: &str, data: &str) {
        if !matches!(
            name,
            "message_start" | "message_delta" | "message_stop" | "error"
        ) {
            return;
        }
        match serde_json::from_str::<StreamEvent>(data) {
            Ok(StreamEvent::MessageStart { message }) => {
                self.started = true;
                self.usage = message.usage;
            }
            Ok(StreamEvent::MessageDelta { delta, usage }) => {
                self.stop_reason = delta.stop_reason;
                self.apply_delta(usage);
            }
            Ok(StreamEvent::MessageStop) => self.stopped = true,
            Ok(StreamEvent::Error { error }) => {
                let kind = ErrorType::from_name(&error.kind).unwrap_or(ErrorType::ApiError);
                self.error = Some(ApiError::new(kind, error.message));
            }
            _ => {}
        }
    }

    fn apply_delta(&mut self, delta: MessageDeltaUsage) {
        self.usage.output_tokens = delta.output_tokens;
        if let Some(n) = delta.input_tokens {
            self.usage.input_tokens = n;
        }
        if let Some(n) = delta.cache_creation_input_tokens {
            self.usage.cache_creation_input_tokens = n;
        }
        if let Some(n) = delta.cache_read_input_tokens {
            self.usage.cache_read_input_tokens = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_the_model_bytes() {
        let body = br#"{ "max_tokens" : 5,"model":"claude-sonnet-4-5" ,"messages":[{"role":"user","content":"caf\u00e9 \"model\":1"}],"thinking_sig":"Eq+/=="}"#;
        let out = replace_model(body, "qwen3:8b").unwrap();
        let expected = br#"{ "max_tokens" : 5,"model":"qwen3:8b" ,"messages":[{"role":"user","content":"caf\u00e9 \"model\":1"}],"thinking_sig":"Eq+/=="}"#;
        assert_eq!(&out[..], &expected[..]);
    }

    #[test]
    fn strips_minted_and_unsigned_thinking_but_keeps_real_signatures_byte_exact() {
        let body = br#"{"model":"m", "messages":[{"role":"user","content":"caf\u00e9"},{"role":"assistant","content":[{"type":"thinking","thinking":"local","signature":"swy1.abc"},{"type":"text","text":"hi"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"b":1, "a":2}}]},{"role":"assistant","content":[{"type":"thinking", "thinking":"real","signature":"EqQB+/=="},{"type":"thinking","thinking":"no sig"}]}],"max_tokens":9}"#;
        let out = strip_foreign_thinking(body).unwrap().unwrap();
        let expected = br#"{"model":"m", "messages":[{"role":"user","content":"caf\u00e9"},{"role":"assistant","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"b":1, "a":2}}]},{"role":"assistant","content":[{"type":"thinking", "thinking":"real","signature":"EqQB+/=="}]}],"max_tokens":9}"#;
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            std::str::from_utf8(expected).unwrap()
        );
        // Nothing to strip: the body is forwarded untouched.
        let clean = br#"{"model":"m","messages":[{"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"Eq"}]}]}"#;
        assert!(strip_foreign_thinking(clean).unwrap().is_none());
        assert!(
            strip_foreign_thinking(br#"{"model":"m","messages":[]}"#)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_body_without_model_is_a_400() {
        let err = replace_model(br#"{"messages":[]}"#, "x").unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.message.contains("model"), "{}", err.message);
    }

    #[test]
    fn endpoint_handles_bases_with_and_without_v1() {
        assert_eq!(
            endpoint("https://api.anthropic.com", "/messages"),
            "https://api.anthropic.com/v1/messages"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:8000/v1/", "/messages"),
            "http://127.0.0.1:8000/v1/messages"
        );
        assert_eq!(
            endpoint("https://x.ai/anthropic", "/messages/count_tokens"),
            "https://x.ai/anthropic/v1/messages/count_tokens"
        );
    }

    #[test]
    fn forwards_anthropic_and_session_headers_but_no_credentials() {
        let mut h = HeaderMap::new();
        h.insert("anthropic-beta", "a,b".parse().unwrap());
        h.insert("anthropic-version", "2023-06-01".parse().unwrap());
        h.insert("x-claude-code-session-id", "s1".parse().unwrap());
        h.insert("authorization", "Bearer local".parse().unwrap());
        h.insert("x-api-key", "local".parse().unwrap());
        h.insert("cookie", "c".parse().unwrap());
        let out = forwarded_headers(&h);
        assert_eq!(out.len(), 3);
        assert_eq!(out["anthropic-beta"], "a,b");
        assert!(out.get("authorization").is_none() && out.get("x-api-key").is_none());
    }

    #[test]
    fn upstream_errors_keep_their_wording() {
        let body = br#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208656 tokens > 200000 maximum"}}"#;
        let err = upstream_error(400, body, "anthropic");
        assert_eq!(err.kind, ErrorType::InvalidRequestError);
        assert_eq!(
            err.message,
            "prompt is too long: 208656 tokens > 200000 maximum"
        );
        let err = upstream_error(502, b"<html>Bad gateway</html>", "vllm");
        assert_eq!(err.kind, ErrorType::OverloadedError);
        assert_eq!(err.status(), 502);
        assert!(err.message.contains("\"vllm\"") && err.message.contains("Bad gateway"));
    }

    #[test]
    fn tap_reads_usage_across_chunks() {
        let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"x\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":10,\"output_tokens\":1,\"cache_read_input_tokens\":5}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let mut tap = UsageTap::new();
        for chunk in stream.as_bytes().chunks(7) {
            tap.feed(chunk);
        }
        assert!(tap.started && tap.stopped && tap.error.is_none());
        assert_eq!(tap.usage.input_tokens, 10);
        assert_eq!(tap.usage.cache_read_input_tokens, 5);
        assert_eq!(tap.usage.output_tokens, 42);
    }
}
