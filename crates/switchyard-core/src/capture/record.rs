//! A captured request as stored, exported (JSONL) and shown by the inspector: what the client
//! sent, each attempt upstream (after routing and translation) and what came back, what the
//! client received, the routing decision and the timings. Headers never carry credentials
//! (see `redact.rs`); bodies are text as they crossed the wire.

use serde::{Deserialize, Serialize};

/// One header as it crossed the wire, or `[redacted]` for a credential.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A piece of a stream and when it arrived, in ms after the request reached the gateway.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimedChunk {
    pub at_ms: f64,
    pub data: String,
}

/// What the client sent.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRequest {
    pub method: String,
    /// Path and query, as received (`/profiles/local/v1/messages?beta=true`).
    pub path: String,
    pub headers: Vec<Header>,
    pub body: String,
}

/// What one upstream answered.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct UpstreamResponse {
    pub status: u16,
    pub headers: Vec<Header>,
    /// A complete body (JSON answer or error); empty for a stream.
    pub body: String,
    /// A stream's chunks as they arrived.
    pub chunks: Vec<TimedChunk>,
}

/// One attempt: a target tried, what was sent and what came back.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub backend: String,
    pub kind: String,
    pub upstream_model: String,
    /// The key of the backend's pool it was sent with, by name.
    pub key_name: Option<String>,
    /// When it started, in ms after the request reached the gateway.
    pub started_ms: f64,
    /// Time waiting for the backend's `max_in_flight` slot.
    pub queue_ms: f64,
    pub url: String,
    pub headers: Vec<Header>,
    pub body: String,
    /// `None` when nothing came back (unreachable, timed out).
    pub response: Option<UpstreamResponse>,
    /// Why the attempt failed, as the gateway told it, and what it did next.
    pub error: Option<String>,
    pub next: Option<String>,
}

/// What the client received.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ClientResponse {
    pub status: u16,
    pub body: String,
    pub chunks: Vec<TimedChunk>,
}

/// How long things took, in ms (tokens per second over the generation, after the first byte).
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Timings {
    pub queue_ms: f64,
    pub ttfb_ms: Option<f64>,
    pub total_ms: f64,
    pub output_tokens_per_s: Option<f64>,
}

/// A whole captured request.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// What `switchyard replay` and the usage row name it by.
    pub id: String,
    pub started_at_ms: i64,
    pub profile: String,
    pub requested_model: String,
    pub stream: bool,
    /// The rule that routed it, in words, and what the gateway noted on the way.
    pub rule: Option<String>,
    pub notes: Option<String>,
    pub status: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub client_request: ClientRequest,
    pub attempts: Vec<Attempt>,
    pub client_response: ClientResponse,
    pub timings: Timings,
}

/// A capture in a list: enough to find it without reading its bodies.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureSummary {
    pub id: String,
    pub started_at_ms: i64,
    /// Its size in the database (compressed), in bytes.
    pub stored_bytes: u64,
}
