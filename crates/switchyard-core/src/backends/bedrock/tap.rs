//! Bedrock's streaming answer as the relay reads it: event-stream frames in, the Anthropic SSE
//! bytes for the client out, usage and the stream's state read on the side by the same tap
//! the pass-through uses (the SSE is the model's own events, so it reads the same).

use crate::anthropic::ApiError;
use crate::backends::anthropic::UsageTap;

use super::eventstream::{EventStreamDecoder, EventStreamError};

/// Frames → SSE, with a [`UsageTap`] over the SSE.
pub struct BedrockTap {
    frames: EventStreamDecoder,
    /// Usage, start, stop reason, events: as for a pass-through stream.
    pub tap: UsageTap,
}

impl Default for BedrockTap {
    fn default() -> Self {
        Self::new()
    }
}

impl BedrockTap {
    pub fn new() -> Self {
        BedrockTap {
            frames: EventStreamDecoder::new(),
            tap: UsageTap::new(),
        }
    }

    /// The SSE bytes the next upstream bytes complete, and the error that ended the stream
    /// if it ended here (an exception frame, a broken frame): the events before it come
    /// first, as the stream had them.
    pub fn feed(&mut self, chunk: &[u8]) -> (Vec<u8>, Option<ApiError>) {
        let sse = match self.frames.feed_sse(chunk) {
            Ok(sse) => sse,
            Err(err) => return (Vec::new(), Some(err.to_api_error())),
        };
        // The decoder hands over the events before an error and keeps the error for its next
        // call: asking at once lets the relay end the stream with this chunk.
        let error = self.frames.feed(&[]).err().map(|e| e.to_api_error());
        self.tap.feed(&sse);
        (sse, error)
    }

    /// The upstream ended: an error if it stopped inside a frame.
    pub fn finish(&mut self) -> Option<ApiError> {
        self.frames
            .finish()
            .err()
            .map(|err: EventStreamError| err.to_api_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anthropic::{ErrorType, StopReason};
    use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
    use base64::Engine as _;

    fn frame(headers: &[(&'static str, &'static str)], payload: &[u8]) -> Vec<u8> {
        let mut message = Message::new(payload.to_vec());
        for (name, value) in headers {
            message = message.add_header(Header::new(*name, HeaderValue::String((*value).into())));
        }
        let mut out = Vec::new();
        aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
        out
    }

    fn chunk(event: &str) -> Vec<u8> {
        let payload = serde_json::json!({
            "bytes": base64::engine::general_purpose::STANDARD.encode(event),
        });
        frame(
            &[(":event-type", "chunk"), (":message-type", "event")],
            payload.to_string().as_bytes(),
        )
    }

    const START: &str = r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1,"cache_read_input_tokens":5}}}"#;
    const DELTA: &str = r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}"#;
    const STOP: &str = r#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":9}}"#;

    #[test]
    fn the_tap_reads_usage_and_the_end_from_the_sse_it_makes() {
        let stream: Vec<u8> = [START, DELTA, STOP].iter().flat_map(|e| chunk(e)).collect();
        let mut tap = BedrockTap::new();
        let mut out = Vec::new();
        // One byte at a time: the worst chunking there is.
        for byte in &stream {
            let (sse, error) = tap.feed(std::slice::from_ref(byte));
            assert!(error.is_none());
            out.extend(sse);
        }
        assert!(tap.finish().is_none());
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("event: message_start\ndata: {"), "{text}");
        assert!(text.ends_with(&format!("event: message_stop\ndata: {STOP}\n\n")));
        assert!(tap.tap.started && tap.tap.stopped);
        assert_eq!(tap.tap.stop_reason, Some(StopReason::ToolUse));
        assert_eq!(
            (
                tap.tap.usage.input_tokens,
                tap.tap.usage.output_tokens,
                tap.tap.usage.cache_read_input_tokens
            ),
            (12, 9, 5)
        );
        assert_eq!(tap.tap.events, 3);
    }

    #[test]
    fn an_exception_ends_the_stream_with_the_chunk_that_carries_it() {
        let mut stream = chunk(START);
        stream.extend(frame(
            &[
                (":exception-type", "throttlingException"),
                (":message-type", "exception"),
            ],
            br#"{"message":"Too many tokens, please wait before trying again."}"#,
        ));
        let mut tap = BedrockTap::new();
        let (sse, error) = tap.feed(&stream);
        assert!(
            String::from_utf8(sse)
                .unwrap()
                .starts_with("event: message_start")
        );
        let error = error.unwrap();
        assert_eq!(error.kind, ErrorType::RateLimitError);
        assert_eq!(error.status(), 429);
        // A stream cut inside a frame is an error too.
        let mut cut = BedrockTap::new();
        let whole = chunk(START);
        let (_, none) = cut.feed(&whole[..whole.len() - 1]);
        assert!(none.is_none());
        assert!(cut.finish().is_some());
    }
}
