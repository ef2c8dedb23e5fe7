//! The exporter against collectors run inside the test (axum on 127.0.0.1:0).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::Value;

use super::*;
use crate::telemetry::span::tests::record;

/// What a collector received: path, headers, body as JSON.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Value,
}

/// A programmed answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

/// A fake OTLP collector: records every POST and answers from a programmed list (then 200 with
/// an empty JSON object).
#[derive(Clone, Default)]
struct Collector {
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

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

    fn answer(&self, status: u16, headers: &[(&'static str, &str)], body: &str) {
        self.answers.lock().unwrap().push_back((
            status,
            headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
            body.to_owned(),
        ));
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The spans of every request received, in order.
    fn spans(&self) -> Vec<Value> {
        self.received()
            .iter()
            .flat_map(|r| spans_of(&r.body))
            .collect()
    }
}

fn spans_of(body: &Value) -> Vec<Value> {
    body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn collect(State(collector): State<Collector>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    collector.received.lock().unwrap().push(Received {
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let (status, headers, body) =
        collector
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((200, Vec::new(), "{}".to_owned()));
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    for (k, v) in headers {
        response = response.header(k, v);
    }
    response.body(axum::body::Body::from(body)).unwrap()
}

/// Collects what the wrapped sink was given.
#[derive(Default)]
struct Inner(Mutex<Vec<UsageRecord>>);

impl UsageSink for Inner {
    fn record(&self, record: UsageRecord) {
        self.0.lock().unwrap().push(record);
    }
}

fn config(telemetry: &str) -> Config {
    let text = format!(
        "active_profile = \"main\"\n[[backends]]\nid = \"b0\"\nkind = \"openai_chat\"\nbase_url = \"http://127.0.0.1:1/v1\"\n[profiles.main]\ndefault = {{ backend = \"b0\" }}\n[telemetry]\n{telemetry}\n"
    );
    crate::config::parse(&text, Path::new("t.toml")).unwrap()
}

fn options() -> ExporterOptions {
    ExporterOptions {
        queue: 64,
        batch_spans: 64,
        // Long: a test sends its batches with flush or shutdown.
        batch_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(5),
        retry_delay: Duration::from_millis(10),
        shutdown_grace: Duration::from_secs(5),
    }
}

/// The exporter `telemetry` asks for, and the sink an engine would put around `Inner`.
struct Started {
    exporter: Arc<TelemetryExporter>,
    sink: TelemetrySink,
    inner: Arc<Inner>,
}

fn start(
    telemetry: &str,
    options: ExporterOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Started {
    let exporter = TelemetryExporter::start_with_env(&config(telemetry), options, env)
        .unwrap()
        .unwrap();
    let inner = Arc::new(Inner::default());
    Started {
        sink: TelemetrySink::new(inner.clone(), exporter.clone()),
        exporter,
        inner,
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

/// One thread: the exporter's task cannot run while the test records, so exactly `queue`
/// spans fit and the rest are dropped at once.
#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_spans_instead_of_waiting() {
    let (addr, collector) = Collector::start().await;
    let Started {
        exporter,
        sink,
        inner,
    } = start(
        &format!("otlp_endpoint = \"http://{addr}\""),
        ExporterOptions {
            queue: 2,
            ..options()
        },
        &no_env,
    );
    let began = Instant::now();
    for i in 0..10 {
        let mut r = record();
        r.requested_model = format!("model-{i}");
        sink.record(r);
    }
    assert!(began.elapsed() < Duration::from_secs(1));
    // Every record reached the wrapped sink, unchanged.
    let forwarded = inner.0.lock().unwrap().clone();
    assert_eq!(forwarded.len(), 10);
    assert_eq!(forwarded[9].requested_model, "model-9");
    assert_eq!(
        exporter.counts(),
        TelemetryCounts {
            exported: 0,
            dropped: 8,
            failed: 0
        }
    );
    // The two queued are sent at shutdown.
    exporter.shutdown().await;
    let names: Vec<_> = collector
        .spans()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["chat model-0", "chat model-1"]);
    assert_eq!(exporter.counts().exported, 2);
    // After shutdown records still reach the wrapped sink; their spans are dropped.
    sink.record(record());
    assert_eq!(inner.0.lock().unwrap().len(), 11);
    assert_eq!(exporter.counts().dropped, 9);
}

#[tokio::test]
async fn spans_are_batched_and_posted_as_otlp_json_with_the_configured_headers() {
    let (addr, collector) = Collector::start().await;
    let env = |var: &str| (var == "OTEL_TOKEN").then(|| "Bearer collector-secret".to_owned());
    let Started { exporter, .. } = start(
        &format!(
            "otlp_endpoint = \"http://{addr}/\"\nservice_name = \"yard-1\"\nheaders = {{ authorization = \"env:OTEL_TOKEN\", x-tenant = \"team-a\" }}"
        ),
        ExporterOptions {
            batch_spans: 3,
            ..options()
        },
        &env,
    );
    for _ in 0..7 {
        exporter.export(
            &record(),
            Some(SpanBodies {
                request: Some("the prompt".into()),
                response: Some("the answer".into()),
            }),
        );
    }
    exporter.flush().await;
    let received = collector.received();
    let sizes: Vec<_> = received.iter().map(|r| spans_of(&r.body).len()).collect();
    assert_eq!(sizes, [3, 3, 1]);
    let first = &received[0];
    assert_eq!(first.path, "/v1/traces");
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(first.headers["authorization"], "Bearer collector-secret");
    assert_eq!(first.headers["x-tenant"], "team-a");
    assert!(
        first.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("switchyard/")
    );
    let resource = &first.body["resourceSpans"][0]["resource"]["attributes"][0];
    assert_eq!(resource["key"], "service.name");
    assert_eq!(resource["value"]["stringValue"], "yard-1");
    assert_eq!(
        first.body["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"],
        "switchyard"
    );
    // include_bodies is off: the bodies handed over went nowhere.
    let text = serde_json::to_string(&first.body).unwrap();
    assert!(!text.contains("the prompt") && !text.contains("the answer"));
    // Each span its own trace.
    let spans = collector.spans();
    let traces: std::collections::HashSet<_> = spans
        .iter()
        .map(|s| s["traceId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(traces.len(), 7);
    assert_eq!(
        exporter.counts(),
        TelemetryCounts {
            exported: 7,
            dropped: 0,
            failed: 0
        }
    );
}

#[tokio::test]
async fn bodies_are_exported_only_with_include_bodies() {
    let (addr, collector) = Collector::start().await;
    let Started { exporter, sink, .. } = start(
        &format!("otlp_endpoint = \"http://{addr}/v1/traces\"\ninclude_bodies = true"),
        options(),
        &no_env,
    );
    exporter.export(
        &record(),
        Some(SpanBodies {
            request: Some("the prompt".into()),
            response: None,
        }),
    );
    sink.record(record());
    exporter.flush().await;
    let spans = collector.spans();
    assert_eq!(collector.received()[0].path, "/v1/traces");
    let body_of = |span: &Value| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "switchyard.request.body")
            .map(|kv| kv["value"]["stringValue"].clone())
    };
    assert_eq!(body_of(&spans[0]), Some(Value::from("the prompt")));
    assert_eq!(body_of(&spans[1]), None);
}

#[tokio::test]
async fn a_retryable_failure_is_tried_once_more_then_counted() {
    let (addr, collector) = Collector::start().await;
    let Started { exporter, sink, .. } = start(
        &format!("otlp_endpoint = \"http://{addr}\""),
        options(),
        &no_env,
    );
    for _ in 0..2 {
        collector.answer(503, &[("retry-after", "0")], r#"{"message":"busy"}"#);
    }
    sink.record(record());
    sink.record(record());
    exporter.flush().await;
    assert_eq!(collector.received().len(), 2, "one POST and one retry");
    assert_eq!(
        exporter.counts(),
        TelemetryCounts {
            exported: 0,
            dropped: 0,
            failed: 2
        }
    );
    // A retry that succeeds exports.
    collector.answer(429, &[], "{}");
    sink.record(record());
    exporter.flush().await;
    assert_eq!(collector.received().len(), 4);
    assert_eq!(exporter.counts().exported, 1);
}

#[tokio::test]
async fn a_bad_request_is_not_retried_and_partial_success_counts_rejected_spans() {
    let (addr, collector) = Collector::start().await;
    let Started { exporter, sink, .. } = start(
        &format!("otlp_endpoint = \"http://{addr}\""),
        options(),
        &no_env,
    );
    collector.answer(400, &[], r#"{"message":"bad data"}"#);
    sink.record(record());
    exporter.flush().await;
    assert_eq!(collector.received().len(), 1);
    assert_eq!(exporter.counts().failed, 1);

    collector.answer(
        200,
        &[],
        r#"{"partialSuccess":{"rejectedSpans":"1","errorMessage":"one too old"}}"#,
    );
    for _ in 0..3 {
        sink.record(record());
    }
    exporter.flush().await;
    assert_eq!(
        exporter.counts(),
        TelemetryCounts {
            exported: 2,
            dropped: 0,
            failed: 2
        }
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (elsewhere, other) = Collector::start().await;
    let (addr, collector) = Collector::start().await;
    let Started { exporter, sink, .. } = start(
        &format!("otlp_endpoint = \"http://{addr}\""),
        options(),
        &no_env,
    );
    collector.answer(
        307,
        &[("location", &format!("http://{elsewhere}/v1/traces"))],
        "",
    );
    sink.record(record());
    exporter.flush().await;
    assert_eq!(collector.received().len(), 1);
    assert!(other.received().is_empty());
    assert_eq!(exporter.counts().failed, 1);
}

#[tokio::test]
async fn an_unreachable_collector_fails_in_bounded_time() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let Started {
        exporter,
        sink,
        inner,
    } = start(
        &format!("otlp_endpoint = \"http://{addr}\""),
        options(),
        &no_env,
    );
    sink.record(record());
    tokio::time::timeout(Duration::from_secs(10), exporter.flush())
        .await
        .unwrap();
    assert_eq!(exporter.counts().failed, 1);
    assert_eq!(inner.0.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn no_endpoint_no_exporter_and_a_missing_variable_is_an_error() {
    let none =
        TelemetryExporter::start_with_env(&config("service_name = \"x\""), options(), &no_env);
    assert!(matches!(none, Ok(None)));
    let missing = TelemetryExporter::start_with_env(
        &config(
            "otlp_endpoint = \"http://127.0.0.1:4318\"\nheaders = { authorization = \"env:OTEL_NOPE\" }",
        ),
        options(),
        &no_env,
    );
    assert!(
        matches!(&missing, Err(TelemetryConfigError::MissingEnv { var, .. }) if var == "OTEL_NOPE")
    );
}
