//! Relaying a stream to the client: each upstream chunk is forwarded as it arrives, pings
//! fill silences, an upstream failure becomes an Anthropic `error` event, and a client that
//! goes away cancels the upstream request.

use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::stream::Peekable;
use futures::{FutureExt, StreamExt};
use http::{HeaderValue, header};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep, sleep_until};

use super::send::{ByteStream, Decoder, UpstreamStream, encode_events};
use super::{PING_EVERY, Recorder};
use crate::anthropic::{ApiError, ErrorType, StreamEvent, Usage};
use crate::config::BackendConfig;
use crate::sse::encode_event;

/// Start relaying `stream` to the client; returns the response to send now.
///
/// The response body polls the upstream itself (no task and channel in between): each
/// upstream chunk reaches the client with one task wake-up fewer, and a client that goes away
/// drops the body, which drops the upstream request.
pub fn start(stream: UpstreamStream, recorder: Recorder, backend: &BackendConfig) -> Response {
    let relay = Relay::new(
        stream,
        recorder,
        Duration::from_secs(backend.timeout_idle_s),
        backend.id.clone(),
    );
    let body = Body::from_stream(futures::stream::unfold(relay, |mut relay| async move {
        relay
            .next()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), relay))
    }));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

enum End {
    Finished,
    Failed(ApiError),
    Cancelled,
}

struct Output {
    decoder: Decoder,
    /// Whether an error event was already sent to the client.
    sent_error: Option<ApiError>,
}

impl Output {
    /// Bytes for the client from one upstream chunk.
    fn chunk(&mut self, chunk: &Bytes) -> Bytes {
        match &mut self.decoder {
            Decoder::Passthrough(tap) => {
                tap.feed(chunk);
                chunk.clone()
            }
            Decoder::Translate(translator) => {
                let events = translator.feed(chunk);
                self.encode(&events)
            }
        }
    }

    fn encode(&mut self, events: &[StreamEvent]) -> Bytes {
        for event in events {
            if let StreamEvent::Error { error } = event {
                let kind = ErrorType::from_name(&error.kind).unwrap_or(ErrorType::ApiError);
                self.sent_error = Some(ApiError::new(kind, error.message.clone()));
            }
        }
        encode_events(events)
    }

    /// The upstream ended: whatever closes the stream properly.
    fn finish(&mut self, backend_id: &str) -> Bytes {
        match &mut self.decoder {
            Decoder::Passthrough(tap) => {
                if tap.stopped || tap.error.is_some() {
                    return Bytes::new();
                }
                let error = ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "backend {backend_id:?} ended the stream before the message was complete"
                    ),
                );
                self.error_bytes(error)
            }
            Decoder::Translate(translator) => {
                let events = translator.finish();
                self.encode(&events)
            }
        }
    }

    /// An `error` event, terminating any half-sent event first.
    fn error_bytes(&mut self, error: ApiError) -> Bytes {
        let mut out = BytesMut::new();
        if let Decoder::Passthrough(tap) = &self.decoder
            && !tap.at_boundary
        {
            out.extend_from_slice(b"\n\n");
        }
        out.extend_from_slice(&encode_event(&StreamEvent::Error {
            error: error.body(),
        }));
        self.sent_error = Some(error);
        out.freeze()
    }

    fn can_ping(&self) -> bool {
        match &self.decoder {
            Decoder::Passthrough(tap) => tap.started && tap.at_boundary,
            Decoder::Translate(_) => true,
        }
    }

    fn upstream_error(&self) -> Option<ApiError> {
        match &self.decoder {
            Decoder::Passthrough(tap) => tap.error.clone(),
            Decoder::Translate(_) => None,
        }
        .or_else(|| self.sent_error.clone())
    }

    fn usage(&self) -> Usage {
        match &self.decoder {
            Decoder::Passthrough(tap) => tap.usage,
            Decoder::Translate(translator) => translator.usage(),
        }
    }
}

/// The relay's state between two chunks for the client.
struct Relay {
    rest: Peekable<ByteStream>,
    out: Output,
    /// What the decoder made of the upstream's first chunk, not yet sent.
    first: Option<Bytes>,
    /// The next upstream chunk is due by this time: the first-byte deadline while the backend
    /// has not started, then `timeout_idle_s` after each chunk. Both timers are reset rather
    /// than recreated for every chunk.
    due: Pin<Box<Sleep>>,
    ping: Pin<Box<Sleep>>,
    idle: Duration,
    started: bool,
    backend_id: String,
    /// Taken when the request is recorded; still here on drop means the client went away.
    recorder: Option<Recorder>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Relay {
    fn new(stream: UpstreamStream, recorder: Recorder, idle: Duration, backend_id: String) -> Self {
        let UpstreamStream {
            first,
            rest,
            decoder,
            permit,
            first_byte_deadline,
        } = stream;
        Relay {
            rest: rest.peekable(),
            out: Output {
                decoder,
                sent_error: None,
            },
            first: Some(first),
            due: Box::pin(sleep_until(
                first_byte_deadline.unwrap_or_else(|| Instant::now() + idle),
            )),
            ping: Box::pin(sleep_until(Instant::now() + PING_EVERY)),
            idle,
            started: first_byte_deadline.is_none(),
            backend_id,
            recorder: Some(recorder),
            permit,
        }
    }

    /// The next bytes for the client; `None` once the stream is over.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.first.take().filter(|b| !b.is_empty()) {
            return Some(first);
        }
        loop {
            self.recorder.as_ref()?;
            tokio::select! {
                biased;
                next = self.rest.next() => match next {
                    Some(Ok(chunk)) => {
                        self.due.as_mut().reset(Instant::now() + self.idle);
                        self.started = true;
                        let bytes = self.chunk_and_ready_ones(&chunk);
                        if !bytes.is_empty() {
                            self.ping.as_mut().reset(Instant::now() + PING_EVERY);
                            return Some(bytes);
                        }
                    }
                    Some(Err(err)) => {
                        let error = ApiError::new(
                            ErrorType::ApiError,
                            format!("backend {:?} failed mid-stream: {err}", self.backend_id),
                        );
                        let bytes = self.out.error_bytes(error.clone());
                        self.finish(End::Failed(error));
                        return Some(bytes);
                    }
                    None => {
                        let tail = self.out.finish(&self.backend_id);
                        self.finish(End::Finished);
                        return (!tail.is_empty()).then_some(tail);
                    }
                },
                () = &mut self.due => {
                    let message = if self.started {
                        format!("backend {:?} sent nothing for {} s (timeout_idle_s)", self.backend_id, self.idle.as_secs())
                    } else {
                        format!("backend {:?} did not start answering in time (timeout_first_byte_s)", self.backend_id)
                    };
                    let error = ApiError::new(ErrorType::TimeoutError, message);
                    let bytes = self.out.error_bytes(error.clone());
                    self.finish(End::Failed(error));
                    return Some(bytes);
                }
                () = &mut self.ping => {
                    self.ping.as_mut().reset(Instant::now() + PING_EVERY);
                    if self.out.can_ping() {
                        return Some(encode_event(&StreamEvent::Ping));
                    }
                }
            }
        }
    }

    /// The client's bytes for `chunk` and for the chunks already received after it: one
    /// write per burst instead of one per event. (Peeked first: an error or the end stays
    /// for the next turn.)
    fn chunk_and_ready_ones(&mut self, chunk: &Bytes) -> Bytes {
        let bytes = self.out.chunk(chunk);
        let mut more = Vec::new();
        while matches!(
            Pin::new(&mut self.rest).peek().now_or_never(),
            Some(Some(Ok(_)))
        ) {
            if let Some(Some(Ok(chunk))) = self.rest.next().now_or_never() {
                more.push(self.out.chunk(&chunk));
            }
        }
        if more.is_empty() {
            return bytes;
        }
        let mut joined = BytesMut::from(&bytes[..]);
        more.iter().for_each(|b| joined.extend_from_slice(b));
        joined.freeze()
    }

    /// The stream is over (its last bytes are on their way): record it, free the slot.
    fn finish(&mut self, end: End) {
        self.permit = None;
        let Some(recorder) = self.recorder.take() else {
            return;
        };
        let usage = self.out.usage();
        match end {
            End::Cancelled => recorder.cancelled(200, usage),
            End::Failed(error) => recorder.failed(200, usage, &error),
            End::Finished => match self.out.upstream_error() {
                Some(error) => recorder.failed(200, usage, &error),
                None => recorder.ok(200, usage),
            },
        }
    }
}

impl Drop for Relay {
    /// The body was dropped before the stream ended: the client went away. Dropping `rest`
    /// closes the upstream connection, so the backend stops generating too.
    fn drop(&mut self) {
        self.finish(End::Cancelled);
    }
}
