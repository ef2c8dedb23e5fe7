//! Relaying a stream to the client: each upstream chunk is forwarded as it arrives, pings
//! fill silences, an upstream failure becomes an Anthropic `error` event, and a client that
//! goes away cancels the upstream request.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::stream::Peekable;
use futures::{FutureExt, StreamExt};
use http::{HeaderValue, header};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep, sleep_until};

use super::cache::Capture;
use super::send::{ByteStream, Decoder, UpstreamStream};
use super::{PING_EVERY, Recorder};
use crate::anthropic::{ApiError, ErrorType, StopReason, StreamEvent, Usage};
use crate::backends::anthropic::UsageTap;
use crate::capture::Trace;
use crate::config::BackendConfig;
use crate::sse::{encode_event, encode_events};

/// Start relaying `stream` to the client; returns the response to send now.
///
/// The response body polls the upstream itself (no task and channel in between): each
/// upstream chunk reaches the client with one task wake-up fewer, and a client that goes away
/// drops the body, which drops the upstream request.
///
/// With a `capture` (the profile caches answers), what the client gets is also kept on the
/// side (the chunks are shared, not copied; pings left out) and handed to the response cache
/// once the stream ended complete.
pub fn start(
    stream: UpstreamStream,
    recorder: Recorder,
    backend: &BackendConfig,
    capture: Option<Capture>,
) -> Response {
    let mut recorder = recorder;
    let trace = recorder.take_trace();
    let mut relay = Relay::new(
        stream,
        recorder,
        Duration::from_secs(backend.timeout_idle_s),
        backend.id.clone(),
    );
    relay.out.capture = capture;
    relay.out.trace = trace;
    if let Some(first) = relay.first.clone() {
        relay.out.keep(&first);
        if let Some(trace) = &mut relay.out.trace {
            trace.client_chunk(&first);
        }
    }
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

/// Upstream chunks gathered into one client write at most, so that a fast upstream cannot
/// hold its events back from the client indefinitely.
const MAX_GATHERED: usize = 64;

/// Scheduler turns given to the upstream connection's task to hand over its next frame
/// (measured: two, on tokio's multi-thread runtime, hyper 1, reqwest 0.12).
const HANDOVER_TURNS: u32 = 3;

enum End {
    Finished,
    Failed(ApiError),
    Cancelled,
}

struct Output {
    decoder: Decoder,
    /// Complete events from the upstream so far (translated streams count what they made).
    events: u64,
    /// Whether an error event was already sent to the client.
    sent_error: Option<ApiError>,
    /// What the client got so far, for the response cache; dropped on an error.
    capture: Option<Capture>,
    /// The request inspector's capture, lent by the recorder: upstream chunks and what the
    /// client got, as they pass.
    trace: Option<Box<Trace>>,
    /// A translated stream's stop reason and end (the pass-through's tap reads its own).
    stop_reason: Option<StopReason>,
    stopped: bool,
}

impl Output {
    /// Keep a copy of bytes sent to the client (past the cache's cap for one answer, none).
    fn keep(&mut self, bytes: &Bytes) {
        if let Some(capture) = &mut self.capture
            && !capture.keep(bytes)
        {
            self.capture = None;
        }
    }

    /// The tap over the Anthropic SSE the upstream sent (pass-through, Bedrock's frames).
    fn tap(&self) -> Option<&UsageTap> {
        match &self.decoder {
            Decoder::Passthrough(tap) => Some(tap),
            Decoder::EventStream(frames) => Some(&frames.tap),
            Decoder::Translate(_) => None,
        }
    }

    /// The stop reason of a stream that reached `message_stop`.
    fn completed(&self) -> Option<StopReason> {
        match self.tap() {
            Some(tap) => tap.stopped.then_some(tap.stop_reason).flatten(),
            None => self.stopped.then_some(self.stop_reason).flatten(),
        }
    }

    /// Bytes for the client from one upstream chunk.
    fn chunk(&mut self, chunk: &Bytes) -> Bytes {
        let bytes = self.relayed(chunk);
        self.keep(&bytes);
        if let Some(trace) = &mut self.trace {
            trace.upstream_chunk(chunk);
            trace.client_chunk(&bytes);
        }
        bytes
    }

    fn relayed(&mut self, chunk: &Bytes) -> Bytes {
        match &mut self.decoder {
            Decoder::Passthrough(_) | Decoder::EventStream(_) if self.sent_error.is_some() => {
                Bytes::new()
            }
            Decoder::EventStream(frames) => {
                let (sse, failed) = frames.feed(chunk);
                match failed {
                    // The events before the failure go out, then the error event.
                    Some(error) => {
                        let mut out = BytesMut::from(&sse[..]);
                        out.extend_from_slice(&self.error_bytes(error));
                        out.freeze()
                    }
                    None => Bytes::from(sse),
                }
            }
            Decoder::Passthrough(tap) => {
                tap.feed(chunk);
                match tap.unreadable.clone() {
                    // The chunk that broke the limit is not relayed: the event it belongs to
                    // is cut off by the error event instead.
                    Some(error) => self.error_bytes(error),
                    None => chunk.clone(),
                }
            }
            Decoder::Translate(translator) => {
                let events = translator.feed(chunk);
                self.events += events.len() as u64;
                self.encode(&events)
            }
        }
    }

    fn events(&self) -> u64 {
        self.tap().map_or(self.events, |tap| tap.events)
    }

    fn encode(&mut self, events: &[StreamEvent]) -> Bytes {
        for event in events {
            match event {
                StreamEvent::Error { error } => {
                    let kind = ErrorType::from_name(&error.kind).unwrap_or(ErrorType::ApiError);
                    self.sent_error = Some(ApiError::new(kind, error.message.clone()));
                    self.capture = None;
                }
                StreamEvent::MessageDelta { delta, .. } => self.stop_reason = delta.stop_reason,
                StreamEvent::MessageStop => self.stopped = true,
                _ => {}
            }
        }
        encode_events(events)
    }

    /// The upstream ended: whatever closes the stream properly.
    fn finish(&mut self, backend_id: &str) -> Bytes {
        let bytes = self.closing(backend_id);
        self.keep(&bytes);
        self.traced(&bytes);
        bytes
    }

    /// Bytes the gateway itself sends the client (pings, its own error and closing events).
    fn traced(&mut self, bytes: &Bytes) {
        if let Some(trace) = &mut self.trace {
            trace.client_chunk(bytes);
        }
    }

    fn closing(&mut self, backend_id: &str) -> Bytes {
        match &mut self.decoder {
            Decoder::Passthrough(tap) => {
                if tap.stopped || tap.error.is_some() || self.sent_error.is_some() {
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
            Decoder::EventStream(frames) => {
                let cut = frames.finish();
                let tap = &frames.tap;
                if tap.stopped || tap.error.is_some() || self.sent_error.is_some() {
                    return Bytes::new();
                }
                let error = cut.unwrap_or_else(|| {
                    ApiError::new(
                        ErrorType::ApiError,
                        format!(
                            "backend {backend_id:?} ended the stream before the message was complete"
                        ),
                    )
                });
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
        self.capture = None;
        out.freeze()
    }

    fn can_ping(&self) -> bool {
        match self.tap() {
            Some(tap) => tap.started && tap.at_boundary,
            None => true,
        }
    }

    fn upstream_error(&self) -> Option<ApiError> {
        self.tap()
            .and_then(|tap| tap.error.clone())
            .or_else(|| self.sent_error.clone())
    }

    fn usage(&self) -> Usage {
        match &self.decoder {
            Decoder::Passthrough(tap) => tap.usage,
            Decoder::EventStream(frames) => frames.tap.usage,
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
                events: 0,
                sent_error: None,
                capture: None,
                trace: None,
                stop_reason: None,
                stopped: false,
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
        // Sent as it is, with the response head: waiting for more would send the head alone.
        if let Some(first) = self.first.take().filter(|b| !b.is_empty()) {
            return Some(first);
        }
        loop {
            self.recorder.as_ref()?;
            // Timers first: an upstream trickling bytes that never complete an event keeps
            // `rest` always ready, and a data-first select never looked at them.
            tokio::select! {
                biased;
                () = &mut self.due => {
                    let message = if self.started {
                        format!("backend {:?} sent no complete event for {} s (timeout_idle_s)", self.backend_id, self.idle.as_secs())
                    } else {
                        format!("backend {:?} did not start answering in time (timeout_first_byte_s)", self.backend_id)
                    };
                    let error = ApiError::new(ErrorType::TimeoutError, message);
                    let bytes = self.out.error_bytes(error.clone());
                    self.out.traced(&bytes);
                    self.finish(End::Failed(error));
                    return Some(bytes);
                }
                () = &mut self.ping => {
                    self.ping.as_mut().reset(Instant::now() + PING_EVERY);
                    if self.out.can_ping() {
                        let ping = encode_event(&StreamEvent::Ping);
                        self.out.traced(&ping);
                        return Some(ping);
                    }
                }
                next = self.rest.next() => match next {
                    Some(Ok(chunk)) => {
                        let events = self.out.events();
                        self.started = true;
                        let bytes = self.out.chunk(&chunk);
                        let bytes =
                            with_ready_ones(&mut self.rest, bytes, |c| self.out.chunk(c)).await;
                        if self.out.events() != events {
                            self.due.as_mut().reset(Instant::now() + self.idle);
                        }
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
                        self.out.traced(&bytes);
                        self.finish(End::Failed(error));
                        return Some(bytes);
                    }
                    None => {
                        let tail = self.out.finish(&self.backend_id);
                        self.finish(End::Finished);
                        return (!tail.is_empty()).then_some(tail);
                    }
                },
            }
        }
    }

    /// The stream is over (its last bytes are on their way): record it, free the slot.
    fn finish(&mut self, end: End) {
        self.permit = None;
        let Some(mut recorder) = self.recorder.take() else {
            return;
        };
        recorder.restore_trace(self.out.trace.take());
        let usage = self.out.usage();
        match end {
            End::Cancelled => recorder.cancelled(200, usage),
            End::Failed(error) => recorder.failed(200, usage, &error),
            End::Finished => match self.out.upstream_error() {
                Some(error) => recorder.failed(200, usage, &error),
                None => {
                    // Complete and error-free: the cache keeps it if its stop reason allows.
                    let stop = self.out.completed();
                    if let Some(capture) = self.out.capture.take() {
                        capture.finish(usage, stop);
                    }
                    recorder.ok(200, usage);
                }
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

/// `first` (the client's bytes for one upstream chunk) followed by those `translate` makes
/// of the chunks already received after it: one write per burst instead of one per event.
/// (Peeked first: an error or the end stays in `rest` for the next turn.)
async fn with_ready_ones<S, E>(
    rest: &mut Peekable<S>,
    first: Bytes,
    mut translate: impl FnMut(&Bytes) -> Bytes,
) -> Bytes
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut joined: Option<BytesMut> = None;
    for _ in 0..MAX_GATHERED {
        if !next_has_arrived(rest).await {
            break;
        }
        if let Some(Some(Ok(chunk))) = rest.next().now_or_never() {
            let bytes = translate(&chunk);
            joined
                .get_or_insert_with(|| BytesMut::from(&first[..]))
                .extend_from_slice(&bytes);
        }
    }
    joined.map_or(first, BytesMut::freeze)
}

/// Whether the next upstream item is a chunk the upstream has already sent.
///
/// The upstream connection's task hands its body over one frame at a time: it decodes the
/// next only after this one is taken, and needs two scheduler turns to do it. So this gives
/// it up to [`HANDOVER_TURNS`] turns (re-queuing this task behind it) before answering no. A
/// burst the upstream wrote at once (a fast server, or any server under load) then costs the
/// client one write and one wake-up instead of one per event; when nothing more has come,
/// the wait is a few task polls, with no syscall and no timer.
async fn next_has_arrived<S, E>(rest: &mut Peekable<S>) -> bool
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut turns = 0;
    std::future::poll_fn(|cx| match Pin::new(&mut *rest).poll_peek(cx) {
        Poll::Ready(Some(Ok(_))) => Poll::Ready(true),
        Poll::Ready(_) => Poll::Ready(false),
        Poll::Pending if turns < HANDOVER_TURNS => {
            turns += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Poll::Pending => Poll::Ready(false),
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Context;

    /// Chunks that each become ready only after `delay` polls (waking itself meanwhile),
    /// like hyper's client body; `None` for `delay` means the upstream went silent.
    struct Handover {
        chunks: Vec<&'static str>,
        delay: Option<u32>,
        polls: u32,
    }

    impl futures::Stream for Handover {
        type Item = Result<Bytes, std::convert::Infallible>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            if self.chunks.is_empty() {
                return Poll::Ready(None);
            }
            match self.delay {
                Some(delay) if self.polls >= delay => {
                    self.polls = 0;
                    let chunk = self.chunks.remove(0);
                    Poll::Ready(Some(Ok(Bytes::from_static(chunk.as_bytes()))))
                }
                Some(_) => {
                    self.polls += 1;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
                None => Poll::Pending,
            }
        }
    }

    fn upper(chunk: &Bytes) -> Bytes {
        Bytes::from(chunk.to_ascii_uppercase())
    }

    #[tokio::test]
    async fn a_burst_handed_over_in_two_turns_is_one_write() {
        let mut rest = Handover {
            chunks: vec!["b", "c", "d"],
            delay: Some(2),
            polls: 0,
        }
        .peekable();
        let out = with_ready_ones(&mut rest, Bytes::from_static(b"A"), upper).await;
        assert_eq!(&out[..], b"ABCD");
        assert!(rest.next().await.is_none());
    }

    #[tokio::test]
    async fn a_silent_upstream_does_not_hold_back_what_arrived() {
        let mut rest = Handover {
            chunks: vec!["later"],
            delay: None,
            polls: 0,
        }
        .peekable();
        let out = with_ready_ones(&mut rest, Bytes::from_static(b"A"), upper).await;
        assert_eq!(&out[..], b"A");
    }

    #[tokio::test]
    async fn a_slow_handover_is_left_for_the_next_write() {
        let mut rest = Handover {
            chunks: vec!["b"],
            delay: Some(HANDOVER_TURNS + 1),
            polls: 0,
        }
        .peekable();
        let out = with_ready_ones(&mut rest, Bytes::from_static(b"A"), upper).await;
        assert_eq!(&out[..], b"A");
        let next = rest.next().await;
        assert_eq!(next.map(|r| r.ok()), Some(Some(Bytes::from_static(b"b"))));
    }
}
