use std::pin::Pin;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderName, HeaderValue, header};
use secrecy::ExposeSecret;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, timeout_at};

use super::cloud::{cloud_auth_headers, cloud_request_error, is_body_error, vertex_headers};
use super::{Inbound, InboundRequest};
use crate::anthropic::{ApiError, ErrorType, MessagesResponse, StreamEvent, Usage};
use crate::backends::bedrock::{self, BedrockTap};
use crate::backends::ollama::OllamaExchange;
use crate::backends::openai_chat::OpenAiExchange;
use crate::backends::{
    StreamTranslator, TargetContext, UpstreamRequest, anthropic as passthrough, cloud_betas, vertex,
};
use crate::capture::Trace;
use crate::config::{BackendConfig, BackendKind};
use crate::gateway::{Gateway, PickedKey};
use crate::sse::encode_events;

/// Upstream error bodies are read up to this size (they are short; anything longer is noise).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

pub type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// How the upstream's answer is read.
pub enum Decoder {
    /// Relay bytes unchanged; read usage on the side.
    Passthrough(Box<passthrough::UsageTap>),
    /// Bedrock's event stream: each frame's Anthropic event relayed as SSE, read on the side
    /// like the pass-through's.
    EventStream(Box<BedrockTap>),
    /// Translate upstream bytes into Anthropic events.
    Translate(Box<dyn StreamTranslator>),
}

/// An upstream stream whose first chunk has arrived: from here on the client gets bytes.
pub struct UpstreamStream {
    /// What the client gets for the first upstream chunk (already read by the decoder).
    pub first: Bytes,
    pub rest: ByteStream,
    pub decoder: Decoder,
    pub permit: Option<OwnedSemaphorePermit>,
    /// Set when the answer was committed before the upstream's first chunk (a translated
    /// stream whose backend is still processing the prompt): the first chunk is due by then.
    pub first_byte_deadline: Option<Instant>,
}

pub enum Answer {
    /// `body` is the response's body (shared, not copied), for the response cache.
    Complete {
        response: Response,
        usage: Usage,
        body: Bytes,
    },
    Stream(UpstreamStream),
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The backend failed (down, timeout, 429, 5xx): retry it if configured, then cool it
    /// down and try the next target.
    Retry,
    /// This target cannot serve the request (e.g. its context window is too small) but the
    /// backend is fine: go straight to the next target.
    Skip,
    /// The request itself is at fault: answer now.
    Stop,
}

/// A failed attempt.
pub struct Failure {
    pub error: ApiError,
    pub next: Next,
    /// The upstream's HTTP status when it answered with an error (a pool sets aside a key
    /// refused with 401/403 or throttled with 429).
    pub upstream_status: Option<u16>,
}

impl Failure {
    pub(super) fn retry(error: ApiError) -> Self {
        Failure {
            error,
            next: Next::Retry,
            upstream_status: None,
        }
    }
    pub(super) fn skip(error: ApiError) -> Self {
        Failure {
            error,
            next: Next::Skip,
            upstream_status: None,
        }
    }
    pub(super) fn fatal(error: ApiError) -> Self {
        Failure {
            error,
            next: Next::Stop,
            upstream_status: None,
        }
    }
}

/// The state a translating backend keeps between its request and its answer.
enum Exchange {
    OpenAi(OpenAiExchange),
    Ollama(OllamaExchange),
}

impl Exchange {
    fn response(&self, body: &[u8]) -> Result<MessagesResponse, ApiError> {
        match self {
            Exchange::OpenAi(x) => x.response(body),
            Exchange::Ollama(x) => x.response(body),
        }
    }

    fn stream(&self) -> Box<dyn StreamTranslator> {
        match self {
            Exchange::OpenAi(x) => Box::new(x.stream()),
            Exchange::Ollama(x) => Box::new(x.stream()),
        }
    }

    fn error(&self, status: u16, body: &[u8]) -> ApiError {
        match self {
            Exchange::OpenAi(x) => x.error(status, body),
            Exchange::Ollama(x) => x.error(status, body),
        }
    }
}

/// How an upstream's answer is read.
enum Reader {
    /// Anthropic's own JSON and SSE, relayed as they come (pass-through, Vertex).
    Anthropic,
    /// Anthropic's JSON, or Anthropic's events in AWS event-stream frames; AWS's errors.
    Bedrock,
    /// Another API's answer, translated.
    Translate(Exchange),
}

/// A request translated for one backend kind, ready to send.
pub(super) struct Prepared {
    pub(super) url: String,
    pub(super) body: Bytes,
    pub(super) kind: BackendKind,
    reader: Reader,
}

impl Prepared {
    fn exchange(&self) -> Option<&Exchange> {
        match &self.reader {
            Reader::Translate(exchange) => Some(exchange),
            Reader::Anthropic | Reader::Bedrock => None,
        }
    }
}

fn join(base_url: &str, path: &str) -> String {
    format!("{}{path}", base_url.trim_end_matches('/'))
}

fn prepare(
    backend: &BackendConfig,
    model: &str,
    context_length: Option<u32>,
    req: &InboundRequest,
    inbound: &Inbound,
) -> Result<Prepared, Failure> {
    let ctx = TargetContext {
        backend,
        upstream_model: model,
        requested_model: &req.model,
        context_length,
    };
    // A prompt that cannot fit this target's window may still fit a fallback's.
    let translated = |result: Result<(UpstreamRequest, Exchange), ApiError>| match result {
        Ok((upstream, exchange)) => Ok(Prepared {
            url: join(&backend.base_url, &upstream.path),
            body: Bytes::from(upstream.body),
            kind: backend.kind,
            reader: Reader::Translate(exchange),
        }),
        Err(error) => Err(Failure::skip(error)),
    };
    match backend.kind {
        BackendKind::Anthropic => {
            let mut url = passthrough::endpoint(&backend.base_url, "/messages");
            if let Some(query) = &inbound.query {
                url.push('?');
                url.push_str(query);
            }
            Ok(Prepared {
                url,
                body: passthrough::prepare_body(&req.body, req.model_at.clone(), model)
                    .map_err(Failure::fatal)?,
                kind: backend.kind,
                reader: Reader::Anthropic,
            })
        }
        BackendKind::Bedrock => {
            // Thinking blocks a translating backend minted would fail Claude's signature
            // check here as on Anthropic's own API.
            let body = passthrough::strip_foreign_thinking(&req.body).map_err(Failure::fatal)?;
            let (betas, _) = cloud_betas::split(cloud_betas::header_values(&inbound.headers));
            let invoke = bedrock::invoke_request(
                backend.base_url_override(),
                backend.region().unwrap_or_default(),
                model,
                body.as_deref().unwrap_or(&req.body),
                betas.iter().map(String::as_str),
            )
            .map_err(|err| cloud_request_error(backend, err.to_string(), is_body_error(&err)))?;
            Ok(Prepared {
                url: invoke.url,
                body: Bytes::from(invoke.body),
                kind: backend.kind,
                reader: Reader::Bedrock,
            })
        }
        BackendKind::Vertex => {
            let body = passthrough::strip_foreign_thinking(&req.body).map_err(Failure::fatal)?;
            let target = vertex::VertexTarget {
                base_url: backend.base_url_override(),
                project: backend.project().unwrap_or_default(),
                region: backend.region().unwrap_or_default(),
                model,
            };
            let predict = vertex::predict_request(&target, body.as_deref().unwrap_or(&req.body))
                .map_err(|err| {
                    let body_fault = matches!(err, vertex::request::RequestError::Body(_));
                    cloud_request_error(backend, err.to_string(), body_fault)
                })?;
            Ok(Prepared {
                url: predict.url,
                body: Bytes::from(predict.body),
                kind: backend.kind,
                reader: Reader::Anthropic,
            })
        }
        BackendKind::OpenaiChat => {
            let full = req.full().map_err(Failure::fatal)?;
            translated(OpenAiExchange::prepare(full, &ctx).map(|(u, x)| (u, Exchange::OpenAi(x))))
        }
        BackendKind::Ollama => {
            let full = req.full().map_err(Failure::fatal)?;
            translated(OllamaExchange::prepare(full, &ctx).map(|(u, x)| (u, Exchange::Ollama(x))))
        }
    }
}

/// Server tools (web search, ...) run at Anthropic: a translator leaves them out, and the log
/// and the usage row say so rather than the request silently losing them. The note, when
/// `backend` (a translating one) drops any.
pub(super) fn dropped_server_tools(
    req: &InboundRequest,
    backend: &BackendConfig,
) -> Option<String> {
    let full = req.full().ok()?;
    let dropped: Vec<&str> = full
        .tools
        .iter()
        .flat_map(|tools| tools.iter())
        .filter(|t| t.is_server_tool())
        .map(|t| t.kind.as_deref().unwrap_or(&t.name))
        .collect();
    if dropped.is_empty() {
        return None;
    }
    let tools: String = dropped.join(", ").chars().take(300).collect();
    tracing::info!(
        backend = %backend.id,
        tools = %crate::log_text::clip(&tools),
        "server tools left out: this backend cannot run them (a rule with when = {{ server_tools = true }} can send such requests elsewhere)"
    );
    Some(format!("server tools dropped for {}: {tools}", backend.id))
}

fn connect_error(backend: &BackendConfig, err: &reqwest::Error) -> ApiError {
    let cause = if err.is_connect() {
        "connection refused or unreachable"
    } else if err.is_timeout() {
        "timed out connecting"
    } else {
        "the connection failed"
    };
    ApiError::new(
        ErrorType::ApiError,
        format!(
            "Switchyard could not reach backend {:?} at {} ({cause}). Is it running?",
            backend.id, backend.base_url
        ),
    )
    .with_status(502)
}

fn first_byte_timeout(backend: &BackendConfig) -> ApiError {
    ApiError::new(
        ErrorType::TimeoutError,
        format!(
            "backend {:?} did not start answering within {} s (timeout_first_byte_s)",
            backend.id, backend.timeout_first_byte_s
        ),
    )
}

/// Send the request to one backend and wait for the start of its answer.
pub async fn send(
    gateway: &Gateway,
    backend: &BackendConfig,
    model: &str,
    req: &InboundRequest,
    inbound: &Inbound,
    key: &PickedKey,
    mut trace: Option<&mut Trace>,
) -> Result<Answer, Failure> {
    // Translating backends need the model's window (the context guard, Ollama's num_ctx);
    // discovery answers from its cache, probing at most once per model and TTL.
    let context_length = match backend.kind {
        BackendKind::Anthropic | BackendKind::Bedrock | BackendKind::Vertex => None,
        BackendKind::OpenaiChat | BackendKind::Ollama => {
            gateway.context_lengths.context_length(backend, model).await
        }
    };
    let prepared = super::cpu::heavy(req.body.len(), || {
        prepare(backend, model, context_length, req, inbound)
    })?;
    let queued = std::time::Instant::now();
    let permit = gateway.permit(backend).await;
    let queue_ms = queued.elapsed().as_secs_f64() * 1000.0;

    let mut headers = match prepared.kind {
        BackendKind::Anthropic => passthrough::forwarded_headers(&inbound.headers),
        BackendKind::Vertex => vertex_headers(&inbound.headers),
        BackendKind::Bedrock | BackendKind::OpenaiChat | BackendKind::Ollama => {
            http::HeaderMap::new()
        }
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if prepared.kind == BackendKind::Bedrock {
        // What the AWS SDKs send for InvokeModel and InvokeModelWithResponseStream.
        let accept = match req.stream {
            true => "application/vnd.amazon.eventstream",
            false => "application/json",
        };
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
        if req.stream {
            headers.insert(
                "x-amzn-bedrock-accept",
                HeaderValue::from_static("application/json"),
            );
        }
    }
    if let Some(secret) = key
        .secret
        .as_ref()
        .filter(|_| !prepared.kind.is_cloud_claude())
    {
        let secret = secret.expose_secret();
        let (name, value) = match prepared.kind {
            BackendKind::Anthropic => (HeaderName::from_static("x-api-key"), secret.to_owned()),
            _ => (header::AUTHORIZATION, format!("Bearer {secret}")),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Failure::fatal(ApiError::new(
                ErrorType::AuthenticationError,
                format!(
                    "the key stored for backend {:?} is not a valid header value",
                    backend.id
                ),
            ))
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    for (name, value) in &backend.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    // Last: a SigV4 signature covers the headers above, exactly as they are sent.
    for (name, value) in cloud_auth_headers(gateway, backend, key, &prepared, &headers).await? {
        headers.insert(name, value);
    }

    if let Some(trace) = trace.as_deref_mut() {
        let configured: Vec<&str> = backend.headers.keys().map(String::as_str).collect();
        trace.upstream_request(
            &prepared.url,
            &headers,
            &prepared.body,
            &configured,
            queue_ms,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(backend.timeout_first_byte_s);
    let request = gateway
        .client(backend)
        .post(&prepared.url)
        .headers(headers)
        .body(prepared.body.clone());
    let mut pending = Box::pin(request.send());
    // A translated stream is committed after PING_EVERY even before the upstream's headers:
    // Ollama sends none until its first token, and a long prompt takes minutes to process.
    let commit_at = match (prepared.exchange(), req.stream) {
        (Some(_), true) => deadline.min(Instant::now() + super::PING_EVERY),
        _ => deadline,
    };
    let response = match timeout_at(commit_at, &mut pending).await {
        Err(_) if Instant::now() < deadline => {
            if let Some(exchange) = prepared.exchange() {
                return Ok(commit_before_headers(exchange, pending, permit, deadline));
            }
            return Err(Failure::retry(first_byte_timeout(backend)));
        }
        Err(_) => return Err(Failure::retry(first_byte_timeout(backend))),
        Ok(Err(err)) => return Err(Failure::retry(connect_error(backend, &err))),
        Ok(Ok(response)) => response,
    };

    let status = response.status().as_u16();
    if let Some(trace) = trace.as_deref_mut() {
        trace.upstream_head(status, response.headers());
    }
    if response.status().is_redirection() {
        let location = crate::net::location(response.headers());
        let message = crate::net::redirect_message(&backend.id, status, location.as_deref());
        // The backend is misconfigured, not down: no retry, but another target may serve.
        return Err(Failure {
            error: ApiError::new(ErrorType::ApiError, message).with_status(502),
            next: Next::Skip,
            upstream_status: Some(status),
        });
    }
    if !response.status().is_success() {
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_limited(response, ERROR_BODY_LIMIT, deadline).await;
        if let Some(trace) = trace.as_deref_mut() {
            trace.upstream_body(&Bytes::copy_from_slice(&body));
        }
        let error = match &prepared.reader {
            Reader::Anthropic if prepared.kind == BackendKind::Vertex => {
                vertex::errors::map_error(status, &body, &backend.id)
            }
            Reader::Anthropic => passthrough::upstream_error(status, &body, &backend.id),
            Reader::Bedrock => bedrock::map_error(status, error_type.as_deref(), &body),
            Reader::Translate(exchange) => exchange.error(status, &body),
        };
        let error = match retry_after {
            Some(seconds) => error.with_retry_after(Some(seconds)),
            None => error,
        };
        // Bedrock's error name decides over its status (a quota error may come as 400): the
        // mapped error's status is what fallback, retries and key pools go by.
        let status = match prepared.reader {
            Reader::Bedrock => error.status(),
            _ => status,
        };
        let next = if matches!(status, 408 | 409 | 429 | 500..=599) {
            Next::Retry
        } else {
            Next::Stop
        };
        return Err(Failure {
            error,
            next,
            upstream_status: Some(status),
        });
    }

    let mut stream: ByteStream = Box::pin(response.bytes_stream());
    if !req.stream {
        let body = read_all(&mut stream, backend).await?;
        if let Some(trace) = trace.as_deref_mut() {
            trace.upstream_body(&body);
        }
        let (body, usage) = match &prepared.reader {
            Reader::Anthropic | Reader::Bedrock => {
                let usage = passthrough::response_usage(&body);
                (body, usage)
            }
            Reader::Translate(exchange) => {
                // An answer we cannot read is the backend's fault: another may do better.
                let message = super::cpu::heavy(body.len(), || exchange.response(&body))
                    .map_err(Failure::retry)?;
                let json = serde_json::to_vec(&message).map_err(|err| {
                    Failure::fatal(ApiError::new(ErrorType::ApiError, err.to_string()))
                })?;
                (Bytes::from(json), message.usage)
            }
        };
        let response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.clone(),
        )
            .into_response();
        return Ok(Answer::Complete {
            response,
            usage,
            body,
        });
    }

    // Wait for the first chunk before answering, so that an early failure can still fall
    // back. A translated stream is committed after PING_EVERY without one (we can send our own
    // `message_start` and keep the client alive with pings while a local engine processes a
    // long prompt); a pass-through cannot ping before the upstream's own `message_start`.
    let wait_until = match prepared.exchange() {
        Some(_) => deadline.min(Instant::now() + super::PING_EVERY),
        None => deadline,
    };
    let first = match timeout_at(wait_until, stream.next()).await {
        Err(_) if Instant::now() >= deadline => {
            return Err(Failure::retry(first_byte_timeout(backend)));
        }
        Err(_) => None,
        Ok(None) => {
            return Err(Failure::retry(
                ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "backend {:?} closed the stream without sending anything",
                        backend.id
                    ),
                )
                .with_status(502),
            ));
        }
        Ok(Some(Err(err))) => return Err(Failure::retry(connect_error(backend, &err))),
        Ok(Some(Ok(chunk))) => Some(chunk),
    };
    let first_byte_deadline = first.is_none().then_some(deadline);
    let first = first.unwrap_or_default();
    if let Some(trace) = trace {
        trace.upstream_chunk(&first);
    }
    // Read the first chunk before answering: an error there can still fall back.
    let (first, decoder, early_error, started) = match &prepared.reader {
        Reader::Anthropic => {
            let mut tap = passthrough::UsageTap::new();
            tap.feed(&first);
            let early = tap.error.clone();
            let started = tap.started;
            (first, Decoder::Passthrough(Box::new(tap)), early, started)
        }
        Reader::Bedrock => {
            let mut tap = BedrockTap::new();
            let (sse, failed) = tap.feed(&first);
            let early = failed.or_else(|| tap.tap.error.clone());
            let started = tap.tap.started;
            (
                Bytes::from(sse),
                Decoder::EventStream(Box::new(tap)),
                early,
                started,
            )
        }
        Reader::Translate(exchange) => {
            let mut translator = exchange.stream();
            let events = translator.feed(&first);
            let early = events.iter().find_map(|event| match event {
                StreamEvent::Error { error } => Some(ApiError::new(
                    ErrorType::from_name(&error.kind).unwrap_or(ErrorType::ApiError),
                    error.message.clone(),
                )),
                _ => None,
            });
            let started = events.iter().any(|e| {
                matches!(
                    e,
                    StreamEvent::ContentBlockStart { .. } | StreamEvent::MessageDelta { .. }
                )
            });
            (
                encode_events(&events),
                Decoder::Translate(translator),
                early,
                started,
            )
        }
    };
    if let (Some(error), false) = (early_error, started) {
        // An error before any content (e.g. overloaded): nothing reached the client yet, so
        // the next target may still answer.
        let next = match error.kind {
            ErrorType::OverloadedError
            | ErrorType::ApiError
            | ErrorType::RateLimitError
            | ErrorType::TimeoutError => Next::Retry,
            _ => Next::Stop,
        };
        // Bedrock throttles inside a 200 stream too: a pool rests the key as for a 429.
        let upstream_status = match prepared.reader {
            Reader::Bedrock => Some(error.status()),
            _ => None,
        };
        return Err(Failure {
            error,
            next,
            upstream_status,
        });
    }
    Ok(Answer::Stream(UpstreamStream {
        first,
        rest: stream,
        decoder,
        permit,
        first_byte_deadline,
    }))
}

async fn read_limited(response: reqwest::Response, limit: usize, deadline: Instant) -> Vec<u8> {
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    while out.len() < limit {
        match timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => {
                out.extend_from_slice(&chunk[..chunk.len().min(limit - out.len())])
            }
            _ => break,
        }
    }
    out
}

/// A translated stream answered before the upstream's headers: our own `message_start` now,
/// pings while the backend works, the body when it comes. Whatever the backend then answers
/// goes through the translator, which reads an error body (any status) as an error event.
fn commit_before_headers(
    exchange: &Exchange,
    pending: Pin<Box<impl Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static>>,
    permit: Option<OwnedSemaphorePermit>,
    deadline: Instant,
) -> Answer {
    let rest: ByteStream = Box::pin(futures::stream::once(pending).flat_map(|sent| match sent {
        Ok(response) => response.bytes_stream().left_stream(),
        Err(err) => futures::stream::once(async move { Err(err) }).right_stream(),
    }));
    let mut translator = exchange.stream();
    let first = encode_events(&translator.feed(&[]));
    Answer::Stream(UpstreamStream {
        first,
        rest,
        decoder: Decoder::Translate(translator),
        permit,
        first_byte_deadline: Some(deadline),
    })
}

/// The most a non-streaming answer may hold: a real one is a few hundred KiB at most, and
/// without a cap a 1 GiB body took the gateway to 1.3 GiB of memory.
pub const MAX_RESPONSE_BODY: usize = 64 << 20;

async fn read_all(stream: &mut ByteStream, backend: &BackendConfig) -> Result<Bytes, Failure> {
    let idle = Duration::from_secs(backend.timeout_idle_s);
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(idle, stream.next()).await {
            Err(_) => {
                return Err(Failure::retry(ApiError::new(
                    ErrorType::TimeoutError,
                    format!(
                        "backend {:?} stopped sending for {} s (timeout_idle_s)",
                        backend.id, backend.timeout_idle_s
                    ),
                )));
            }
            Ok(None) => return Ok(Bytes::from(out)),
            Ok(Some(Err(err))) => return Err(Failure::retry(connect_error(backend, &err))),
            Ok(Some(Ok(chunk))) if out.len() + chunk.len() > MAX_RESPONSE_BODY => {
                return Err(Failure::fatal(ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "backend {:?} sent an answer larger than {} MiB; Switchyard stopped reading it",
                        backend.id,
                        MAX_RESPONSE_BODY >> 20
                    ),
                )));
            }
            Ok(Some(Ok(chunk))) => out.extend_from_slice(&chunk),
        }
    }
}
