//! The inbound Messages request, parsed only as far as the chosen backend needs: routing and
//! the pass-through read a few top-level fields in one borrowing pass; the full typed request
//! (every block and tool schema allocated) is built once, and only for translating backends.

use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::head::top_level_fields;
use crate::anthropic::{ApiError, MessagesRequest};
use crate::backends::anthropic::field_range;

/// A checked inbound request.
pub struct InboundRequest {
    pub model: String,
    /// Where `model`'s value sits in `body`, for the pass-through's splice.
    pub model_at: Range<usize>,
    pub stream: bool,
    pub body: Bytes,
    full: OnceLock<Result<MessagesRequest, ApiError>>,
}

/// What every path reads; other fields are skipped (syntax-checked, not allocated).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    max_tokens: Option<u32>,
    stream: Option<bool>,
    #[serde(borrow)]
    messages: Option<&'a RawValue>,
}

/// The head fields: where `model` and `messages` sit, and the two small values.
struct HeadFields {
    model: Option<Range<usize>>,
    messages: Option<Range<usize>>,
    max_tokens: Option<u32>,
    stream: Option<bool>,
}

/// The fast path: a structural scan, then serde on the two small values only.
fn scan_head(text: &str) -> Option<HeadFields> {
    let [model, max_tokens, stream, messages] = top_level_fields(
        text.as_bytes(),
        ["model", "max_tokens", "stream", "messages"],
    )?;
    let small = |range: Option<Range<usize>>| range.map(|r| &text[r]);
    Some(HeadFields {
        max_tokens: match small(max_tokens) {
            None => None,
            Some(raw) => serde_json::from_str::<Option<u32>>(raw).ok()?,
        },
        stream: match small(stream) {
            None => None,
            Some(raw) => serde_json::from_str::<Option<bool>>(raw).ok()?,
        },
        model,
        messages,
    })
}

/// The careful path: serde reads the whole body (and words any error).
fn serde_head(text: &str) -> Result<HeadFields, ApiError> {
    let head: Head<'_> = serde_json::from_str(text).map_err(invalid)?;
    Ok(HeadFields {
        model: head.model.map(|raw| field_range(text, raw)),
        messages: head.messages.map(|raw| field_range(text, raw)),
        max_tokens: head.max_tokens,
        stream: head.stream,
    })
}

fn invalid(err: serde_json::Error) -> ApiError {
    ApiError::invalid_request(format!(
        "the request body is not a valid Messages API request: {err}"
    ))
}

impl InboundRequest {
    /// Read and check the fields every backend needs (400 with a message naming the field).
    pub fn parse(body: Bytes) -> Result<Self, ApiError> {
        let text = std::str::from_utf8(&body)
            .map_err(|_| ApiError::invalid_request("the request body is not valid UTF-8"))?;
        let head = match scan_head(text) {
            Some(head) => head,
            // The scan was unsure (malformed body, escaped or duplicate keys, a field of the
            // wrong type): serde reads it, or says exactly what is wrong.
            None => serde_head(text)?,
        };
        if head.max_tokens.is_none() {
            return Err(ApiError::invalid_request("max_tokens: Field required"));
        }
        let messages = head
            .messages
            .ok_or_else(|| ApiError::invalid_request("messages: Field required"))?;
        let inner = text[messages].trim();
        let Some(inner) = inner.strip_prefix('[') else {
            return Err(ApiError::invalid_request(
                "messages: must be a list of messages",
            ));
        };
        if inner.trim_start().starts_with(']') {
            return Err(ApiError::invalid_request(
                "messages: at least one message is required",
            ));
        }
        let model_at = head
            .model
            .ok_or_else(|| ApiError::invalid_request("model: Field required"))?;
        let model = serde_json::from_str::<String>(&text[model_at.clone()])
            .ok()
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| ApiError::invalid_request("model: must name a model"))?;
        Ok(InboundRequest {
            model,
            model_at,
            stream: head.stream.unwrap_or(false),
            body,
            full: OnceLock::new(),
        })
    }

    /// The whole request as typed structs, parsed on first use.
    pub fn full(&self) -> Result<&MessagesRequest, ApiError> {
        self.full
            .get_or_init(|| serde_json::from_slice(&self.body).map_err(invalid))
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<InboundRequest, ApiError> {
        InboundRequest::parse(Bytes::from(body.to_owned()))
    }

    #[test]
    fn reads_the_head_without_the_rest() {
        let req = parse(r#"{"model":"claude-x","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":{}}]}"#).unwrap();
        assert_eq!(req.model, "claude-x");
        assert_eq!(&req.body[req.model_at.clone()], br#""claude-x""#);
        assert!(req.stream);
        assert_eq!(req.full().unwrap().messages.len(), 1);
    }

    #[test]
    fn each_missing_field_is_named() {
        let cases = [
            (
                r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#,
                "max_tokens",
            ),
            (
                r#"{"model":"m","max_tokens":1}"#,
                "messages: Field required",
            ),
            (
                r#"{"model":"m","max_tokens":1,"messages":[ ]}"#,
                "at least one message",
            ),
            (
                r#"{"model":"m","max_tokens":1,"messages":{}}"#,
                "must be a list",
            ),
            (
                r#"{"model":" ","max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#,
                "model: must name",
            ),
            (
                r#"{"model":7,"max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#,
                "model: must name",
            ),
            (
                r#"{"max_tokens":1,"messages":[{"role":"user","content":"x"}]}"#,
                "model: Field required",
            ),
            (
                r#"{"model":"m","max_tokens":"many","messages":[]}"#,
                "not a valid Messages API request",
            ),
            ("{not json", "not a valid Messages API request"),
        ];
        for (body, expected) in cases {
            let err = parse(body).err().unwrap();
            assert_eq!(err.status(), 400, "{body}");
            assert!(err.message.contains(expected), "{body}: {}", err.message);
        }
    }

    #[test]
    fn a_malformed_block_fails_only_when_the_full_request_is_needed() {
        let req = parse(r#"{"model":"m","max_tokens":1,"messages":[{"role":"user","content":5}]}"#)
            .unwrap();
        let err = req.full().unwrap_err();
        assert!(
            err.message.contains("not a valid Messages API request"),
            "{}",
            err.message
        );
    }
}
