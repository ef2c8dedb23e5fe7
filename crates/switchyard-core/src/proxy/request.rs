//! The inbound Messages request, parsed only as far as the chosen backend needs: one
//! structural scan finds every top-level field (routing and the pass-through read a few small
//! ones); the typed request is built only for translating backends, field by field from the
//! same scan, with the tool definitions and the system prompt shared between requests that
//! carry the same bytes (see [`ReuseCache`]).

use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::value::RawValue;

use super::head::{TopLevel, top_level_fields_with};
use crate::anthropic::{ApiError, MessagesRequest, ReuseCache, Reused, System, Tool};
use crate::backends::anthropic::field_range;

/// Every field of [`MessagesRequest`], in the order of [`Field`].
const FIELDS: [&str; 14] = [
    "model",
    "max_tokens",
    "stream",
    "messages",
    "system",
    "tools",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "tool_choice",
    "thinking",
    "metadata",
    "output_config",
];

#[derive(Clone, Copy)]
enum Field {
    Model,
    MaxTokens,
    Stream,
    Messages,
    System,
    Tools,
    StopSequences,
    Temperature,
    TopP,
    TopK,
    ToolChoice,
    Thinking,
    Metadata,
    OutputConfig,
}

pub(super) static TOOLS: ReuseCache<Vec<Tool>> = ReuseCache::new();
pub(super) static SYSTEMS: ReuseCache<System> = ReuseCache::new();

/// What the scan found: where each field sits, and the reusable parts it recognised.
struct Scanned {
    fields: TopLevel<14>,
    tools: Option<Reused<Vec<Tool>>>,
    system: Option<Reused<System>>,
}

/// The structural scan, told where the tool definitions and system prompt of recent requests
/// end, so that a repeat of them is passed over with one hash instead of read.
fn scan(body: &[u8]) -> Option<Scanned> {
    let mut tools = None;
    let mut system = None;
    let fields = top_level_fields_with(body, FIELDS, |slot, rest| {
        if slot == Field::Tools as usize {
            let (len, part) = TOOLS.known(rest)?;
            tools = Some(part);
            Some(len)
        } else if slot == Field::System as usize {
            let (len, part) = SYSTEMS.known(rest)?;
            system = Some(part);
            Some(len)
        } else {
            None
        }
    })?;
    Some(Scanned {
        fields,
        tools,
        system,
    })
}

impl Scanned {
    fn span<'a>(&self, body: &'a [u8], field: Field) -> Option<&'a [u8]> {
        self.fields.found[field as usize].clone().map(|r| &body[r])
    }

    /// The body is UTF-8: checked outside the recognised parts (which were when first seen).
    fn check_utf8(&self, body: &[u8]) -> Result<(), ApiError> {
        let mut known: Vec<Range<usize>> = [
            (self.tools.is_some(), Field::Tools),
            (self.system.is_some(), Field::System),
        ]
        .into_iter()
        .filter(|(known, _)| *known)
        .filter_map(|(_, field)| self.fields.found[field as usize].clone())
        .collect();
        known.sort_by_key(|r| r.start);
        let mut at = 0;
        for range in known {
            as_text(&body[at..range.start])?;
            at = range.end;
        }
        as_text(&body[at..]).map(|_| ())
    }
}

/// A part of the body as a rule's conditions get it.
pub(super) enum Part<'a, T> {
    Absent,
    /// Parsed (now or by an earlier request with the same text).
    Parsed(Reused<T>),
    /// Not parsed yet: the raw JSON value.
    Raw(&'a [u8]),
}

impl<T: DeserializeOwned + Send + Sync + 'static> Part<'_, T> {
    /// The parsed part, parsing (and sharing) it now if needed; `None` when it does not parse.
    pub(super) fn parse(self, cache: &ReuseCache<T>) -> Option<Option<Reused<T>>> {
        match self {
            Part::Absent => Some(None),
            Part::Parsed(part) => Some(Some(part)),
            Part::Raw(raw) => cache
                .get_or_parse(raw, |raw| serde_json::from_slice::<T>(raw))
                .ok()
                .map(Some),
        }
    }
}

/// See [`InboundRequest::condition_parts`].
pub(super) struct ConditionParts<'a> {
    pub messages: &'a [u8],
    pub thinking: Option<&'a [u8]>,
    pub tools: Part<'a, Vec<Tool>>,
    pub system: Part<'a, System>,
}

/// A checked inbound request.
pub struct InboundRequest {
    pub model: String,
    /// Where `model`'s value sits in `body`, for the pass-through's splice.
    pub model_at: Range<usize>,
    pub stream: bool,
    pub body: Bytes,
    /// The scan's result, when it was sure of the body (else serde reads it whole).
    scanned: Option<Scanned>,
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

/// The fast path: the scan's spans, then serde on the two small values only.
fn scan_head(body: &[u8], scanned: &Scanned) -> Option<HeadFields> {
    Some(HeadFields {
        max_tokens: match scanned.span(body, Field::MaxTokens) {
            None => None,
            Some(raw) => serde_json::from_slice::<Option<u32>>(raw).ok()?,
        },
        stream: match scanned.span(body, Field::Stream) {
            None => None,
            Some(raw) => serde_json::from_slice::<Option<bool>>(raw).ok()?,
        },
        model: scanned.fields.found[Field::Model as usize].clone(),
        messages: scanned.fields.found[Field::Messages as usize].clone(),
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

fn as_text(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body)
        .map_err(|_| ApiError::invalid_request("the request body is not valid UTF-8"))
}

/// The typed request from the scan's spans: each field parsed from its own text, the reusable
/// parts shared with earlier requests that carried the same text. `None` on any error: serde
/// then reads the whole body, so the message points at the right place in it.
fn typed_from_fields(body: &[u8], scanned: &Scanned) -> Option<MessagesRequest> {
    fn value<T: DeserializeOwned>(raw: Option<&[u8]>) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => serde_json::from_slice::<Option<T>>(raw).ok(),
        }
    }
    fn reused<T: DeserializeOwned + Send + Sync + 'static>(
        cache: &ReuseCache<T>,
        known: &Option<Reused<T>>,
        raw: Option<&[u8]>,
    ) -> Option<Option<Reused<T>>> {
        match (known, raw) {
            (Some(known), _) => Some(Some(known.clone())),
            // `null` is as good as absent (and not worth a cache entry).
            (None, None | Some(b"null")) => Some(None),
            (None, Some(raw)) => cache
                .get_or_parse(raw, |raw| serde_json::from_slice::<T>(raw))
                .ok()
                .map(Some),
        }
    }
    // Unknown fields reach no backend, but a body that is not JSON is refused all the same.
    for other in &scanned.fields.others {
        serde_json::from_slice::<IgnoredAny>(&body[other.clone()]).ok()?;
    }
    let span = |field| scanned.span(body, field);
    Some(MessagesRequest {
        model: value(span(Field::Model))??,
        max_tokens: value(span(Field::MaxTokens))?,
        messages: value(span(Field::Messages))??,
        system: reused(&SYSTEMS, &scanned.system, span(Field::System))?,
        stream: value(span(Field::Stream))?,
        stop_sequences: value(span(Field::StopSequences))?,
        temperature: value(span(Field::Temperature))?,
        top_p: value(span(Field::TopP))?,
        top_k: value(span(Field::TopK))?,
        tools: reused(&TOOLS, &scanned.tools, span(Field::Tools))?,
        tool_choice: value(span(Field::ToolChoice))?,
        thinking: value(span(Field::Thinking))?,
        metadata: value(span(Field::Metadata))?,
        output_config: value(span(Field::OutputConfig))?,
    })
}

/// The whole body as a typed request (the body's UTF-8 already checked).
fn typed(body: &[u8], scanned: Option<&Scanned>) -> Result<MessagesRequest, ApiError> {
    match scanned.and_then(|scanned| typed_from_fields(body, scanned)) {
        Some(req) => Ok(req),
        None => serde_json::from_slice(body).map_err(invalid),
    }
}

/// Parse a whole Messages request, with a message that says what is wrong and where.
pub fn parse_request(body: &[u8]) -> Result<MessagesRequest, ApiError> {
    let scanned = scan(body);
    match &scanned {
        Some(scanned) => scanned.check_utf8(body)?,
        None => {
            as_text(body)?;
        }
    }
    typed(body, scanned.as_ref())
}

impl InboundRequest {
    /// Read and check the fields every backend needs (400 with a message naming the field).
    pub fn parse(body: Bytes) -> Result<Self, ApiError> {
        let scanned = scan(&body);
        let head = match &scanned {
            Some(scanned) => {
                scanned.check_utf8(&body)?;
                scan_head(&body, scanned)
            }
            None => None,
        };
        let head = match head {
            Some(head) => head,
            // The scan was unsure (malformed body, escaped or duplicate keys, a field of the
            // wrong type): serde reads it, or says exactly what is wrong.
            None => serde_head(as_text(&body)?)?,
        };
        if head.max_tokens.is_none() {
            return Err(ApiError::invalid_request("max_tokens: Field required"));
        }
        let messages = head
            .messages
            .ok_or_else(|| ApiError::invalid_request("messages: Field required"))?;
        let Some(inner) = body[messages].trim_ascii().strip_prefix(b"[") else {
            return Err(ApiError::invalid_request(
                "messages: must be a list of messages",
            ));
        };
        if inner.trim_ascii_start().starts_with(b"]") {
            return Err(ApiError::invalid_request(
                "messages: at least one message is required",
            ));
        }
        let model_at = head
            .model
            .ok_or_else(|| ApiError::invalid_request("model: Field required"))?;
        let model = serde_json::from_slice::<String>(&body[model_at.clone()])
            .ok()
            .filter(|m| !m.trim().is_empty())
            .ok_or_else(|| ApiError::invalid_request("model: must name a model"))?;
        Ok(InboundRequest {
            model,
            model_at,
            stream: head.stream.unwrap_or(false),
            scanned,
            body,
            full: OnceLock::new(),
        })
    }

    /// The parts a rule's conditions read, from the scan: `None` when the scan was unsure of
    /// the body (the typed parse decides then). Tool definitions and the system prompt come
    /// parsed, shared with earlier requests that carried the same text (and kept for later
    /// ones, whose scan then passes over them with one hash).
    pub(super) fn condition_parts(&self) -> Option<ConditionParts<'_>> {
        let scanned = self.scanned.as_ref()?;
        let body = &self.body[..];
        let span = |field| scanned.span(body, field);
        fn shared<'a, T>(known: &Option<Reused<T>>, raw: Option<&'a [u8]>) -> Part<'a, T> {
            match (known, raw) {
                (Some(known), _) => Part::Parsed(known.clone()),
                (None, None | Some(b"null")) => Part::Absent,
                (None, Some(raw)) => Part::Raw(raw),
            }
        }
        Some(ConditionParts {
            messages: span(Field::Messages)?,
            thinking: span(Field::Thinking),
            tools: shared(&scanned.tools, span(Field::Tools)),
            system: shared(&scanned.system, span(Field::System)),
        })
    }

    /// `metadata.user_id` (Claude Code puts its session there), read from its own field.
    pub(super) fn user_id(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Metadata {
            user_id: Option<String>,
        }
        let raw = match &self.scanned {
            Some(scanned) => scanned.span(&self.body, Field::Metadata)?,
            None => return self.full().ok()?.metadata.as_ref()?.user_id.clone(),
        };
        serde_json::from_slice::<Option<Metadata>>(raw)
            .ok()??
            .user_id
    }

    /// The hash of the body's content for the response cache's key (`cache/key.rs`): every
    /// top-level field but `model` (the key has the upstream model), `stream` (one stored
    /// answer serves both shapes) and `metadata` (who asks, not what), each named and
    /// length-prefixed. Known fields go in a fixed order and the others in the body's, so
    /// the order of the known ones does not matter. Values count byte for byte as sent (the
    /// pass-through forwards them so). From the scan's spans: ~90 KB hash in a few µs, with
    /// nothing parsed. `None` when the scan was unsure of the body: such a request (escaped
    /// or duplicate keys) is neither looked up nor stored.
    pub(crate) fn content_hash(&self) -> Option<u128> {
        let scanned = self.scanned.as_ref()?;
        let body = &self.body[..];
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut put = |bytes: &[u8]| {
            h.update(&(bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        for (slot, name) in FIELDS.iter().enumerate() {
            if [Field::Model, Field::Stream, Field::Metadata]
                .iter()
                .any(|f| *f as usize == slot)
            {
                continue;
            }
            if let Some(range) = scanned.fields.found[slot].clone() {
                put(name.as_bytes());
                put(&body[range]);
            }
        }
        // Between the known fields and the others: the two lists cannot run into each other.
        put(b"");
        for (key, value) in scanned.fields.other_keys.iter().zip(&scanned.fields.others) {
            put(&body[key.clone()]);
            put(&body[value.clone()]);
        }
        Some(h.digest128())
    }

    /// The whole request as typed structs, parsed on first use.
    pub fn full(&self) -> Result<&MessagesRequest, ApiError> {
        self.full
            .get_or_init(|| typed(&self.body, self.scanned.as_ref()))
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
    fn the_field_by_field_parse_equals_serde_and_shares_repeated_parts() {
        let body = r#"{"model":"m","max_tokens":9,"system":[{"type":"text","text":"You are a shared system prompt, long enough"}],"tools":[{"name":"Bash","description":"Run a shell command in the sandbox","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"context_management":{"edits":[]}}"#;
        let expected: MessagesRequest = serde_json::from_str(body).unwrap();
        let first = parse(body).unwrap();
        assert_eq!(first.full().unwrap(), &expected);
        let second = parse(body).unwrap();
        assert_eq!(second.full().unwrap(), &expected);
        // The second request's tools come from the first one's parse, found by the scan.
        assert!(second.scanned.as_ref().unwrap().tools.is_some());
        // A different message list with the same tools still parses exactly.
        let other = body.replace(r#""content":"hi""#, r#""content":"bye""#);
        let expected: MessagesRequest = serde_json::from_str(&other).unwrap();
        assert_eq!(parse(&other).unwrap().full().unwrap(), &expected);
        // Garbage in an unknown field is refused, as serde refuses it.
        let bad = body.replace(r#"{"edits":[]}"#, r#"{"edits":[1 2]}"#);
        assert!(parse(&bad).unwrap().full().is_err());
        assert!(parse_request(bad.as_bytes()).is_err());
    }

    #[test]
    fn the_content_hash_ignores_model_stream_metadata_and_field_order_only() {
        let hash = |body: &str| parse(body).unwrap().content_hash();
        let base = r#"{"model":"a","max_tokens":9,"stream":false,"metadata":{"user_id":"u1"},"system":"s","tools":[{"name":"t","input_schema":{}}],"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"context_management":{"edits":[]}}"#;
        let h = hash(base).unwrap();
        for same in [
            base.replace(r#""model":"a""#, r#""model":"b""#),
            base.replace(r#""stream":false"#, r#""stream":true"#),
            base.replace(r#","stream":false"#, ""),
            base.replace(r#""user_id":"u1""#, r#""user_id":"u2""#),
            base.replace(r#""metadata":{"user_id":"u1"},"#, ""),
            // Known fields in another order.
            base.replace(
                r#""system":"s","tools":[{"name":"t","input_schema":{}}],"#,
                r#""tools":[{"name":"t","input_schema":{}}],"system":"s","#,
            ),
        ] {
            assert_eq!(hash(&same), Some(h), "{same}");
        }
        for other in [
            base.replace(r#""name":"t""#, r#""name":"u""#),
            base.replace(r#""system":"s""#, r#""system":"S""#),
            base.replace(r#""content":"hi""#, r#""content":"ho""#),
            base.replace("0.5", "0.7"),
            base.replace(r#""max_tokens":9"#, r#""max_tokens":10"#),
            base.replace(r#""edits":[]"#, r#""edits":[1]"#),
            base.replace(r#""context_management""#, r#""context_managemenT""#),
            base.replace(r#","temperature":0.5"#, ""),
        ] {
            assert_ne!(hash(&other), Some(h), "{other}");
        }
        // A body the scan is unsure of is not cached.
        let escaped = base.replace(r#""system""#, r#""syst\u0065m""#);
        assert_eq!(hash(&escaped), None);
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

    #[test]
    fn a_raw_control_character_in_any_key_is_refused_like_serde_does() {
        let body = "{\"model\":\"m\",\"max_tokens\":8,\"x\u{1}y\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        assert!(serde_json::from_str::<serde_json::Value>(body).is_err());
        assert!(parse_request(body.as_bytes()).is_err());
        if let Ok(req) = parse(body) {
            assert!(
                req.full().is_err(),
                "typed field by field past an invalid key"
            );
        }
    }
}
