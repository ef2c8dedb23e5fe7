use std::sync::Arc;

use axum::Json;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, header};
use secrecy::ExposeSecret;
use serde::Serialize;

use super::{Inbound, parse_request};
use crate::anthropic::{ApiError, ErrorType, MessagesRequest};
use crate::backends::anthropic as passthrough;
use crate::config::{BackendConfig, BackendKind};
use crate::gateway::Gateway;
use crate::routing::{plan, resolve_for};

#[derive(Serialize)]
struct Count {
    input_tokens: u64,
}

/// `POST /v1/messages/count_tokens`: forwarded to a pass-through backend that has the
/// endpoint, otherwise estimated locally (never a constant: Claude Code's `/context` and
/// auto-compaction depend on it).
pub async fn count_tokens(gateway: Arc<Gateway>, inbound: Inbound, body: Bytes) -> Response {
    let req = match super::cpu::heavy(body.len(), || parse_request(&body)) {
        Ok(req) => req,
        Err(err) => return err.into_response(),
    };
    let config = gateway.config();
    let facts = |needs| crate::routing::Facts::of(&req, &inbound.headers, needs, estimate);
    let route = match resolve_for(&config, inbound.profile(&config), &req.model, facts) {
        Ok(route) => route,
        Err(err) => return err.into_response(),
    };
    let attempts = plan(
        &route,
        &req.model,
        &gateway.cooldowns,
        &gateway.load,
        &mut rand::rng(),
    );
    // Only a pass-through backend can count with the real tokenizer; everything else (and a
    // pass-through without the endpoint) gets the local estimate.
    if let Some(attempt) = attempts.first()
        && let Some(backend) = config.backend(&attempt.backend)
        && backend.kind == BackendKind::Anthropic
        && let Some(response) = forward(&gateway, backend, &attempt.model, &body, &inbound).await
    {
        return response;
    }
    let input_tokens = super::cpu::heavy(body.len(), || estimate(&req));
    Json(Count { input_tokens }).into_response()
}

/// Ask the upstream; `None` when it has no such endpoint or cannot be reached.
async fn forward(
    gateway: &Gateway,
    backend: &BackendConfig,
    model: &str,
    body: &Bytes,
    inbound: &Inbound,
) -> Option<Response> {
    let body = passthrough::prepare_body(body, passthrough::model_range(body).ok()?, model).ok()?;
    let mut headers = passthrough::forwarded_headers(&inbound.headers);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(Some(key)) = gateway.backend_key(backend).await {
        let mut value = HeaderValue::from_str(key.expose_secret()).ok()?;
        value.set_sensitive(true);
        headers.insert("x-api-key", value);
    }
    let mut url = passthrough::endpoint(&backend.base_url, "/messages/count_tokens");
    if let Some(query) = &inbound.query {
        url.push('?');
        url.push_str(query);
    }
    let request = gateway
        .client(backend)
        .post(url)
        .headers(headers)
        .body(body);
    // One deadline for the whole exchange: headers and body alike.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let response = tokio::time::timeout_at(deadline, request.send())
        .await
        .ok()?
        .ok()?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let location = crate::net::location(response.headers());
        let message = crate::net::redirect_message(&backend.id, status, location.as_deref());
        return Some(
            ApiError::new(ErrorType::ApiError, message)
                .with_status(502)
                .into_response(),
        );
    }
    if matches!(status, 404 | 405 | 501) || status >= 500 {
        return None;
    }
    let mut stream = response.bytes_stream();
    let mut out = Vec::new();
    // A cut or late answer is no count: the local estimate answers instead.
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) if out.len() + chunk.len() <= 1024 * 1024 => {
                out.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            _ => return None,
        }
    }
    if status != 200 {
        return Some(passthrough::upstream_error(status, &out, &backend.id).into_response());
    }
    Some(
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            out,
        )
            .into_response(),
    )
}

/// The local estimate: o200k-based, scaled towards Claude's tokenizer (see `tokens`).
fn estimate(req: &MessagesRequest) -> u64 {
    crate::tokens::estimate_request_tokens(req)
}
