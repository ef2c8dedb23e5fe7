//! A capture in the making: the recorder holds one while a captured request runs, the send
//! step and the relay add to it, and the recorder turns it into a [`Capture`] when the
//! request is recorded. Everything kept is bounded (`MAX_BYTES` per capture): past it,
//! further chunks are counted, not kept.

use std::time::Instant;

use http::HeaderMap;

use super::record::{
    Attempt, Capture, ClientRequest, ClientResponse, TimedChunk, Timings, UpstreamResponse,
};
use super::redact;
use crate::usage::UsageRecord;

/// The most one capture keeps of bodies and chunks together.
pub const MAX_BYTES: usize = 16 << 20;

pub struct Trace {
    started: Instant,
    client_request: ClientRequest,
    attempts: Vec<Attempt>,
    client: ClientResponse,
    kept: usize,
    /// Bytes seen past `MAX_BYTES`, not kept.
    cut: usize,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Trace {
    /// The client's request as it arrived (`started`: when the gateway got it).
    pub fn new(started: Instant, path: &str, headers: &HeaderMap, body: &[u8]) -> Self {
        let mut trace = Trace {
            started,
            client_request: ClientRequest {
                method: "POST".to_owned(),
                path: path.to_owned(),
                headers: redact::headers(headers, &[]),
                body: String::new(),
            },
            attempts: Vec::new(),
            client: ClientResponse::default(),
            kept: 0,
            cut: 0,
        };
        trace.client_request.body = trace.bounded(body);
        trace
    }

    fn at_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    /// `bytes` as text when the capture has room for them, else nothing (counted).
    fn bounded(&mut self, bytes: &[u8]) -> String {
        if self.kept + bytes.len() > MAX_BYTES {
            self.cut += bytes.len();
            return String::new();
        }
        self.kept += bytes.len();
        text(bytes)
    }

    /// A new attempt at a target.
    pub fn attempt(&mut self, backend: &str, kind: &str, model: &str, key_name: Option<&str>) {
        let started_ms = self.at_ms();
        self.attempts.push(Attempt {
            backend: backend.to_owned(),
            kind: kind.to_owned(),
            upstream_model: model.to_owned(),
            key_name: key_name.map(str::to_owned),
            started_ms,
            queue_ms: 0.0,
            url: String::new(),
            headers: Vec::new(),
            body: String::new(),
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
        body: &[u8],
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
            attempt.response = Some(UpstreamResponse {
                status,
                headers: redact::headers(headers, &[]),
                ..UpstreamResponse::default()
            });
        }
    }

    /// A complete upstream body (an answer or an error).
    pub fn upstream_body(&mut self, body: &[u8]) {
        let body = self.bounded(body);
        if let Some(response) = self.attempts.last_mut().and_then(|a| a.response.as_mut()) {
            response.body = body;
        }
    }

    /// A chunk of the upstream's stream, as it arrived.
    pub fn upstream_chunk(&mut self, chunk: &[u8]) {
        let at_ms = self.at_ms();
        let data = self.bounded(chunk);
        if data.is_empty() {
            return;
        }
        if let Some(response) = self.attempts.last_mut().and_then(|a| a.response.as_mut()) {
            response.chunks.push(TimedChunk { at_ms, data });
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
    pub fn client_chunk(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let at_ms = self.at_ms();
        let data = self.bounded(bytes);
        if !data.is_empty() {
            self.client.chunks.push(TimedChunk { at_ms, data });
        }
    }

    /// A complete answer to the client (JSON, or an error).
    pub fn client_answer(&mut self, status: u16, body: &[u8]) {
        self.client.status = status;
        self.client.body = self.bounded(body);
    }

    /// The capture of the finished request `record`.
    pub fn finish(mut self, id: String, record: &UsageRecord) -> Capture {
        if self.client.status == 0 {
            self.client.status = record.http_status;
        }
        let total_ms = self.at_ms();
        let ttfb_ms = record.ttft_ms.map(|t| t as f64);
        let output = record.usage.output_tokens;
        let output_tokens_per_s = match ttfb_ms {
            Some(first) if total_ms > first && output > 0 => {
                Some(output as f64 / ((total_ms - first) / 1000.0))
            }
            _ => None,
        };
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
        Capture {
            id,
            started_at_ms: record.started_at_ms,
            profile: record.profile.clone(),
            requested_model: record.requested_model.clone(),
            stream: record.stream,
            rule: record.rule.clone(),
            notes,
            status: record.status.as_str().to_owned(),
            input_tokens: record.usage.input_tokens,
            output_tokens: output,
            timings: Timings {
                queue_ms: self.attempts.iter().map(|a| a.queue_ms).sum(),
                ttfb_ms,
                total_ms,
                output_tokens_per_s,
            },
            client_request: self.client_request,
            attempts: self.attempts,
            client_response: self.client,
        }
    }
}
