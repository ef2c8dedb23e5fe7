//! Bedrock's streaming answer (`InvokeModelWithResponseStream`) → Anthropic SSE.
//!
//! The answer is an AWS event stream: binary frames (total length, headers length, prelude
//! CRC, headers, payload, message CRC). Each `chunk` event's JSON payload holds
//! `{"bytes": "<base64>"}`, and those bytes are one Anthropic stream event exactly as the model
//! wrote it, which is passed on byte for byte as `event: <type>` / `data: <json>`. Exceptions
//! (`throttlingException`, `modelStreamErrorException`...) become a typed error.
//!
//! Framing and CRCs are `aws-smithy-eventstream`'s (and `crc32fast`'s for the early prelude
//! check); this module buffers partial frames, bounds them, and reads the payloads. Like
//! `crate::sse`, the outcome never depends on how the bytes were chunked: the events before
//! an error are returned, the error on the next call.

use base64::Engine as _;
use bytes::{Buf, Bytes, BytesMut};
use serde::Deserialize;

use super::errors::{BedrockError, BedrockErrorKind};
use crate::anthropic::{ApiError, ErrorType};

/// The largest frame accepted. AWS caps event-stream messages at 16 MiB; a length past that is
/// a broken stream, and waiting for it would hold that much memory.
pub const MAX_FRAME: usize = 16 << 20;

/// Total length, headers length, prelude CRC.
const PRELUDE_LEN: usize = 12;
/// A prelude and a message CRC, with no headers and no payload.
const MIN_FRAME: usize = PRELUDE_LEN + 4;

/// One Anthropic stream event out of a `chunk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnthropicEvent {
    /// The event's `type` (`message_start`, `content_block_delta`...).
    pub event_type: String,
    /// The event's JSON as the model wrote it.
    pub data: Bytes,
}

impl AnthropicEvent {
    /// Appends `event: <type>\ndata: <json>\n\n`. JSON holds a line break only as whitespace
    /// between tokens; should one occur, each line gets its own `data:` field, which an SSE
    /// reader joins back with `\n` (the same JSON).
    pub fn write_sse(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(self.event_type.as_bytes());
        out.push(b'\n');
        let data: &[u8] = &self.data;
        if memchr::memchr2(b'\n', b'\r', data).is_none() {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(data);
            out.push(b'\n');
        } else {
            for line in data.split(|b| *b == b'\n' || *b == b'\r') {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        out.push(b'\n');
    }
}

/// The SSE text of `events`, in order.
pub fn to_sse(events: &[AnthropicEvent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.iter().map(|e| e.data.len() + 32).sum());
    for event in events {
        event.write_sse(&mut out);
    }
    out
}

/// Why the stream cannot be read further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventStreamError {
    #[error("an event-stream frame of {len} bytes is over the {max}-byte limit")]
    FrameTooLarge { len: usize, max: usize },
    #[error("a malformed event-stream frame: {0}")]
    Frame(String),
    #[error("an unreadable chunk event: {0}")]
    Chunk(String),
    #[error("Bedrock reported {}: {}", exception_name(.0), .0.message)]
    Exception(BedrockError),
    #[error("the stream ended inside a frame ({0} bytes unread)")]
    Truncated(usize),
}

fn exception_name(error: &BedrockError) -> String {
    match &error.kind {
        Some(BedrockErrorKind::Authentication(name) | BedrockErrorKind::Other(name)) => {
            name.clone()
        }
        Some(kind) => format!("{kind:?}"),
        None => "an error".to_owned(),
    }
}

impl EventStreamError {
    /// The Anthropic error a client gets for this (as an SSE `error` event mid-stream).
    pub fn to_api_error(&self) -> ApiError {
        match self {
            EventStreamError::Exception(error) => error.to_api_error(),
            other => ApiError::new(
                ErrorType::ApiError,
                format!("Bedrock's stream could not be read: {other}"),
            ),
        }
    }
}

/// `{"bytes": "<base64>"}`; Bedrock also pads with `"p"`, which is not read.
#[derive(Deserialize)]
struct ChunkWire {
    bytes: String,
}

/// The one member of an Anthropic event needed to name it.
#[derive(Deserialize)]
struct EventHead {
    #[serde(rename = "type")]
    kind: String,
}

/// Push-driven decoder: bytes in, in any chunking; complete events out.
#[derive(Debug)]
pub struct EventStreamDecoder {
    buffer: BytesMut,
    max_frame: usize,
    /// The first error, kept: once broken, a stream stays broken.
    failed: Option<EventStreamError>,
}

impl Default for EventStreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::with_limit(MAX_FRAME)
    }

    /// A decoder refusing frames over `max_frame` bytes.
    pub fn with_limit(max_frame: usize) -> Self {
        EventStreamDecoder {
            buffer: BytesMut::new(),
            max_frame,
            failed: None,
        }
    }

    /// Bytes held for a frame not complete yet.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Push the next bytes; returns the events they complete.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<AnthropicEvent>, EventStreamError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        loop {
            match self.next_frame() {
                Ok(Some(frame)) => match read_frame(&frame) {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => {}
                    Err(err) => return self.fail(events, err),
                },
                Ok(None) => return Ok(events),
                Err(err) => return self.fail(events, err),
            }
        }
    }

    /// [`Self::feed`], as SSE bytes.
    pub fn feed_sse(&mut self, chunk: &[u8]) -> Result<Vec<u8>, EventStreamError> {
        self.feed(chunk).map(|events| to_sse(&events))
    }

    /// The stream ended: an error if it broke, or if it stopped inside a frame.
    pub fn finish(&mut self) -> Result<(), EventStreamError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if !self.buffer.is_empty() {
            let err = EventStreamError::Truncated(self.buffer.len());
            self.failed = Some(err.clone());
            return Err(err);
        }
        Ok(())
    }

    fn fail(
        &mut self,
        events: Vec<AnthropicEvent>,
        err: EventStreamError,
    ) -> Result<Vec<AnthropicEvent>, EventStreamError> {
        self.buffer.clear();
        self.failed = Some(err.clone());
        if events.is_empty() {
            Err(err)
        } else {
            Ok(events)
        }
    }

    /// The next complete frame, checked as far as its prelude, taken off the buffer.
    fn next_frame(&mut self) -> Result<Option<Bytes>, EventStreamError> {
        let Some(length) = self.buffer.get(..4) else {
            return Ok(None);
        };
        let total = usize::try_from(u32::from_be_bytes([
            length[0], length[1], length[2], length[3],
        ]))
        .unwrap_or(usize::MAX);
        if total > self.max_frame {
            return Err(EventStreamError::FrameTooLarge {
                len: total,
                max: self.max_frame,
            });
        }
        if total < MIN_FRAME {
            return Err(EventStreamError::Frame(format!(
                "a frame length of {total} bytes"
            )));
        }
        // A garbled length is caught here, not after waiting for that many bytes.
        if let Some(prelude) = self.buffer.get(..PRELUDE_LEN) {
            let expected = crc32fast::hash(&prelude[..8]);
            let sent = u32::from_be_bytes([prelude[8], prelude[9], prelude[10], prelude[11]]);
            if expected != sent {
                return Err(EventStreamError::Frame(
                    "the prelude checksum does not match".to_owned(),
                ));
            }
        }
        if self.buffer.len() < total {
            return Ok(None);
        }
        Ok(Some(self.buffer.split_to(total).freeze()))
    }
}

/// A header's value when it is a string.
fn string_header<'m>(
    message: &'m aws_smithy_types::event_stream::Message,
    name: &str,
) -> Option<&'m str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| h.value().as_string().ok())
        .map(|s| s.as_str())
}

/// One whole frame → the Anthropic event it carries (`None` for events of other kinds).
fn read_frame(frame: &Bytes) -> Result<Option<AnthropicEvent>, EventStreamError> {
    let mut bytes = frame.clone();
    let message = aws_smithy_eventstream::frame::read_message_from(&mut bytes)
        .map_err(|e| EventStreamError::Frame(e.to_string()))?;
    if bytes.has_remaining() {
        return Err(EventStreamError::Frame(
            "bytes left over after the message".to_owned(),
        ));
    }
    match string_header(&message, ":message-type") {
        Some("event") => {}
        Some("exception") => {
            let name = string_header(&message, ":exception-type");
            return Err(EventStreamError::Exception(BedrockError::from_payload(
                name,
                message.payload(),
            )));
        }
        Some("error") => {
            let code = string_header(&message, ":error-code").unwrap_or("error");
            let text = string_header(&message, ":error-message").unwrap_or_default();
            return Err(EventStreamError::Exception(BedrockError {
                status: None,
                kind: Some(BedrockErrorKind::from_name(code)),
                message: text.to_owned(),
                original_status: None,
                original_message: None,
            }));
        }
        other => {
            return Err(EventStreamError::Frame(format!(
                "message type {:?}",
                other.unwrap_or("(none)")
            )));
        }
    }
    // Event kinds other than `chunk` carry no Anthropic event; a newer Bedrock may add some.
    if string_header(&message, ":event-type") != Some("chunk") {
        return Ok(None);
    }
    let chunk: ChunkWire = serde_json::from_slice(message.payload())
        .map_err(|e| EventStreamError::Chunk(format!("payload: {e}")))?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(chunk.bytes.as_bytes())
        .map_err(|e| EventStreamError::Chunk(format!("bytes: {e}")))?;
    let head: EventHead = serde_json::from_slice(&data)
        .map_err(|e| EventStreamError::Chunk(format!("event: {e}")))?;
    // The type becomes an SSE field: it must not be able to end its line or start another.
    let nameable = !head.kind.is_empty()
        && head
            .kind
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !nameable {
        return Err(EventStreamError::Chunk(format!(
            "event type {:?}",
            head.kind.chars().take(40).collect::<String>()
        )));
    }
    Ok(Some(AnthropicEvent {
        event_type: head.kind,
        data: Bytes::from(data),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
    use proptest::prelude::*;

    fn frame(headers: &[(&'static str, &'static str)], payload: &[u8]) -> Vec<u8> {
        let mut message = Message::new(payload.to_vec());
        for (name, value) in headers {
            message = message.add_header(Header::new(*name, HeaderValue::String((*value).into())));
        }
        let mut out = Vec::new();
        aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
        out
    }

    fn chunk(event_json: &str) -> Vec<u8> {
        let payload = serde_json::json!({
            "bytes": base64::engine::general_purpose::STANDARD.encode(event_json),
            "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        });
        frame(
            &[
                (":event-type", "chunk"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.to_string().as_bytes(),
        )
    }

    const EVENTS: &[&str] = &[
        r#"{"type":"message_start","message":{"id":"msg_bdrk_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Grüße, \"world\" \u2014 ok"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}"#,
        r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":7,"invocationLatency":512,"firstByteLatency":204}}"#,
    ];

    fn sample_stream() -> Vec<u8> {
        let mut stream: Vec<u8> = EVENTS.iter().flat_map(|e| chunk(e)).collect();
        // An event kind that carries no Anthropic event is passed over.
        stream.extend(frame(
            &[(":event-type", "metadata"), (":message-type", "event")],
            b"{}",
        ));
        stream
    }

    fn expected_sse() -> Vec<u8> {
        let mut out = Vec::new();
        for event in EVENTS {
            let head: serde_json::Value = serde_json::from_str(event).unwrap();
            out.extend_from_slice(
                format!(
                    "event: {}\ndata: {event}\n\n",
                    head["type"].as_str().unwrap()
                )
                .as_bytes(),
            );
        }
        out
    }

    /// Output and outcome of feeding `stream` in pieces of the given sizes.
    fn run(stream: &[u8], sizes: &[usize]) -> (Vec<u8>, Result<(), EventStreamError>) {
        let mut decoder = EventStreamDecoder::new();
        let mut out = Vec::new();
        let mut rest = stream;
        let mut sizes = sizes.iter().cycle();
        while !rest.is_empty() {
            let n = sizes
                .next()
                .copied()
                .unwrap_or(rest.len())
                .clamp(1, rest.len());
            let (piece, tail) = rest.split_at(n);
            rest = tail;
            match decoder.feed_sse(piece) {
                Ok(bytes) => out.extend(bytes),
                Err(err) => return (out, Err(err)),
            }
        }
        (out, decoder.finish())
    }

    #[test]
    fn chunks_become_byte_faithful_sse() {
        let (out, end) = run(&sample_stream(), &[usize::MAX]);
        assert_eq!(end, Ok(()));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected_sse()).unwrap()
        );
    }

    #[test]
    fn every_split_point_gives_the_same_output() {
        let stream = sample_stream();
        let whole = run(&stream, &[usize::MAX]);
        for at in 1..stream.len() {
            let mut decoder = EventStreamDecoder::new();
            let mut out = decoder.feed_sse(&stream[..at]).unwrap();
            out.extend(decoder.feed_sse(&stream[at..]).unwrap());
            assert_eq!(decoder.finish(), Ok(()), "split at {at}");
            assert_eq!(out, whole.0, "split at {at}");
        }
    }

    proptest! {
        #[test]
        fn random_chunking_gives_the_same_output(
            sizes in prop::collection::vec(1usize..200, 1..40),
            throttled in any::<bool>(),
        ) {
            let mut stream = sample_stream();
            if throttled {
                stream.extend(frame(
                    &[(":exception-type", "throttlingException"), (":message-type", "exception")],
                    br#"{"message":"Too many tokens, please wait before trying again."}"#,
                ));
                stream.extend(chunk(EVENTS[0]));
            }
            let whole = run(&stream, &[usize::MAX]);
            let pieces = run(&stream, &sizes);
            prop_assert_eq!(&pieces, &whole);
            prop_assert_eq!(pieces.1.is_err(), throttled);
            prop_assert_eq!(pieces.0, expected_sse());
        }
    }

    #[test]
    fn exceptions_are_typed_errors_after_the_events_before_them() {
        let mut stream = chunk(EVENTS[0]);
        stream.extend(frame(
            &[
                (":exception-type", "throttlingException"),
                (":content-type", "application/json"),
                (":message-type", "exception"),
            ],
            br#"{"message":"Too many tokens, please wait before trying again."}"#,
        ));
        let mut decoder = EventStreamDecoder::new();
        let events = decoder.feed(&stream).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, "message_start");
        let err = decoder.feed(b"").unwrap_err();
        let EventStreamError::Exception(bedrock) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(bedrock.kind, Some(BedrockErrorKind::Throttling));
        let api = err.to_api_error();
        assert_eq!(api.kind, ErrorType::RateLimitError);
        assert_eq!(
            api.message,
            "Too many tokens, please wait before trying again."
        );
        // Broken stays broken.
        assert_eq!(decoder.feed(&chunk(EVENTS[1])), Err(err.clone()));
        assert_eq!(decoder.finish(), Err(err));
    }

    #[test]
    fn each_exception_kind_maps() {
        let cases = [
            ("validationException", ErrorType::InvalidRequestError),
            ("internalServerException", ErrorType::ApiError),
            ("serviceUnavailableException", ErrorType::OverloadedError),
            ("modelTimeoutException", ErrorType::TimeoutError),
        ];
        for (name, kind) in cases {
            let stream = frame(
                &[(":exception-type", name), (":message-type", "exception")],
                br#"{"message":"m"}"#,
            );
            let err = EventStreamDecoder::new().feed(&stream).unwrap_err();
            assert_eq!(err.to_api_error().kind, kind, "{name}");
        }
        let stream = frame(
            &[
                (":exception-type", "modelStreamErrorException"),
                (":message-type", "exception"),
            ],
            br#"{"message":"Model stream error","originalStatusCode":529,"originalMessage":"Overloaded"}"#,
        );
        let err = EventStreamDecoder::new().feed(&stream).unwrap_err();
        assert_eq!(err.to_api_error().kind, ErrorType::OverloadedError);
        assert!(err.to_string().contains("ModelStreamError"), "{err}");
    }

    #[test]
    fn protocol_errors_are_typed_too() {
        let stream = frame(
            &[
                (":message-type", "error"),
                (":error-code", "InternalFailure"),
                (":error-message", "stream broke"),
            ],
            b"",
        );
        let err = EventStreamDecoder::new().feed(&stream).unwrap_err();
        let EventStreamError::Exception(bedrock) = &err else {
            panic!("{err:?}");
        };
        assert_eq!(
            bedrock.kind,
            Some(BedrockErrorKind::Other("InternalFailure".to_owned()))
        );
        assert_eq!(err.to_api_error().message, "stream broke");
    }

    #[test]
    fn a_corrupted_frame_is_refused() {
        let good = chunk(EVENTS[1]);
        let mut bad_payload = good.clone();
        let at = bad_payload.len() - 10;
        bad_payload[at] ^= 1;
        assert!(matches!(
            EventStreamDecoder::new().feed(&bad_payload),
            Err(EventStreamError::Frame(_))
        ));
        // A garbled length fails at once instead of being waited for.
        let mut bad_prelude = good.clone();
        bad_prelude[2] ^= 0x10;
        let mut decoder = EventStreamDecoder::new();
        assert!(matches!(
            decoder.feed(&bad_prelude[..PRELUDE_LEN]),
            Err(EventStreamError::Frame(_))
        ));
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_from_its_length() {
        let mut decoder = EventStreamDecoder::new();
        let too_long = u32::try_from(MAX_FRAME + 1).unwrap().to_be_bytes();
        assert_eq!(
            decoder.feed(&too_long),
            Err(EventStreamError::FrameTooLarge {
                len: MAX_FRAME + 1,
                max: MAX_FRAME
            })
        );
        assert!(matches!(
            EventStreamDecoder::new().feed(&[0, 0, 0, 15]),
            Err(EventStreamError::Frame(_))
        ));
        let small = chunk(EVENTS[0]);
        let mut limited = EventStreamDecoder::with_limit(small.len() - 1);
        assert!(matches!(
            limited.feed(&small),
            Err(EventStreamError::FrameTooLarge { .. })
        ));
        let mut exact = EventStreamDecoder::with_limit(small.len());
        assert_eq!(exact.feed(&small).unwrap().len(), 1);
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_truncated() {
        let stream = chunk(EVENTS[0]);
        let mut decoder = EventStreamDecoder::new();
        assert!(
            decoder
                .feed(&stream[..stream.len() - 3])
                .unwrap()
                .is_empty()
        );
        assert_eq!(decoder.buffered(), stream.len() - 3);
        assert_eq!(
            decoder.finish(),
            Err(EventStreamError::Truncated(stream.len() - 3))
        );
    }

    #[test]
    fn chunks_that_are_not_anthropic_events_are_refused() {
        let not_base64 = frame(
            &[(":event-type", "chunk"), (":message-type", "event")],
            br#"{"bytes":"***"}"#,
        );
        assert!(matches!(
            EventStreamDecoder::new().feed(&not_base64),
            Err(EventStreamError::Chunk(_))
        ));
        let no_type = chunk(r#"{"index":0}"#);
        assert!(matches!(
            EventStreamDecoder::new().feed(&no_type),
            Err(EventStreamError::Chunk(_))
        ));
        // A type that would end the SSE line and start another field.
        let injected = chunk(r#"{"type":"ping\ndata: x"}"#);
        assert!(matches!(
            EventStreamDecoder::new().feed(&injected),
            Err(EventStreamError::Chunk(_))
        ));
        let no_message_type = frame(&[(":event-type", "chunk")], b"{}");
        assert!(matches!(
            EventStreamDecoder::new().feed(&no_message_type),
            Err(EventStreamError::Frame(_))
        ));
    }

    #[test]
    fn line_breaks_in_event_json_stay_within_data_fields() {
        let event = AnthropicEvent {
            event_type: "ping".to_owned(),
            data: Bytes::from_static(b"{\"type\":\n\"ping\"}"),
        };
        assert_eq!(
            to_sse(&[event]),
            b"event: ping\ndata: {\"type\":\ndata: \"ping\"}\n\n".to_vec()
        );
    }
}
