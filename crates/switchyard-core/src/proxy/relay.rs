//! Relaying a stream to the client: each upstream chunk is forwarded as it arrives, pings
//! fill silences, an upstream failure becomes an Anthropic `error` event, and a client that
//! goes away cancels the upstream request.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::{FutureExt, StreamExt};
use http::{HeaderValue, header};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::send::{Decoder, UpstreamStream, encode_events};
use super::{PING_EVERY, Recorder};
use crate::anthropic::{ApiError, ErrorType, StreamEvent, Usage};
use crate::config::BackendConfig;
use crate::sse::encode_event;

/// Start relaying `stream` to the client; returns the response to send now.
pub fn start(stream: UpstreamStream, recorder: Recorder, backend: &BackendConfig) -> Response {
    // A small buffer keeps back-pressure: a slow client slows the upstream read.
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let idle = Duration::from_secs(backend.timeout_idle_s);
    let backend_id = backend.id.clone();
    tokio::spawn(relay(stream, recorder, tx, idle, backend_id));
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), rx))
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

async fn relay(
    stream: UpstreamStream,
    recorder: Recorder,
    tx: mpsc::Sender<Bytes>,
    idle: Duration,
    backend_id: String,
) {
    let UpstreamStream {
        first,
        rest,
        decoder,
        permit,
        first_byte_deadline,
    } = stream;
    let mut rest = rest.peekable();
    let mut out = Output {
        decoder,
        sent_error: None,
    };
    let mut end = End::Finished;
    // The decoder already read the first chunk (to catch an early error event).
    let first_out = first;
    // The next upstream chunk is due by this time: the first-byte deadline while the backend
    // has not started, then `timeout_idle_s` after each chunk.
    // Two timers, reset rather than recreated for every chunk.
    let due = sleep_until(first_byte_deadline.unwrap_or_else(|| Instant::now() + idle));
    let ping = sleep_until(Instant::now() + PING_EVERY);
    tokio::pin!(due, ping);
    let mut started = first_byte_deadline.is_none();
    if !first_out.is_empty() && tx.send(first_out).await.is_err() {
        end = End::Cancelled;
    }
    while matches!(end, End::Finished) {
        tokio::select! {
            biased;
            () = tx.closed() => { end = End::Cancelled; }
            next = rest.next() => {
                let bytes = match next {
                    Some(Ok(chunk)) => {
                        due.as_mut().reset(Instant::now() + idle);
                        started = true;
                        let mut bytes = out.chunk(&chunk);
                        // Chunks that are already here go out in the same write: one wake-up
                        // of the response task per burst instead of one per event.
                        let mut more = Vec::new();
                        // (Peeked first: an error or the end stays for the next turn.)
                        while matches!(std::pin::Pin::new(&mut rest).peek().now_or_never(), Some(Some(Ok(_)))) {
                            if let Some(Some(Ok(chunk))) = rest.next().now_or_never() {
                                more.push(out.chunk(&chunk));
                            }
                        }
                        if !more.is_empty() {
                            let mut joined = BytesMut::from(&bytes[..]);
                            more.iter().for_each(|b| joined.extend_from_slice(b));
                            bytes = joined.freeze();
                        }
                        bytes
                    }
                    Some(Err(err)) => {
                        let error = ApiError::new(ErrorType::ApiError, format!("backend {backend_id:?} failed mid-stream: {err}"));
                        end = End::Failed(error.clone());
                        out.error_bytes(error)
                    }
                    None => {
                        let tail = out.finish(&backend_id);
                        if tx.send(tail).await.is_err() {
                            end = End::Cancelled;
                        }
                        break;
                    }
                };
                if !bytes.is_empty() {
                    if tx.send(bytes).await.is_err() {
                        end = End::Cancelled;
                    }
                    ping.as_mut().reset(Instant::now() + PING_EVERY);
                }
            }
            () = &mut due => {
                let message = if started {
                    format!("backend {backend_id:?} sent nothing for {} s (timeout_idle_s)", idle.as_secs())
                } else {
                    format!("backend {backend_id:?} did not start answering in time (timeout_first_byte_s)")
                };
                let error = ApiError::new(ErrorType::TimeoutError, message);
                end = End::Failed(error.clone());
                let bytes = out.error_bytes(error);
                if tx.send(bytes).await.is_err() {
                    end = End::Cancelled;
                }
            }
            () = &mut ping => {
                if out.can_ping() && tx.send(encode_event(&StreamEvent::Ping)).await.is_err() {
                    end = End::Cancelled;
                }
                ping.as_mut().reset(Instant::now() + PING_EVERY);
            }
        }
    }
    // Dropping the upstream stream here closes its connection: a cancelled client cancels
    // the backend's generation too.
    drop(rest);
    drop(permit);
    let usage = out.usage();
    match end {
        End::Cancelled => recorder.cancelled(200, usage),
        End::Failed(error) => recorder.failed(200, usage, &error),
        End::Finished => match out.upstream_error() {
            Some(error) => recorder.failed(200, usage, &error),
            None => recorder.ok(200, usage),
        },
    }
}
