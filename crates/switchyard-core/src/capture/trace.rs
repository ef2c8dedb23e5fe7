//! A capture in the making: the recorder holds one while a captured request runs, the send
//! step and the relay add to it, and the recorder hands it, finished, to the capture writer.
//! The request path only keeps references to bytes the request already holds (`Bytes` are
//! shared, not copied) and the headers minus credentials; turning them into text and JSON
//! happens on the writer's thread ([`Pending::into_capture`]). What is kept is bounded
//! (`MAX_BYTES` per capture): past it, further chunks are counted, not kept.

use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;

use super::record::{
    Attempt, Capture, ClientRequest, ClientResponse, Header, TimedChunk, Timings, UpstreamResponse,
};
use super::redact;
use crate::usage::UsageRecord;

/// The most one capture keeps of bodies and chunks together.
pub const MAX_BYTES: usize = 16 << 20;

struct RawResponse {
    status: u16,
    headers: Vec<Header>,
    body: Bytes,
    chunks: Vec<(f64, Bytes)>,
}

struct RawAttempt {
    backend: String,
    kind: String,
    upstream_model: String,
    key_name: Option<String>,
    started_ms: f64,
    queue_ms: f64,
    url: String,
    headers: Vec<Header>,
    body: Bytes,
    response: Option<RawResponse>,
    error: Option<String>,
    next: Option<String>,
}

pub struct Trace {
    started: Instant,
    path: String,
    headers: Vec<Header>,
    body: Bytes,
    attempts: Vec<RawAttempt>,
    client_status: u16,
    client_body: Bytes,
    client_chunks: Vec<(f64, Bytes)>,
    kept: usize,
    /// Bytes seen past `MAX_BYTES`, not kept.
    cut: usize,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn chunks(raw: Vec<(f64, Bytes)>) -> Vec<TimedChunk> {
    raw.into_iter()
        .map(|(at_ms, data)| TimedChunk {
            at_ms,
            data: text(&data),
        })
        .collect()
}

impl Trace {
    /// The client's request as it arrived (`started`: when the gateway got it).
    pub fn new(started: Instant, path: &str, headers: &HeaderMap, body: &Bytes) -> Self {
        let mut trace = Trace {
            started,
            path: path.to_owned(),
            headers: redact::headers(headers, &[]),
            body: Bytes::new(),
            attempts: Vec::new(),
            client_status: 0,
            client_body: Bytes::new(),
            client_chunks: Vec::new(),
            kept: 0,
            cut: 0,
        };
        trace.body = trace.bounded(body);
        trace
    }

    fn at_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// `bytes` when the capture has room for them, else nothing (counted).
    fn bounded(&mut self, bytes: &Bytes) -> Bytes {
        if self.kept + bytes.len() > MAX_BYTES {
            self.cut += bytes.len();
            return Bytes::new();
        }
        self.kept += bytes.len();
        bytes.clone()
    }

    /// A new attempt at a target.
    pub fn attempt(&mut self, backend: &str, kind: &str, model: &str, key_name: Option<&str>) {
        let started_ms = self.at_ms();
        self.attempts.push(RawAttempt {
            backend: backend.to_owned(),
            kind: kind.to_owned(),
            upstream_model: model.to_owned(),
            key_name: key_name.map(str::to_owned),
            started_ms,
            queue_ms: 0.0,
            url: String::new(),
            headers: Vec::new(),
            body: Bytes::new(),
            response: None,
            error: None,
            next: None,
        });
    }

    /// What went upstream for the current attempt; `also`: header names whose values are
    /// redacted besides credentials (the backend's configured extra headers).
    pub fn upstream_request(
        &mut self,
        url: &str,
        headers: &HeaderMap,
        body: &Bytes,
        also: &[&str],
        queue_ms: f64,
    ) {
        let body = self.bounded(body);
        if let Some(attempt) = self.attempts.last_mut() {
            attempt.url = url.to_owned();
            attempt.headers = redact::headers(headers, also);
            attempt.body = body;
            attempt.queue_ms = queue_ms;
        }
    }

    /// The upstream's status and headers for the current attempt.
    pub fn upstream_head(&mut self, status: u16, headers: &HeaderMap) {
        if let Some(attempt) = self.attempts.last_mut() {
            attempt.response = Some(RawResponse {
                status,
                headers: redact::headers(headers, &[]),
                body: Bytes::new(),
                chunks: Vec::new(),
            });
        }
    }

    /// A complete upstream body (an answer or an error).
    pub fn upstream_body(&mut self, body: &Bytes) {
        let body = self.bounded(body);
        if let Some(response) = self.attempts.last_mut().and_then(|a| a.response.as_mut()) {
            response.body = body;
        }
    }

    /// A chunk of the upstream's stream, as it arrived.
    pub fn upstream_chunk(&mut self, chunk: &Bytes) {
        if chunk.is_empty() {
            return;
        }
        let at_ms = self.at_ms();
        let data = self.bounded(chunk);
        if data.is_empty() {
            return;
        }
        if let Some(response) = self.attempts.last_mut().and_then(|a| a.response.as_mut()) {
            response.chunks.push((at_ms, data));
        }
    }

    /// The current attempt failed; `next`: what the gateway did then.
    pub fn failed(&mut self, error: &str, next: &str) {
        if let Some(attempt) = self.attempts.last_mut() {
            attempt.error = Some(error.to_owned());
            attempt.next = Some(next.to_owned());
        }
    }

    /// Bytes of the stream sent to the client.
    pub fn client_chunk(&mut self, bytes: &Bytes) {
        if bytes.is_empty() {
            return;
        }
        let at_ms = self.at_ms();
        let data = self.bounded(bytes);
        if !data.is_empty() {
            self.client_chunks.push((at_ms, data));
        }
    }

    /// A complete answer to the client (JSON, or an error).
    pub fn client_answer(&mut self, status: u16, body: &Bytes) {
        self.client_status = status;
        self.client_body = self.bounded(body);
    }

    /// The finished capture of `record`, still as bytes: [`Pending::into_capture`] makes the
    /// text (on the writer's thread).
    pub fn finish(self, id: String, record: &UsageRecord) -> Pending {
        let total_ms = self.at_ms();
        let mut notes = record.notes.clone();
        if self.cut > 0 {
            let cut = format!(
                "capture cut at {} MiB: {} bytes not kept",
                MAX_BYTES >> 20,
                self.cut
            );
            notes = Some(match notes {
                Some(n) => format!("{n}; {cut}"),
                None => cut,
            });
        }
        Pending {
            id,
            started_at_ms: record.started_at_ms,
            profile: record.profile.clone(),
            requested_model: record.requested_model.clone(),
            stream: record.stream,
            rule: record.rule.clone(),
            notes,
            status: record.status.as_str().to_owned(),
            http_status: record.http_status,
            input_tokens: record.usage.input_tokens,
            output_tokens: record.usage.output_tokens,
            ttfb_ms: record.ttft_ms.map(|t| t as f64),
            total_ms,
            trace: self,
        }
    }
}

/// A finished capture on its way to the writer.
pub struct Pending {
    pub id: String,
    started_at_ms: i64,
    profile: String,
    requested_model: String,
    stream: bool,
    rule: Option<String>,
    notes: Option<String>,
    status: String,
    http_status: u16,
    input_tokens: u64,
    output_tokens: u64,
    ttfb_ms: Option<f64>,
    total_ms: f64,
    trace: Trace,
}

impl Pending {
    /// What the client sent (its body) and what it got (a stream's chunks joined), as text.
    pub fn client_texts(&self) -> (String, String) {
        let t = &self.trace;
        let answer = match t.client_chunks.is_empty() {
            true => text(&t.client_body),
            false => t.client_chunks.iter().map(|(_, c)| text(c)).collect(),
        };
        (text(&t.body), answer)
    }

    /// The capture as stored and shown.
    pub fn into_capture(self) -> Capture {
        let t = self.trace;
        let output = self.output_tokens;
        let output_tokens_per_s = match self.ttfb_ms {
            Some(first) if self.total_ms > first && output > 0 => {
                Some(output as f64 / ((self.total_ms - first) / 1000.0))
            }
            _ => None,
        };
        let attempts: Vec<Attempt> = t
            .attempts
            .into_iter()
            .map(|a| Attempt {
                backend: a.backend,
                kind: a.kind,
                upstream_model: a.upstream_model,
                key_name: a.key_name,
                started_ms: a.started_ms,
                queue_ms: a.queue_ms,
                url: a.url,
                headers: a.headers,
                body: text(&a.body),
                response: a.response.map(|r| UpstreamResponse {
                    status: r.status,
                    headers: r.headers,
                    body: text(&r.body),
                    chunks: chunks(r.chunks),
                }),
                error: a.error,
                next: a.next,
            })
            .collect();
        Capture {
            id: self.id,
            started_at_ms: self.started_at_ms,
            profile: self.profile,
            requested_model: self.requested_model,
            stream: self.stream,
            rule: self.rule,
            notes: self.notes,
            status: self.status,
            input_tokens: self.input_tokens,
            output_tokens: output,
            timings: Timings {
                queue_ms: attempts.iter().map(|a| a.queue_ms).sum(),
                ttfb_ms: self.ttfb_ms,
                total_ms: self.total_ms,
                output_tokens_per_s,
            },
            client_request: ClientRequest {
                method: "POST".to_owned(),
                path: t.path,
                headers: t.headers,
                body: text(&t.body),
            },
            attempts,
            client_response: ClientResponse {
                status: match t.client_status {
                    0 => self.http_status,
                    status => status,
                },
                body: text(&t.client_body),
                chunks: chunks(t.client_chunks),
            },
        }
    }
}
