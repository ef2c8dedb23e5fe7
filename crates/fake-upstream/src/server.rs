//! The HTTP side: `/v1/messages` (JSON or SSE), `/v1/messages/count_tokens`, `/v1/models`, and
//! `/__fake/stats`, the counters a test reads to check what reached the upstream.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::Serialize;

use crate::script::{self, Script};
use crate::wire::{AGENT_TOOLS, ErrorEnvelope, Request, TokenCount};

/// How long a cut stream waits after its first events before it dies.
const CUT_DELAY: std::time::Duration = std::time::Duration::from_millis(20);

/// How many distinct ids (agents, sessions) or tool results the stats keep: enough for a
/// test, bounded for a benchmark's millions of requests.
const KEPT: usize = 32;

/// How much of each subagent answer the stats keep.
const KEPT_CHARS: usize = 300;

/// Which of Claude Code's agents sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Agent {
    Main,
    Subagent,
}

/// The model ids `GET /v1/models` lists.
pub const MODELS: &[&str] = &["claude-sonnet-4-5", "claude-haiku-4-5"];

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Answer 401 unless `x-api-key` is exactly this (checks the gateway's key injection).
    pub expect_key: Option<String>,
    /// Answer 400 unless `model` is exactly this (checks the gateway's model rewrite).
    pub expect_model: Option<String>,
    /// Answer 400 unless the request comes from this agent (checks the gateway's agent rules).
    pub expect_agent: Option<Agent>,
    pub script: Script,
    /// Print one line per request on stderr.
    pub log: bool,
}

/// What reached the fake so far.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub messages: u64,
    pub streamed: u64,
    pub count_tokens: u64,
    pub tool_uses_sent: u64,
    pub tool_results_seen: u64,
    pub key_mismatches: u64,
    pub model_mismatches: u64,
    pub bad_requests: u64,
    /// Requests whose query string carried `beta=true` (Claude Code sends it).
    pub beta_queries: u64,
    /// Requests that carried the client's `Authorization` header: a gateway must never forward it.
    pub leaked_authorization: u64,
    pub models: Vec<String>,
    pub largest_body: usize,
    /// Streams cut mid-answer on purpose ([`script::CUT_MARKER`]).
    pub cut_streams: u64,
    /// Requests (messages and count_tokens) a subagent sent: with an `x-claude-code-agent-id`
    /// or `x-claude-code-parent-agent-id` header, or `cc_is_subagent=true` in the first
    /// system block.
    pub subagent_requests: u64,
    /// Requests with an `x-claude-code-agent-id` header.
    pub agent_id_headers: u64,
    /// Requests whose first system block says `cc_is_subagent=true`.
    pub subagent_attributions: u64,
    /// Requests from another agent than `expect_agent` (answered 400): misrouted.
    pub agent_mismatches: u64,
    /// Requests without an `x-claude-code-session-id` header.
    pub without_session: u64,
    /// Distinct values of `x-claude-code-agent-id`, in order of arrival.
    pub agent_ids: Vec<String>,
    /// Distinct values of `x-claude-code-parent-agent-id`.
    pub parent_agent_ids: Vec<String>,
    /// Distinct values of `x-claude-code-session-id`.
    pub session_ids: Vec<String>,
    /// Distinct `session_id`s inside `metadata.user_id`.
    pub metadata_session_ids: Vec<String>,
    /// Subagent-tool calls answered ([`Script::spawn_agent`]).
    pub agent_calls_sent: u64,
    /// The start of each result of a subagent-tool call the main loop sent back: the
    /// subagent's answer.
    pub agent_results: Vec<String>,
}

fn keep(list: &mut Vec<String>, value: String) {
    if list.len() < KEPT && !list.contains(&value) {
        list.push(value);
    }
}

struct Shared {
    options: Options,
    stats: Mutex<Stats>,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(options: Options) -> Router {
    let shared = Arc::new(Shared {
        options,
        stats: Mutex::new(Stats::default()),
    });
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .route("/v1/models", get(models))
        .route("/__fake/stats", get(stats))
        .route("/", get(|| async { "fake-upstream" }))
        .with_state(shared)
}

/// Serve on `listener` until the task is dropped or the process ends. Events are written as
/// they are produced (TCP_NODELAY), as a real streaming upstream does.
pub async fn serve(listener: tokio::net::TcpListener, options: Options) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router(options)).await
}

fn error(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(ErrorEnvelope::new(
            kind,
            format!("fake-upstream: {}", message.into()),
        )),
    )
        .into_response()
}

/// The checks every request passes; `Err` is the answer to send instead.
fn check(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Request, Box<Response>> {
    let mut stats = shared.stats();
    stats.largest_body = stats.largest_body.max(body.len());
    if uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "beta=true"))
    {
        stats.beta_queries += 1;
    }
    if headers.contains_key(header::AUTHORIZATION) {
        stats.leaked_authorization += 1;
    }
    check_key(&shared.options, &mut stats, headers)?;
    let req: Request = match serde_json::from_slice(body) {
        Ok(req) => req,
        Err(err) => {
            stats.bad_requests += 1;
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("unreadable body: {err}"),
            )));
        }
    };
    if !stats.models.contains(&req.model) {
        stats.models.push(req.model.clone());
    }
    let agent = record_agent(&mut stats, headers, &req);
    if let Some(expected) = &shared.options.expect_model
        && &req.model != expected
    {
        stats.model_mismatches += 1;
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("model {:?} is not {expected:?}", req.model),
        )));
    }
    if let Some(expected) = shared.options.expect_agent
        && agent != expected
    {
        stats.agent_mismatches += 1;
        return Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("a request from the {agent:?} agent reached the {expected:?} agent's upstream"),
        )));
    }
    Ok(req)
}

/// Counts what Claude Code says about the sending agent and session; returns the agent.
fn record_agent(stats: &mut Stats, headers: &HeaderMap, req: &Request) -> Agent {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let agent_id = text("x-claude-code-agent-id");
    let parent_id = text("x-claude-code-parent-agent-id");
    let attribution = req.subagent_attribution();
    match text("x-claude-code-session-id") {
        Some(session) => keep(&mut stats.session_ids, session),
        None => stats.without_session += 1,
    }
    if let Some(session) = req.metadata_session_id() {
        keep(&mut stats.metadata_session_ids, session);
    }
    stats.subagent_attributions += u64::from(attribution);
    let subagent = attribution || agent_id.is_some() || parent_id.is_some();
    if let Some(id) = agent_id {
        stats.agent_id_headers += 1;
        keep(&mut stats.agent_ids, id);
    }
    if let Some(id) = parent_id {
        keep(&mut stats.parent_agent_ids, id);
    }
    if subagent {
        stats.subagent_requests += 1;
        Agent::Subagent
    } else {
        Agent::Main
    }
}

/// Answers 401 unless `x-api-key` is the expected key (when one is expected).
fn check_key(
    options: &Options,
    stats: &mut Stats,
    headers: &HeaderMap,
) -> Result<(), Box<Response>> {
    if let Some(expected) = &options.expect_key {
        let got = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        if got != Some(expected.as_str()) {
            stats.key_mismatches += 1;
            let what = if got.is_some() { "wrong" } else { "missing" };
            return Err(Box::new(error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                format!("{what} x-api-key"),
            )));
        }
    }
    Ok(())
}

/// `GET /v1/models`: [`MODELS`], behind the same key check as the messages.
async fn models(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(response) = check_key(&shared.options, &mut shared.stats(), &headers) {
        return *response;
    }
    let data: Vec<_> = MODELS
        .iter()
        .map(|id| serde_json::json!({ "type": "model", "id": id, "display_name": id }))
        .collect();
    axum::Json(serde_json::json!({ "data": data, "has_more": false })).into_response()
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match check(&shared, &uri, &headers, &body) {
        Ok(req) => req,
        Err(response) => return *response,
    };
    let reply = shared.options.script.reply(&req);
    let results = req.last_tool_results();
    let called = match &reply {
        script::Reply::ToolCall { name, .. } => Some(name.as_str()),
        script::Reply::Text(_) => None,
    };
    let serial = {
        let mut stats = shared.stats();
        stats.messages += 1;
        stats.streamed += u64::from(req.stream);
        stats.tool_results_seen += results.len() as u64;
        stats.tool_uses_sent += u64::from(called.is_some());
        stats.agent_calls_sent += u64::from(called.is_some_and(|n| AGENT_TOOLS.contains(&n)));
        for answer in req.last_results_of(AGENT_TOOLS) {
            keep(
                &mut stats.agent_results,
                answer.chars().take(KEPT_CHARS).collect(),
            );
        }
        stats.messages
    };
    if shared.options.log {
        eprintln!(
            "fake-upstream: POST {uri} model={} stream={} body={}B tools={} tool_results={} agent={} -> {}",
            req.model,
            req.stream,
            body.len(),
            req.tools.len(),
            results.len(),
            headers
                .get("x-claude-code-agent-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or(if req.subagent_attribution() {
                    "subagent"
                } else {
                    "main"
                }),
            called.map_or_else(|| "text".to_owned(), |name| format!("{name} call")),
        );
    }
    let input_tokens = (body.len() as u64).div_ceil(4);
    if !req.stream {
        return axum::Json(script::message(&reply, &req.model, serial, input_tokens))
            .into_response();
    }
    let events = match script::events(&reply, &req.model, serial, input_tokens) {
        Ok(events) => events,
        Err(err) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                err.to_string(),
            );
        }
    };
    let cut = req.last_user_text_contains(script::CUT_MARKER);
    let mut chunks = Vec::with_capacity(events.len() + 1);
    for event in &events {
        match event.to_sse() {
            Ok(bytes) => chunks.push(Ok::<_, std::io::Error>(Bytes::from(bytes))),
            Err(err) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "api_error",
                    err.to_string(),
                );
            }
        }
    }
    let headers = [
        (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    if !cut {
        return (headers, Body::from_stream(futures::stream::iter(chunks))).into_response();
    }
    shared.stats().cut_streams += 1;
    chunks.truncate(script::CUT_AFTER_EVENTS);
    // The first events go out (hyper flushes while the body waits), then the body fails and
    // hyper drops the connection mid-stream. Failing at once instead would drop the events
    // still in hyper's buffer too: the gateway would see a refused request, not a cut stream.
    let die = futures::stream::once(async {
        tokio::time::sleep(CUT_DELAY).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fake-upstream: the stream is cut on purpose",
        ))
    });
    (
        headers,
        Body::from_stream(futures::stream::iter(chunks).chain(die)),
    )
        .into_response()
}

async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check(&shared, &uri, &headers, &body) {
        return *response;
    }
    shared.stats().count_tokens += 1;
    axum::Json(TokenCount {
        input_tokens: (body.len() as u64).div_ceil(4),
    })
    .into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> axum::Json<Stats> {
    axum::Json(shared.stats().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(expect_agent: Option<Agent>) -> Shared {
        Shared {
            options: Options {
                expect_agent,
                ..Options::default()
            },
            stats: Mutex::new(Stats::default()),
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, value.parse().unwrap());
        }
        h
    }

    const PLAIN: &[u8] = br#"{"model":"m","system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197;"}],"messages":[{"role":"user","content":"go"}]}"#;
    const ATTRIBUTED: &[u8] = br#"{"model":"m","system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197; cc_is_subagent=true;"}],"messages":[{"role":"user","content":"go"}]}"#;

    #[test]
    fn a_subagent_request_at_the_main_agents_upstream_is_refused_and_counted() {
        let uri = Uri::from_static("/v1/messages");
        let main = shared(Some(Agent::Main));
        let session = ("x-claude-code-session-id", "s-1");
        assert!(check(&main, &uri, &headers(&[session]), PLAIN).is_ok());
        let with_id = headers(&[session, ("x-claude-code-agent-id", "a-1")]);
        assert!(check(&main, &uri, &with_id, PLAIN).is_err());
        assert!(check(&main, &uri, &headers(&[]), ATTRIBUTED).is_err());
        let stats = main.stats().clone();
        assert_eq!(stats.agent_mismatches, 2);
        assert_eq!(stats.subagent_requests, 2);
        assert_eq!(stats.agent_id_headers, 1);
        assert_eq!(stats.subagent_attributions, 1);
        assert_eq!(stats.agent_ids, ["a-1"]);
        assert_eq!(stats.session_ids, ["s-1"]);
        assert_eq!(stats.without_session, 1);
    }

    #[test]
    fn the_subagents_upstream_takes_either_mark_and_refuses_the_main_agent() {
        let uri = Uri::from_static("/v1/messages");
        let sub = shared(Some(Agent::Subagent));
        let nested = headers(&[("x-claude-code-parent-agent-id", "a-0")]);
        assert!(check(&sub, &uri, &nested, PLAIN).is_ok());
        assert!(check(&sub, &uri, &headers(&[]), ATTRIBUTED).is_ok());
        assert!(check(&sub, &uri, &headers(&[]), PLAIN).is_err());
        let stats = sub.stats().clone();
        assert_eq!(stats.agent_mismatches, 1);
        assert_eq!(stats.parent_agent_ids, ["a-0"]);
        // Without an expectation, nothing is refused.
        assert!(check(&shared(None), &uri, &headers(&[]), ATTRIBUTED).is_ok());
    }
}
