use std::pin::Pin;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderName, HeaderValue, header};
use secrecy::ExposeSecret;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, timeout_at};

use super::Inbound;
use crate::anthropic::{ApiError, ErrorType, MessagesRequest, Usage};
use crate::backends::{StreamTranslator, anthropic as passthrough};
use crate::config::{BackendConfig, BackendKind};
use crate::gateway::Gateway;

/// Upstream error bodies are read up to this size (they are short; anything longer is noise).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

pub type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// How the upstream's answer is read.
pub enum Decoder {
    /// Relay bytes unchanged; read usage on the side.
    Passthrough(Box<passthrough::UsageTap>),
    /// Translate upstream bytes into Anthropic events.
    #[expect(
        dead_code,
        reason = "constructed once the translating backends are wired in"
    )]
    Translate(Box<dyn StreamTranslator>),
}

/// An upstream stream whose first chunk has arrived: from here on the client gets bytes.
pub struct UpstreamStream {
    pub first: Bytes,
    pub rest: ByteStream,
    pub decoder: Decoder,
    pub permit: Option<OwnedSemaphorePermit>,
}

pub enum Answer {
    Complete { response: Response, usage: Usage },
    Stream(UpstreamStream),
}

/// A failed attempt; `retryable` failures let the next target be tried.
pub struct Failure {
    pub error: ApiError,
    pub retryable: bool,
}

impl Failure {
    fn retry(error: ApiError) -> Self {
        Failure {
            error,
            retryable: true,
        }
    }
    fn fatal(error: ApiError) -> Self {
        Failure {
            error,
            retryable: false,
        }
    }
}

/// A request translated for one backend kind, ready to send.
struct Prepared {
    url: String,
    body: Bytes,
    kind: BackendKind,
}

fn prepare(
    backend: &BackendConfig,
    model: &str,
    _req: &MessagesRequest,
    body: &Bytes,
    inbound: &Inbound,
) -> Result<Prepared, Failure> {
    match backend.kind {
        BackendKind::Anthropic => {
            let mut url = passthrough::endpoint(&backend.base_url, "/messages");
            if let Some(query) = &inbound.query {
                url.push('?');
                url.push_str(query);
            }
            Ok(Prepared {
                url,
                body: passthrough::prepare_body(body, model).map_err(Failure::fatal)?,
                kind: backend.kind,
            })
        }
        BackendKind::OpenaiChat | BackendKind::Ollama => Err(Failure::fatal(
            ApiError::new(
                ErrorType::ApiError,
                format!(
                    "backend {:?} is of kind {:?}, which this build cannot translate to yet",
                    backend.id,
                    backend.kind.as_str()
                ),
            )
            .with_status(501),
        )),
    }
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
    req: &MessagesRequest,
    body: &Bytes,
    inbound: &Inbound,
    _elapsed: Duration,
) -> Result<Answer, Failure> {
    let prepared = prepare(backend, model, req, body, inbound)?;
    let key = gateway.backend_key(backend).await.map_err(Failure::fatal)?;
    let permit = gateway.permit(backend).await;

    let mut headers = match prepared.kind {
        BackendKind::Anthropic => passthrough::forwarded_headers(&inbound.headers),
        _ => http::HeaderMap::new(),
    };
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(key) = &key {
        let secret = key.expose_secret();
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

    let deadline = Instant::now() + Duration::from_secs(backend.timeout_first_byte_s);
    let request = gateway
        .client(backend)
        .post(&prepared.url)
        .headers(headers)
        .body(prepared.body);
    let response = match timeout_at(deadline, request.send()).await {
        Err(_) => return Err(Failure::retry(first_byte_timeout(backend))),
        Ok(Err(err)) => return Err(Failure::retry(connect_error(backend, &err))),
        Ok(Ok(response)) => response,
    };

    let status = response.status().as_u16();
    if !response.status().is_success() {
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = read_limited(response, ERROR_BODY_LIMIT, deadline).await;
        let error =
            passthrough::upstream_error(status, &body, &backend.id).with_retry_after(retry_after);
        let retryable = matches!(status, 408 | 409 | 429 | 500..=599);
        return Err(Failure { error, retryable });
    }

    let mut stream: ByteStream = Box::pin(response.bytes_stream());
    if !req.is_stream() {
        let body = read_all(&mut stream, backend).await?;
        let usage = passthrough::response_usage(&body);
        let response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        return Ok(Answer::Complete { response, usage });
    }

    let first = match timeout_at(deadline, stream.next()).await {
        Err(_) => return Err(Failure::retry(first_byte_timeout(backend))),
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
        Ok(Some(Ok(chunk))) => chunk,
    };
    let mut tap = passthrough::UsageTap::new();
    tap.feed(&first);
    if let (Some(error), false) = (&tap.error, tap.started) {
        // An error event before anything else (e.g. overloaded): nothing reached the client
        // yet, so the next target may still answer.
        let retryable = matches!(
            error.kind,
            ErrorType::OverloadedError
                | ErrorType::ApiError
                | ErrorType::RateLimitError
                | ErrorType::TimeoutError
        );
        return Err(Failure {
            error: error.clone(),
            retryable,
        });
    }
    Ok(Answer::Stream(UpstreamStream {
        first,
        rest: stream,
        decoder: Decoder::Passthrough(Box::new(tap)),
        permit,
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
            Ok(Some(Ok(chunk))) => out.extend_from_slice(&chunk),
        }
    }
}
