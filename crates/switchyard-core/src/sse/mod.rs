//! Server-sent events and NDJSON, both directions.
//!
//! Parsing is pushed bytes as they arrive, so that translators and the pass-through usage tap
//! stay synchronous: `feed(bytes) -> events`. Every decoder resumes where it stopped and
//! refuses an event or line past [`MAX_EVENT_BYTES`]: upstreams are not trusted.

mod ndjson;

use bytes::{BufMut, Bytes, BytesMut};

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
    Utf8(#[from] std::str::Utf8Error),
    #[error(
        "the upstream sent a stream event larger than {} MiB; Switchyard stopped reading it",
        .0 >> 20
    )]
    TooLarge(usize),
}

/// The largest event (or NDJSON line) read from an upstream. Real events are a few KiB; a
/// line that never ends must not grow without limit.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// An incremental SSE parser (the WHATWG event-stream rules: `\n`, `\r\n` or `\r` line ends,
/// `:` comments, `event` and `data` fields, an event per blank line): feed it bytes split
/// anywhere, get back every event completed so far. Each byte is scanned once, and an event
/// past `max` bytes is an error (then nothing more is read). `eventsource-stream`, used before,
/// re-scanned its whole buffer for every chunk and had no bound.
///
/// The outcome does not depend on how the bytes were split: the limit applies to the same sum
/// (the line being read, plus the event's data and name so far) whether a line ends inside a
/// chunk or is still open at its end, and the events a chunk completed before an error are
/// returned, the error on the next call.
pub struct SseDecoder {
    /// Bytes of the line being read (no line end yet).
    line: Vec<u8>,
    event: String,
    data: String,
    /// The last chunk ended with `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
    at_start: bool,
    max: usize,
    failed: bool,
    /// An error met after events in the same chunk: those go out first, it on the next call.
    deferred: Option<SseError>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }

    pub fn with_limit(max: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            after_cr: false,
            at_start: true,
            max,
            failed: false,
            deferred: None,
        }
    }

    /// Bytes held for the event being read (its line, data and name): after `feed` returns,
    /// never more than the limit. The fuzz tests check it; nothing else needs it.
    pub fn buffered(&self) -> usize {
        self.line.len() + self.data.len() + self.event.len()
    }

    /// Push `chunk` and return the events it completed.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        let mut out = Vec::new();
        if self.failed {
            return Ok(out);
        }
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            chunk = chunk.strip_prefix(b"\n").unwrap_or(chunk);
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&chunk[..end]);
            if let Err(err) = self.end_line(&mut out) {
                return self.fail(err, out);
            }
            let crlf = chunk[end] == b'\r' && chunk.get(end + 1) == Some(&b'\n');
            if chunk[end] == b'\r' && end + 1 == chunk.len() {
                self.after_cr = true;
            }
            chunk = &chunk[end + if crlf { 2 } else { 1 }..];
        }
        self.line.extend_from_slice(chunk);
        if self.buffered() > self.max {
            return self.fail(SseError::TooLarge(self.max), out);
        }
        Ok(out)
    }

    /// Stop reading for good and let go of what is held. Events completed before the error
    /// are not lost: they are returned now, and the error on the next call.
    fn fail(&mut self, err: SseError, out: Vec<SseEvent>) -> Result<Vec<SseEvent>, SseError> {
        self.failed = true;
        self.line = Vec::new();
        self.data = String::new();
        self.event = String::new();
        if out.is_empty() {
            Err(err)
        } else {
            self.deferred = Some(err);
            Ok(out)
        }
    }

    /// The upstream ended: an event still missing its blank line counts (some servers end
    /// with `data: [DONE]\n`).
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, SseError> {
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        let mut out = Vec::new();
        if !self.failed {
            // Ending a line that is not blank completes no event, so an error here has
            // nothing to hold back.
            let ended = if self.line.is_empty() {
                Ok(())
            } else {
                self.end_line(&mut out)
            };
            if let Err(err) = ended.and_then(|()| self.end_line(&mut out)) {
                return self.fail(err, out);
            }
        }
        Ok(out)
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        // The sum `feed` checks for a line still open, now for the whole line: a line that
        // ends inside a chunk must not pass where the same line split across chunks fails.
        // (What the line adds to the data or name is less than the line, so it stays within.)
        if self.buffered() > self.max {
            return Err(SseError::TooLarge(self.max));
        }
        let bytes = std::mem::take(&mut self.line);
        let mut line = std::str::from_utf8(&bytes)?;
        if self.at_start {
            self.at_start = false;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            if !self.data.is_empty() {
                self.data.pop();
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
        } else if !line.starts_with(':') {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => value.clone_into(&mut self.event),
                "data" => {
                    self.data.push_str(value);
                    self.data.push('\n');
                }
                _ => {}
            }
        }
        self.line = bytes;
        self.line.clear();
        Ok(())
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

    #[test]
    fn all_line_ends_and_a_bom_parse_alike() {
        let lf = "event: a\ndata: 1\ndata: 2\n\n";
        for text in [
            lf.to_owned(),
            lf.replace('\n', "\r\n"),
            lf.replace('\n', "\r"),
            format!("\u{feff}{lf}"),
        ] {
            // Cut between every pair of bytes, `\r` | `\n` included.
            for cut in 0..=text.len() {
                let events = parse_in_chunks(text.as_bytes(), &[cut]);
                assert_eq!(
                    events,
                    vec![SseEvent {
                        event: "a".into(),
                        data: "1\n2".into()
                    }],
                    "{text:?} cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn an_event_that_never_ends_is_refused_past_the_limit() {
        let mut decoder = SseDecoder::with_limit(1024);
        assert!(decoder.feed(b"data: ").unwrap().is_empty());
        let mut refused = false;
        for _ in 0..100 {
            if decoder.feed(&[b'x'; 100]).is_err() {
                refused = true;
                break;
            }
        }
        assert!(refused, "a 10 KB line passed a 1 KB limit");
        // Nothing more is read or held after the error.
        assert!(decoder.feed(b"\n\ndata: {}\n\n").unwrap().is_empty());
        assert!(decoder.line.capacity() < 2048 && decoder.data.is_empty());
        // Many data lines of one event count together.
        let mut decoder = SseDecoder::with_limit(1024);
        let lines = "data: 0123456789\n".repeat(200);
        assert!(matches!(
            decoder.feed(lines.as_bytes()),
            Err(SseError::TooLarge(1024))
        ));
    }

    /// Found by the fuzz tests (tests/fuzz.rs): the outcome used to depend on the chunking.
    #[test]
    fn the_chunking_changes_neither_the_events_nor_the_limit() {
        // Events completed before an error in the same chunk were dropped with it.
        let bytes = b"data: 1\n\ndata: \xff\n\n";
        let mut decoder = SseDecoder::new();
        let events = decoder.feed(bytes).unwrap();
        assert_eq!(events.len(), 1, "the event before the bad line");
        assert!(matches!(decoder.feed(b""), Err(SseError::Utf8(_))));
        assert!(decoder.finish().unwrap().is_empty());
        // A line over the limit passed when it ended inside one chunk (only data was counted,
        // without its field name), and failed when split.
        let line = format!("data:{}\n\n", "x".repeat(30));
        for cut in [0, 10, line.len()] {
            let mut decoder = SseDecoder::with_limit(32);
            let first = decoder.feed(&line.as_bytes()[..cut]);
            let second = decoder.feed(&line.as_bytes()[cut..]);
            let finish = decoder.finish();
            assert!(
                first.is_err() || second.is_err() || finish.is_err(),
                "a 35-byte line passed a 32-byte limit, cut at {cut}"
            );
        }
        // So did an event name (not counted at all).
        let mut decoder = SseDecoder::with_limit(32);
        let name = format!("event: {}\ndata: 1\n\n", "n".repeat(40));
        assert!(decoder.feed(name.as_bytes()).is_err());
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let mut decoder = SseDecoder::new();
        assert!(matches!(
            decoder.feed(b"data: \xff\xfe\n\n"),
            Err(SseError::Utf8(_))
        ));
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
