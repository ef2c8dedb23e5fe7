//! Server-sent events and NDJSON, both directions.
//!
//! Parsing uses the `eventsource-stream` crate, driven by pushing bytes in as they arrive, so that
//! translators and the pass-through usage tap stay synchronous: `feed(bytes) -> events`.

mod ndjson;

use std::convert::Infallible;

use bytes::{BufMut, Bytes, BytesMut};
use eventsource_stream::{EventStream, EventStreamError};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

use crate::anthropic::StreamEvent;

pub use ndjson::NdjsonDecoder;

/// One parsed SSE event: its `event:` name (empty when absent) and its joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("the upstream stream is not valid UTF-8: {0}")]
    Utf8(#[from] std::string::FromUtf8Error),
    #[error("the upstream stream could not be parsed as server-sent events: {0}")]
    Parse(String),
}

type Chunk = Result<Bytes, Infallible>;

/// An incremental SSE parser: feed it bytes split anywhere (UTF-8 sequences included), get
/// back every event completed so far.
pub struct SseDecoder {
    tx: Option<mpsc::UnboundedSender<Chunk>>,
    events: EventStream<mpsc::UnboundedReceiver<Chunk>>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded();
        SseDecoder {
            tx: Some(tx),
            events: EventStream::new(rx),
        }
    }

    /// Push `chunk` and return the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(tx) = &self.tx {
            // The receiver lives as long as `self`, so the send cannot fail.
            let _ = tx.unbounded_send(Ok(Bytes::copy_from_slice(chunk)));
        }
        self.drain()
    }

    /// The upstream ended: return any event still pending.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, SseError> {
        self.tx = None;
        self.drain()
    }

    fn drain(&mut self) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        // The channel is always ready or empty, never waiting on I/O, so polling once
        // without a real waker is enough: `None` from `now_or_never` means "needs more bytes".
        while let Some(Some(item)) = self.events.next().now_or_never() {
            match item {
                Ok(event) => out.push(SseEvent {
                    event: event.event,
                    data: event.data,
                }),
                Err(EventStreamError::Utf8(err)) => return Err(SseError::Utf8(err)),
                Err(EventStreamError::Parser(err)) => return Err(SseError::Parse(err.to_string())),
                Err(EventStreamError::Transport(never)) => match never {},
            }
        }
        Ok(out)
    }
}

/// Sent in place of an event that could not be serialised: a valid `error` event whatever the
/// cause (the cause goes to the log, not into hand-built JSON).
const ENCODE_FAILED: &[u8] = b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Switchyard could not encode a stream event; see its log\"}}\n\n";

/// An Anthropic stream event as SSE bytes.
pub fn encode_event(event: &StreamEvent) -> Bytes {
    encode_events(std::slice::from_ref(event))
}

/// Anthropic stream events as SSE bytes (`event: NAME\ndata: JSON\n\n` each), serialised
/// straight into one buffer: no JSON string and no copy per event.
pub fn encode_events(events: &[StreamEvent]) -> Bytes {
    let mut out = BytesMut::with_capacity(events.len() * 128);
    for event in events {
        let start = out.len();
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(event.name().as_bytes());
        out.extend_from_slice(b"\ndata: ");
        match serde_json::to_writer((&mut out).writer(), event) {
            Ok(()) => out.extend_from_slice(b"\n\n"),
            // Our own types always serialise; keep the stream well-formed regardless.
            Err(err) => {
                tracing::error!(event = event.name(), error = %err, "could not encode a stream event");
                out.truncate(start);
                out.extend_from_slice(ENCODE_FAILED);
            }
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STREAM: &str = "event: message_start\ndata: {\"a\":1}\n\n: comment\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\nevent: content_block_delta\ndata: {\"text\":\"h\u{e9}llo \u{1F600} \u{4e16}\u{754c}\"}\n\n";

    fn parse_in_chunks(bytes: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        let mut last = 0;
        for &cut in cuts {
            out.extend(decoder.feed(&bytes[last..cut]).unwrap());
            last = cut;
        }
        out.extend(decoder.feed(&bytes[last..]).unwrap());
        out.extend(decoder.finish().unwrap());
        out
    }

    #[test]
    fn parses_events_and_skips_comments() {
        let events = parse_in_chunks(STREAM.as_bytes(), &[]);
        let names: Vec<_> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(names, ["message_start", "ping", "content_block_delta"]);
        assert_eq!(events[0].data, "{\"a\":1}");
        assert!(events[2].data.contains("\u{1F600}"));
    }

    #[test]
    fn an_event_is_only_returned_once_complete() {
        let mut decoder = SseDecoder::new();
        assert!(decoder.feed(b"event: ping\ndata: {}").unwrap().is_empty());
        let events = decoder.feed(b"\n\n").unwrap();
        assert_eq!(events.len(), 1);
    }

    #[test]
    fn round_trips_encoded_events() {
        let bytes = encode_event(&StreamEvent::Ping);
        let events = parse_in_chunks(&bytes, &[]);
        assert_eq!(
            events,
            vec![SseEvent {
                event: "ping".into(),
                data: r#"{"type":"ping"}"#.into()
            }]
        );
    }

    #[test]
    fn several_events_in_one_buffer_parse_back_in_order() {
        let events = [
            StreamEvent::ContentBlockDelta {
                index: 0,
                delta: crate::anthropic::Delta::TextDelta {
                    text: "line one\nline \"two\" \u{1F600}".into(),
                },
            },
            StreamEvent::ContentBlockStop { index: 0 },
            StreamEvent::MessageStop,
        ];
        let parsed = parse_in_chunks(&encode_events(&events), &[]);
        let names: Vec<_> = parsed.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            names,
            ["content_block_delta", "content_block_stop", "message_stop"]
        );
        let back: Vec<StreamEvent> = parsed
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        assert_eq!(back, events);
    }

    #[test]
    fn the_encode_failure_frame_is_a_valid_error_event() {
        let parsed = parse_in_chunks(ENCODE_FAILED, &[]);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].event, "error");
        let event: StreamEvent = serde_json::from_str(&parsed[0].data).unwrap();
        assert!(matches!(event, StreamEvent::Error { error } if error.kind == "api_error"));
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events(mut cuts in proptest::collection::vec(0..STREAM.len(), 0..12)) {
            cuts.sort_unstable();
            let whole = parse_in_chunks(STREAM.as_bytes(), &[]);
            prop_assert_eq!(parse_in_chunks(STREAM.as_bytes(), &cuts), whole);
        }
    }
}
