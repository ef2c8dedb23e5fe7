//! The HTTP side of a backend check: one `GET` of the backend's model list, sent with the key
//! and headers requests use, no redirect followed, a short timeout and a bounded body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue, header};
use secrecy::{ExposeSecret, SecretString};

use super::super::http::{classify, client, is_loopback_url};
use super::outcome::{
    Answer, BackendCheck, CheckOutcome, answer_detail, classify_answer, classify_failure,
    models_url,
};
use crate::config::{BackendConfig, BackendKind};

/// The key a check sends: the one requests would send.
pub enum CheckKey {
    Key(Arc<SecretString>),
    NoKey,
    /// Requests would fail before sending anything; the reason is the check's detail.
    Unreadable(String),
}

impl From<Result<Option<Arc<SecretString>>, crate::anthropic::ApiError>> for CheckKey {
    fn from(found: Result<Option<Arc<SecretString>>, crate::anthropic::ApiError>) -> Self {
        match found {
            Ok(Some(key)) => CheckKey::Key(key),
            Ok(None) => CheckKey::NoKey,
            Err(err) => CheckKey::Unreadable(err.message),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckSettings {
    pub connect_timeout: Duration,
    /// Bound on the whole call, body included.
    pub total_timeout: Duration,
    /// At most this much of the body is read (a big provider's model list is ~1 MB).
    pub body_limit: usize,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(8),
            body_limit: 4 * 1024 * 1024,
        }
    }
}

/// Checks one backend: reachable, key accepted, models offered.
pub async fn check_backend(
    backend: &BackendConfig,
    key: CheckKey,
    settings: &CheckSettings,
) -> BackendCheck {
    match backend.kind {
        BackendKind::Bedrock => return super::cloud::check_bedrock(backend, key, settings).await,
        BackendKind::Vertex => return super::cloud::check_vertex(backend, key, settings).await,
        BackendKind::Anthropic | BackendKind::OpenaiChat | BackendKind::Ollama => {}
    }
    let started = Instant::now();
    let url = models_url(backend.kind, &backend.base_url);
    let done = |outcome: CheckOutcome, detail: String| {
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        BackendCheck::new(&backend.id, &backend.base_url, outcome, detail, ms)
    };
    let key = match key {
        CheckKey::Key(key) => Some(key),
        CheckKey::NoKey => None,
        CheckKey::Unreadable(reason) => return done(CheckOutcome::KeyUnreadable, reason),
    };
    let headers = match headers(backend, key.as_deref()) {
        Ok(headers) => headers,
        Err(reason) => return done(CheckOutcome::KeyUnreadable, reason.to_owned()),
    };
    let client = client(
        settings.connect_timeout,
        settings.total_timeout,
        is_loopback_url(&backend.base_url),
    );
    let response = match client.get(&url).headers(headers).send().await {
        Ok(response) => response,
        Err(err) => {
            let failure = classify(&err, settings.total_timeout);
            return done(classify_failure(&failure), format!("GET {url}: {failure}"));
        }
    };
    let status = response.status().as_u16();
    let body = match crate::net::read_bounded(response, settings.body_limit).await {
        Ok(body) => body,
        Err(err) => {
            let failure = classify(&err, settings.total_timeout);
            return done(
                classify_failure(&failure),
                format!("GET {url} → HTTP {status}, then: {failure}"),
            );
        }
    };
    let outcome = classify_answer(&Answer {
        kind: backend.kind,
        status,
        body: &body,
        sent_key: key.is_some(),
        context_override: backend.context_length,
    });
    done(outcome, answer_detail(&url, status, &body))
}

/// The key in the header its kind expects (as `proxy::send` does), then the backend's extra
/// headers.
fn headers(
    backend: &BackendConfig,
    key: Option<&SecretString>,
) -> Result<http::HeaderMap, &'static str> {
    let mut headers = http::HeaderMap::new();
    if backend.kind == BackendKind::Anthropic {
        headers.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
    }
    if let Some(key) = key {
        let secret = key.expose_secret();
        let (name, value) = match backend.kind {
            BackendKind::Anthropic => (HeaderName::from_static("x-api-key"), secret.to_owned()),
            // Bedrock and Vertex are checked by `cloud.rs`; a bearer key is what they
            // would take if they came here.
            BackendKind::OpenaiChat
            | BackendKind::Ollama
            | BackendKind::Bedrock
            | BackendKind::Vertex => (header::AUTHORIZATION, format!("Bearer {secret}")),
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| "the stored key contains characters a header cannot carry")?;
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
    Ok(headers)
}
