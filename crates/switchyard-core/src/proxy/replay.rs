//! Replaying a captured request: the client's request sent again through the gateway
//! in-process, to another target or profile, and both answers side by side (latency, tokens,
//! cost). A replay is recorded in the usage history like any request (its rule reads
//! `replay to BACKEND/MODEL`), and captured when capture is on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use super::Inbound;
use crate::capture::{self, Capture, CaptureError, CaptureOpError, Captures};
use crate::config::TargetSpec;
use crate::gateway::{Gateway, ROUTE_TEST_HEADER};

/// Where a replay goes.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayTo {
    /// One backend, with this upstream model (`None`: the requested name unchanged).
    Target {
        backend: String,
        model: Option<String>,
    },
    /// Routed by this profile's rules.
    Profile(String),
}

impl ReplayTo {
    /// `BACKEND[:MODEL]` as the CLI takes it.
    pub fn parse_target(text: &str) -> ReplayTo {
        match text.split_once(':') {
            Some((backend, model)) if !model.is_empty() => ReplayTo::Target {
                backend: backend.to_owned(),
                model: Some(model.to_owned()),
            },
            _ => ReplayTo::Target {
                backend: text.trim_end_matches(':').to_owned(),
                model: None,
            },
        }
    }
}

/// One side of a replay: who answered, what, how fast, for how much.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayAnswer {
    pub backend: Option<String>,
    pub upstream_model: Option<String>,
    pub status: u16,
    /// The answer's text (tool calls as `[tool_use NAME {input}]`), or the error's message.
    pub text: String,
    pub latency_ms: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// `None`: the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// The capture of this answer, when it was captured.
    pub capture_id: Option<String>,
}

#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayReport {
    pub original: ReplayAnswer,
    pub replay: ReplayAnswer,
    /// Said when the replay differs from the original in how it was sent (a stream replayed
    /// whole).
    pub note: Option<String>,
}

/// A replay waits this long for its answer.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(600);
/// A replayed answer is read up to this size.
const ANSWER_LIMIT: usize = 64 << 20;

/// What an answer says, in text: a Messages JSON or an error envelope.
fn answer_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        content: Vec<serde_json::Value>,
        error: Option<ErrorBody>,
    }
    #[derive(Deserialize)]
    struct ErrorBody {
        message: String,
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer {
            error: Some(error), ..
        }) => error.message,
        Ok(answer) => blocks_text(&answer.content),
        Err(_) => String::from_utf8_lossy(body).chars().take(2000).collect(),
    }
}

fn blocks_text(blocks: &[serde_json::Value]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block.get("type").and_then(|t| t.as_str()) {
            Some("text") => out.push_str(block.get("text").and_then(|t| t.as_str()).unwrap_or("")),
            Some("tool_use") => out.push_str(&format!(
                "[tool_use {} {}]",
                block.get("name").and_then(|n| n.as_str()).unwrap_or("?"),
                block.get("input").cloned().unwrap_or_default()
            )),
            _ => {}
        }
    }
    out
}

/// The text a client got from a stream: text deltas and tool calls, from the SSE chunks.
fn stream_text(chunks: &[capture::TimedChunk]) -> String {
    let mut out = String::new();
    let mut tool_json = String::new();
    let whole: String = chunks.iter().map(|c| c.data.as_str()).collect();
    for line in whole.lines() {
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let Ok(event) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
            continue;
        };
        match event.get("type").and_then(|t| t.as_str()) {
            Some("content_block_start") => {
                if let Some(block) = event.get("content_block")
                    && block.get("type").and_then(|t| t.as_str()) == Some("tool_use")
                {
                    let name = block.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                    out.push_str(&format!("[tool_use {name} "));
                    tool_json.clear();
                }
            }
            Some("content_block_delta") => {
                let delta = event.get("delta");
                if let Some(text) = delta.and_then(|d| d.get("text")).and_then(|t| t.as_str()) {
                    out.push_str(text);
                }
                if let Some(part) = delta
                    .and_then(|d| d.get("partial_json"))
                    .and_then(|t| t.as_str())
                {
                    tool_json.push_str(part);
                }
            }
            Some("content_block_stop") if out.ends_with(' ') && out.contains("[tool_use ") => {
                out.push_str(&tool_json);
                out.push(']');
            }
            Some("error") => {
                if let Some(message) = event
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(|m| m.as_str())
                {
                    out.push_str(message);
                }
            }
            _ => {}
        }
    }
    out
}

/// The request's body with `stream` off: a replay is compared whole.
fn whole_body(body: &str) -> Result<(Bytes, bool), CaptureOpError> {
    let mut value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body)
        .map_err(|err| CaptureOpError::BadRequest(format!("its body is not JSON ({err})")))?;
    let was_stream = value.get("stream").and_then(|s| s.as_bool()) == Some(true);
    value.remove("stream");
    let bytes =
        serde_json::to_vec(&value).map_err(|err| CaptureOpError::BadRequest(err.to_string()))?;
    Ok((Bytes::from(bytes), was_stream))
}

/// The client's headers a replay sends again: the API version and betas (credentials were
/// never captured; the gateway call is in-process and needs none).
fn replay_headers(capture: &Capture) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for header in &capture.client_request.headers {
        let name = header.name.to_ascii_lowercase();
        if name.starts_with("anthropic-")
            && header.value != capture::REDACTED
            && let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&header.value),
            )
        {
            headers.append(name, value);
        }
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers
}

/// Run `f` on a connection to the captures' database, on the blocking pool, once what was
/// captured so far is stored.
pub async fn read<T: Send + 'static>(
    store: Arc<Captures>,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, CaptureError> + Send + 'static,
) -> Result<T, CaptureOpError> {
    tokio::task::spawn_blocking(move || {
        store.flush();
        let conn =
            capture::open(store.path()).map_err(|err| CaptureOpError::Internal(err.to_string()))?;
        f(&conn).map_err(CaptureOpError::from)
    })
    .await
    .map_err(|err| CaptureOpError::Internal(err.to_string()))?
}

/// Send a captured request again, to `to`, and put both answers side by side. The
/// replay goes through the gateway in-process, recorded in the usage history like any
/// request (its rule reads `replay to BACKEND/MODEL`).
pub async fn replay(
    gateway: &Arc<Gateway>,
    id: &str,
    to: ReplayTo,
) -> Result<ReplayReport, CaptureOpError> {
    let store = gateway
        .captures()
        .cloned()
        .ok_or(CaptureOpError::Unavailable)?;
    let original = {
        let (store, id) = (store.clone(), id.to_owned());
        read(store, move |conn| capture::get(conn, &id)).await?
    };
    let config = gateway.config();
    let (profile, target) = match &to {
        ReplayTo::Target { backend, model } => {
            if config.backend(backend).is_none() {
                return Err(CaptureOpError::NoBackend(backend.clone()));
            }
            let target = TargetSpec {
                backend: backend.clone(),
                model: model.clone(),
                weight: None,
                vision: None,
            };
            (None, Some(target))
        }
        ReplayTo::Profile(name) => {
            if !config.profiles.contains_key(name) {
                return Err(CaptureOpError::NoProfile(name.clone()));
            }
            (Some(name.clone()), None)
        }
    };
    let (body, was_stream) = whole_body(&original.client_request.body)?;
    let mut headers = replay_headers(&original);
    let test_id = format!("replay-{:016x}", rand::random::<u64>());
    if let Ok(value) = HeaderValue::from_str(&test_id) {
        headers.insert(ROUTE_TEST_HEADER, value);
    }
    let record = gateway.expect_route_test(&test_id);
    let query = original
        .client_request
        .path
        .split_once('?')
        .map(|(_, q)| q.to_owned());
    let inbound = Inbound {
        headers,
        query,
        profile,
        target,
    };
    let started = Instant::now();
    let gateway_for_request = gateway.clone();
    let response = tokio::time::timeout(
        REPLAY_TIMEOUT,
        super::messages(gateway_for_request, inbound, body),
    )
    .await
    .map_err(|_| CaptureOpError::Internal("the replay got no answer within 10 minutes".into()))?;
    let status = response.status().as_u16();
    let answer = axum::body::to_bytes(response.into_body(), ANSWER_LIMIT)
        .await
        .map_err(|err| {
            CaptureOpError::Internal(format!("the replay's answer could not be read: {err}"))
        })?;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let record = tokio::time::timeout(Duration::from_secs(5), record)
        .await
        .ok()
        .and_then(Result::ok);
    if record.is_none() {
        gateway.forget_route_test(&test_id);
    }
    let pricer = crate::usage::Pricer::from_config(&config);
    let row = record.map(|r| crate::usage::RequestRow::from(pricer.price(r)));
    let replay = ReplayAnswer {
        backend: row.as_ref().and_then(|r| r.backend.clone()),
        upstream_model: row.as_ref().and_then(|r| r.upstream_model.clone()),
        status,
        text: answer_text(&answer),
        latency_ms,
        input_tokens: row.as_ref().map_or(0, |r| r.input_tokens),
        output_tokens: row.as_ref().map_or(0, |r| r.output_tokens),
        cost_usd: row.as_ref().and_then(|r| r.cost_usd),
        capture_id: row.as_ref().and_then(|r| r.capture_id.clone()),
    };
    let original_cost = {
        let id = original.id.clone();
        read(store, move |conn| {
            Ok(conn
                .query_row(
                    "SELECT cost_usd FROM requests WHERE capture_id = ?1",
                    [id],
                    |r| r.get::<_, Option<f64>>(0),
                )
                .unwrap_or(None))
        })
        .await
        .unwrap_or(None)
    };
    let last = original.attempts.last();
    let text = match original.stream {
        true => stream_text(&original.client_response.chunks),
        false => answer_text(original.client_response.body.as_bytes()),
    };
    Ok(ReplayReport {
        original: ReplayAnswer {
            backend: last.map(|a| a.backend.clone()),
            upstream_model: last.map(|a| a.upstream_model.clone()),
            status: original.client_response.status,
            text,
            latency_ms: original.timings.total_ms.round() as u64,
            input_tokens: original.input_tokens,
            output_tokens: original.output_tokens,
            cost_usd: original_cost,
            capture_id: Some(original.id.clone()),
        },
        replay,
        note: was_stream.then(|| {
            "The original was streamed; the replay asks for the whole answer at once, so its latency is the full answer's".to_owned()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_backend_and_optional_model() {
        assert_eq!(
            ReplayTo::parse_target("oa:gpt-4.1"),
            ReplayTo::Target {
                backend: "oa".into(),
                model: Some("gpt-4.1".into())
            }
        );
        assert_eq!(
            ReplayTo::parse_target("ollama:qwen3:8b"),
            ReplayTo::Target {
                backend: "ollama".into(),
                model: Some("qwen3:8b".into())
            }
        );
        assert_eq!(
            ReplayTo::parse_target("anthropic"),
            ReplayTo::Target {
                backend: "anthropic".into(),
                model: None
            }
        );
    }

    #[test]
    fn the_text_of_a_stream_and_of_a_whole_answer_agree() {
        let whole = br#"{"content":[{"type":"text","text":"Hi "},{"type":"tool_use","name":"Read","input":{"p":1}}]}"#;
        assert_eq!(answer_text(whole), r#"Hi [tool_use Read {"p":1}]"#);
        let sse = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \"}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"name\":\"Read\",\"input\":{}}}\n\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"p\\\":1}\"}}\n\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n";
        // Split anywhere: the chunks are joined before reading.
        let (a, b) = sse.split_at(100);
        let chunks = [a, b].map(|d| capture::TimedChunk {
            at_ms: 0.0,
            data: d.to_owned(),
        });
        assert_eq!(stream_text(&chunks), r#"Hi [tool_use Read {"p":1}]"#);
        assert_eq!(
            answer_text(br#"{"type":"error","error":{"type":"api_error","message":"down"}}"#),
            "down"
        );
    }

    #[test]
    fn a_replay_asks_for_the_whole_answer() {
        let (body, was) = whole_body(r#"{"model":"m","stream":true,"max_tokens":5}"#).unwrap();
        assert!(was);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value.get("stream"), None);
        assert_eq!(value["max_tokens"], 5);
        assert!(whole_body("not json").is_err());
    }
}
