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
    /// Be Claude on Bedrock or Vertex instead of Anthropic's API (`cloud.rs`).
    pub cloud: Option<crate::cloud::Cloud>,
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
    /// Cloud modes: requests refused for their URL or body shape (a body with `model`, the
    /// wrong `anthropic_version`, ...).
    pub shape_mismatches: u64,
    /// Vertex mode: token exchanges answered, and those refused.
    pub token_exchanges: u64,
    pub tokens_refused: u64,
    /// Cloud modes: the distinct request paths, as received (still percent-encoded).
    pub paths: Vec<String>,
    /// Cloud modes: why the last refused request was refused.
    pub last_refusal: Option<String>,
}

fn keep(list: &mut Vec<String>, value: String) {
    if list.len() < KEPT && !list.contains(&value) {
        list.push(value);
    }
}

struct Shared {
    options: Options,
    stats: Mutex<Stats>,
    /// Vertex mode: the access tokens issued.
    issued: Mutex<Vec<String>>,
}

impl Shared {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn router(options: Options) -> Router {
    let cloud = options.cloud.is_some();
    let shared = Arc::new(Shared {
        options,
        stats: Mutex::new(Stats::default()),
        issued: Mutex::new(Vec::new()),
    });
    if cloud {
        // Cloud paths hold `:` and encoded ids: one handler reads them.
        return Router::new()
            .route("/__fake/stats", get(stats))
            .fallback(cloud_request)
            .with_state(shared);
    }
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
    accept(shared, &mut stats, headers, req)
}

/// The checks on a readable request: its model and the agent that sent it.
fn accept(
    shared: &Shared,
    stats: &mut Stats,
    headers: &HeaderMap,
    req: Request,
) -> Result<Request, Box<Response>> {
    if !stats.models.contains(&req.model) {
        stats.models.push(req.model.clone());
    }
    let agent = record_agent(stats, headers, &req);
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
    answer(&shared, &uri, &headers, &req, body.len(), Framing::Sse)
}

/// How a streamed answer is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Anthropic's (and Vertex's) server-sent events.
    Sse,
    /// Bedrock's AWS event stream of `chunk` frames.
    EventStream,
}

/// The script's answer to an accepted request, counted, as JSON or a stream.
fn answer(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    req: &Request,
    body_len: usize,
    framing: Framing,
) -> Response {
    let reply = shared.options.script.reply(req);
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
            body_len,
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
    let input_tokens = (body_len as u64).div_ceil(4);
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
    if framing == Framing::EventStream {
        for event in &events {
            let framed = serde_json::to_vec(event)
                .map_err(|e| e.to_string())
                .and_then(|json| crate::cloud::chunk_frame(&json));
            match framed {
                Ok(bytes) => chunks.push(Ok::<_, std::io::Error>(Bytes::from(bytes))),
                Err(err) => {
                    return error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", err);
                }
            }
        }
        let headers = [
            (header::CONTENT_TYPE, "application/vnd.amazon.eventstream"),
            (
                header::HeaderName::from_static("x-amzn-bedrock-content-type"),
                "application/json",
            ),
        ];
        return (headers, Body::from_stream(futures::stream::iter(chunks))).into_response();
    }
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

/// A cloud's error answer, counted: AWS's (`x-amzn-errortype` and `{"message"}`) or
/// Google's (`{"error":{"code","message","status"}}`).
fn refuse(shared: &Shared, status: StatusCode, name: &str, why: String) -> Response {
    shared.stats().last_refusal = Some(why.clone());
    if shared.options.log {
        eprintln!("fake-upstream: refused ({status}): {why}");
    }
    match &shared.options.cloud {
        Some(crate::cloud::Cloud::Vertex(_)) => (
            status,
            axum::Json(serde_json::json!({
                "error": {"code": status.as_u16(), "message": format!("fake-upstream: {why}"), "status": name}
            })),
        )
            .into_response(),
        _ => (
            status,
            [(header::HeaderName::from_static("x-amzn-errortype"), name.to_owned())],
            axum::Json(serde_json::json!({ "message": format!("fake-upstream: {why}") })),
        )
            .into_response(),
    }
}

/// Every request in a cloud mode (see `cloud.rs`).
async fn cloud_request(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    use crate::cloud::{self, Cloud};
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    {
        let mut stats = shared.stats();
        stats.largest_body = stats.largest_body.max(body.len());
        keep(&mut stats.paths, uri.path().to_owned());
    }
    let Some(cloud) = shared.options.cloud.clone() else {
        return refuse(
            &shared,
            StatusCode::NOT_FOUND,
            "NotFound",
            "not a cloud".to_owned(),
        );
    };
    let (model, stream, version, stream_in_body) = match &cloud {
        Cloud::Bedrock(auth) => {
            if let Err(why) =
                cloud::check_bedrock_auth(auth, method.as_str(), &path, &headers, &body)
            {
                shared.stats().key_mismatches += 1;
                return refuse(
                    &shared,
                    StatusCode::FORBIDDEN,
                    "InvalidSignatureException",
                    why,
                );
            }
            if method == axum::http::Method::GET && uri.path() == "/foundation-models" {
                return axum::Json(serde_json::json!({"modelSummaries": [
                    {"modelId": "anthropic.claude-sonnet-4-5-20250929-v1:0", "providerName": "Anthropic"},
                    {"modelId": "anthropic.claude-haiku-4-5-20251001-v1:0", "providerName": "Anthropic"},
                ]}))
                .into_response();
            }
            let Some((model, stream)) =
                cloud::invoke_path(uri.path()).filter(|_| method == axum::http::Method::POST)
            else {
                shared.stats().shape_mismatches += 1;
                return refuse(
                    &shared,
                    StatusCode::NOT_FOUND,
                    "UnknownOperationException",
                    format!("not an InvokeModel URL: {method} {path}"),
                );
            };
            (model, stream, "bedrock-2023-05-31", false)
        }
        Cloud::Vertex(account) => {
            if uri.path() == "/token" && method == axum::http::Method::POST {
                let host = headers
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let token_uri = format!("http://{host}/token");
                let checked =
                    cloud::check_assertion(account, &String::from_utf8_lossy(&body), &token_uri);
                shared.stats().token_exchanges += 1;
                return match checked {
                    Ok(()) => {
                        let token = {
                            let mut issued =
                                shared.issued.lock().unwrap_or_else(|e| e.into_inner());
                            let token = format!("ya29.fake-upstream-{}", issued.len() + 1);
                            issued.push(token.clone());
                            token
                        };
                        axum::Json(serde_json::json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})).into_response()
                    }
                    Err(why) => {
                        let mut stats = shared.stats();
                        stats.tokens_refused += 1;
                        stats.last_refusal = Some(why.clone());
                        (StatusCode::BAD_REQUEST, axum::Json(serde_json::json!({"error": "invalid_grant", "error_description": why}))).into_response()
                    }
                };
            }
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let issued = bearer.is_some_and(|t| {
                shared
                    .issued
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .any(|i| i == t)
            });
            if !issued {
                shared.stats().key_mismatches += 1;
                return refuse(
                    &shared,
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHENTICATED",
                    "not a token this fake issued".to_owned(),
                );
            }
            // The backend check's cheap call: the project's endpoints, with the token.
            let endpoints = format!(
                "/v1/projects/{}/locations/{}/endpoints",
                account.project, account.region
            );
            if method == axum::http::Method::GET && uri.path() == endpoints {
                return axum::Json(serde_json::json!({})).into_response();
            }
            match cloud::predict_path(account, uri.path()) {
                Ok((model, stream)) if method == axum::http::Method::POST => {
                    (model, stream, "vertex-2023-10-16", true)
                }
                Ok(_) => {
                    shared.stats().shape_mismatches += 1;
                    return refuse(
                        &shared,
                        StatusCode::NOT_FOUND,
                        "NOT_FOUND",
                        format!("{method} {path}"),
                    );
                }
                Err(why) => {
                    shared.stats().shape_mismatches += 1;
                    return refuse(&shared, StatusCode::NOT_FOUND, "NOT_FOUND", why);
                }
            }
        }
    };
    let value = match cloud::messages_body(&body, version, &model, stream, stream_in_body) {
        Ok(value) => value,
        Err(why) => {
            shared.stats().shape_mismatches += 1;
            let name = match cloud {
                Cloud::Bedrock(_) => "ValidationException",
                Cloud::Vertex(_) => "INVALID_ARGUMENT",
            };
            return refuse(&shared, StatusCode::BAD_REQUEST, name, why);
        }
    };
    let req: Request = match serde_json::from_value(value) {
        Ok(req) => req,
        Err(err) => {
            shared.stats().bad_requests += 1;
            return refuse(
                &shared,
                StatusCode::BAD_REQUEST,
                "ValidationException",
                format!("unreadable body: {err}"),
            );
        }
    };
    let req = {
        let mut stats = shared.stats();
        if uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "beta=true"))
        {
            stats.beta_queries += 1;
        }
        match accept(&shared, &mut stats, &headers, req) {
            Ok(req) => req,
            Err(response) => return *response,
        }
    };
    let framing = match cloud {
        Cloud::Bedrock(_) => Framing::EventStream,
        Cloud::Vertex(_) => Framing::Sse,
    };
    answer(&shared, &uri, &headers, &req, body.len(), framing)
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
            issued: Mutex::new(Vec::new()),
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
