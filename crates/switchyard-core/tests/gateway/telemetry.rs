//! `[telemetry]`: real requests through the real gateway become OTLP spans at a fake collector
//! (axum on loopback, inside the test), after the GenAI semantic conventions; the error span
//! of a failed request; no secret and no body in what the collector gets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use serde_json::{Value, json};
use switchyard_core::config::key_account;
use switchyard_core::usage::{Pricer, RequestStatus};

use crate::harness::*;

const WORK_KEY: &str = "sk-work-canary-otel";

/// A fake OTLP/HTTP collector: keeps every POST's path, headers and raw body.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<(String, http::HeaderMap, String)>>>);

impl Collector {
    async fn start() -> (SocketAddr, Collector) {
        let collector = Collector::default();
        let app = Router::new()
            .fallback(collect)
            .with_state(collector.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, collector)
    }

    fn posts(&self) -> Vec<(String, http::HeaderMap, String)> {
        self.0.lock().unwrap().clone()
    }

    /// Every span received, in order.
    fn spans(&self) -> Vec<Value> {
        self.posts()
            .iter()
            .flat_map(|(_, _, body)| {
                let json: Value = serde_json::from_str(body).unwrap();
                json["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// Wait (bounded) for `n` spans: the exporter sends a batch every 2 s.
    async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let spans = self.spans();
            if spans.len() >= n {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} spans, the collector got {:?}", self.posts());
    }
}

async fn collect(State(collector): State<Collector>, request: Request) -> &'static str {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    collector.0.lock().unwrap().push((
        parts.uri.path().to_owned(),
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    ));
    "{}"
}

/// Backend `up` (pass-through, a named key, priced as a cloud model) answers `*`; backend
/// `down` (nothing listening) is the only target of `*broken*`.
async fn gateway(collector: SocketAddr, telemetry_extra: &str) -> (Gateway, Fake) {
    let (up, fake) = fake_upstream().await;
    let down = closed_port().await;
    let text = format!(
        "active_profile = \"main\"\n\
         [[backends]]\nid = \"up\"\nkind = \"anthropic\"\nbase_url = \"http://{up}\"\nkeys = [\"work\"]\nlocal = false\n\
         [[backends]]\nid = \"down\"\nkind = \"anthropic\"\nbase_url = \"http://{down}\"\n\
         [profiles.main]\n\
         [[profiles.main.rules]]\nmatch = \"*broken*\"\ntargets = [{{ backend = \"down\" }}]\n\
         [[profiles.main.rules]]\nmatch = \"*\"\ntargets = [{{ backend = \"up\", model = \"upstream-model\" }}]\n\
         [pricing.\"upstream-model\"]\ninput = 3.0\noutput = 15.0\ncache_read = 0.3\ncache_write = 3.75\n\
         [telemetry]\notlp_endpoint = \"http://{collector}\"\nheaders = {{ authorization = \"Bearer collector-token\" }}\n{telemetry_extra}\n"
    );
    let entries = [(key_account("up", Some("work")), WORK_KEY)];
    let gw = Gateway::start_with_secrets(tempfile::tempdir().unwrap(), &text, &entries).await;
    (gw, fake)
}

/// A span's attributes as key → the JSON of its value.
fn attributes(span: &Value) -> serde_json::Map<String, Value> {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
        .collect()
}

fn s(v: &str) -> Value {
    json!({ "stringValue": v })
}

fn i(v: u64) -> Value {
    json!({ "intValue": v.to_string() })
}

fn nanos(span: &Value, field: &str) -> u64 {
    span[field].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn finished_requests_reach_the_collector_as_genai_spans() {
    let (addr, collector) = Collector::start().await;
    let (gw, fake) = gateway(addr, "").await;
    fake.push(Reply::Json(200, message_json("hi there")));
    let response = gw
        .post("/v1/messages")
        .header("x-claude-code-session-id", "sess-otel")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let chunks = sse_events()
        .into_iter()
        .map(|e| (Duration::from_millis(5), bytes::Bytes::from(e)))
        .collect();
    fake.push(Reply::Stream(chunks));
    let response = gw.ask("claude-haiku-4-5", true).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let response = gw.ask("claude-broken-1", false).await;
    assert_eq!(response.status(), 502);

    let records = gw.records.wait_for(3).await;
    // Sent by the exporter's batch timer, not by a shutdown.
    let spans = collector.wait_for(3).await;
    assert_eq!(spans.len(), 3, "{spans:?}");
    let by_name = |name: &str| {
        spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no span {name:?} in {spans:?}"))
    };

    let posts = collector.posts();
    assert!(posts.iter().all(|(path, _, _)| path == "/v1/traces"));
    assert_eq!(posts[0].1["authorization"], "Bearer collector-token");
    assert_eq!(posts[0].1["content-type"], "application/json");

    // The non-streaming answer.
    let ok = by_name("chat claude-sonnet-4-5");
    let record = records
        .iter()
        .find(|r| r.requested_model == "claude-sonnet-4-5")
        .unwrap();
    assert_eq!(ok["kind"], 3);
    assert_eq!(ok["traceId"].as_str().unwrap().len(), 32);
    assert_eq!(ok["spanId"].as_str().unwrap().len(), 16);
    assert_eq!(ok["status"]["code"], 0);
    let start = nanos(ok, "startTimeUnixNano");
    assert_eq!(start, record.started_at_ms as u64 * 1_000_000);
    assert_eq!(
        nanos(ok, "endTimeUnixNano") - start,
        record.latency_ms * 1_000_000
    );
    let a = attributes(ok);
    assert_eq!(a["gen_ai.operation.name"], s("chat"));
    assert_eq!(a["gen_ai.provider.name"], s("anthropic"));
    assert_eq!(a["gen_ai.system"], s("anthropic"));
    assert_eq!(a["gen_ai.request.model"], s("claude-sonnet-4-5"));
    assert_eq!(a["gen_ai.response.model"], s("upstream-model"));
    // 12 uncached + 4 read from the cache (message_json's usage).
    assert_eq!(a["gen_ai.usage.input_tokens"], i(16));
    assert_eq!(a["gen_ai.usage.output_tokens"], i(3));
    assert_eq!(a["gen_ai.usage.cache_read.input_tokens"], i(4));
    assert!(!a.contains_key("gen_ai.usage.cache_creation.input_tokens"));
    assert_eq!(a["http.response.status_code"], i(200));
    assert_eq!(a["switchyard.profile"], s("main"));
    assert_eq!(a["switchyard.backend"], s("up"));
    assert_eq!(a["switchyard.rule"], s("rule 2: *"));
    assert_eq!(a["switchyard.session_id"], s("sess-otel"));
    assert_eq!(a["gen_ai.conversation.id"], s("sess-otel"));
    assert_eq!(a["switchyard.cache_hit"], json!({ "boolValue": false }));
    assert_eq!(a["switchyard.key_name"], s("work"));
    let cost = Pricer::from_config(&gw.engine.config())
        .price(record.clone())
        .cost_usd
        .unwrap();
    assert!(cost > 0.0);
    assert_eq!(a["switchyard.cost_usd"], json!({ "doubleValue": cost }));
    assert!(!a.contains_key("error.type"));

    // The stream: its cache write and read too.
    let a = attributes(by_name("chat claude-haiku-4-5"));
    assert_eq!(a["gen_ai.usage.input_tokens"], i(25 + 7 + 100));
    assert_eq!(a["gen_ai.usage.output_tokens"], i(42));
    assert_eq!(a["gen_ai.usage.cache_creation.input_tokens"], i(7));
    assert_eq!(a["gen_ai.usage.cache_read.input_tokens"], i(100));
    assert_eq!(a["switchyard.stream"], json!({ "boolValue": true }));

    // The failure: an error span naming its type.
    let failed = by_name("chat claude-broken-1");
    let record = records
        .iter()
        .find(|r| r.requested_model == "claude-broken-1")
        .unwrap();
    assert_eq!(record.status, RequestStatus::Error);
    assert_eq!(failed["status"]["code"], 2);
    let message = failed["status"]["message"].as_str().unwrap();
    assert!(message.contains("\"down\""), "{message}");
    let a = attributes(failed);
    assert_eq!(a["error.type"], s("api_error"));
    assert_eq!(a["http.response.status_code"], i(502));
    assert_eq!(a["switchyard.backend"], s("down"));
    assert_eq!(a["switchyard.rule"], s("rule 1: *broken*"));
    assert!(!a.contains_key("gen_ai.usage.input_tokens"));

    // No secret and no content left for the collector: not the provider key, not the local
    // token, not the prompt, not the answers.
    let everything: String = posts
        .iter()
        .map(|(_, headers, body)| format!("{headers:?}\n{body}"))
        .collect();
    for secret in [WORK_KEY, TOKEN, "hello", "hi there", "Hello 世界"] {
        assert!(
            !everything.contains(secret),
            "{secret:?} reached the collector"
        );
    }
    // The counts are updated once the collector has answered: shutdown waits for that.
    gw.engine.shutdown().await;
    assert_eq!(
        gw.engine
            .telemetry_counts()
            .map(|c| (c.exported, c.dropped, c.failed)),
        Some((3, 0, 0))
    );
}

#[tokio::test]
async fn shutdown_sends_the_spans_still_queued() {
    let (addr, collector) = Collector::start().await;
    let (gw, fake) = gateway(addr, "service_name = \"yard-test\"\ninclude_bodies = true").await;
    fake.push(Reply::Json(200, message_json("hi there")));
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
    gw.records.wait_for(1).await;
    // Before the 2 s batch timer: only the shutdown can have sent it.
    gw.engine.shutdown().await;
    let posts = collector.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let body: Value = serde_json::from_str(&posts[0].2).unwrap();
    let resource = &body["resourceSpans"][0]["resource"]["attributes"];
    assert_eq!(resource[0]["key"], "service.name");
    assert_eq!(resource[0]["value"], s("yard-test"));
    assert_eq!(collector.spans().len(), 1);
    // include_bodies allows bodies, but only a captured request has them to give (the
    // profile does not capture): none appear, and the prompt is not in the span.
    let a = attributes(&collector.spans()[0]);
    assert!(!a.keys().any(|k| k.contains("body")), "{a:?}");
    assert!(!posts[0].2.contains("hello"));
}

/// A captured request's span carries what the client sent and got when include_bodies is on
/// (and still no credential).
#[tokio::test]
async fn a_captured_request_spans_with_its_bodies() {
    let (addr, collector) = Collector::start().await;
    let (up, fake) = fake_upstream().await;
    let text = format!(
        "active_profile = \"main\"\n\
         [[backends]]\nid = \"up\"\nkind = \"anthropic\"\nbase_url = \"http://{up}\"\n\
         [profiles.main]\ncapture = true\ndefault = {{ backend = \"up\", model = \"upstream-model\" }}\n\
         [telemetry]\notlp_endpoint = \"http://{addr}\"\ninclude_bodies = true\n"
    );
    let gw = Gateway::start(&text, &["up"]).await;
    fake.push(Reply::Json(200, message_json("the captured answer")));
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
    gw.records.wait_for(1).await;
    let spans = collector.wait_for(1).await;
    let a = attributes(&spans[0]);
    let request_body = a["switchyard.request.body"]["stringValue"]
        .as_str()
        .unwrap();
    assert!(
        request_body.contains("\"content\":\"hello\""),
        "{request_body}"
    );
    let response_body = a["switchyard.response.body"]["stringValue"]
        .as_str()
        .unwrap();
    assert!(
        response_body.contains("the captured answer"),
        "{response_body}"
    );
    let posted: String = collector.posts().iter().map(|p| p.2.clone()).collect();
    assert!(!posted.contains(BACKEND_KEY) && !posted.contains(TOKEN));
    // /metrics shows the exporter's counters beside the capture writer's.
    let metrics = gw.metrics_text().await;
    for name in [
        "switchyard_telemetry_spans_exported_total",
        "switchyard_telemetry_spans_dropped_total 0",
        "switchyard_captures_total 1",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
}

#[tokio::test]
async fn no_endpoint_no_exporter() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("hi there")));
    let text = format!(
        "{}[telemetry]\nservice_name = \"unused\"\n",
        passthrough_config(&[up], "")
    );
    let gw = Gateway::start(&text, &["b0"]).await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
    gw.records.wait_for(1).await;
    assert_eq!(gw.engine.telemetry_counts(), None);
}
