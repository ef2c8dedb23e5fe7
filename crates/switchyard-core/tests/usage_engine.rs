//! The engine with its real usage database: requests through the pass-through, OpenAI and
//! Ollama fake upstreams are read back from SQLite; budgets through the real server;
//! `GET /metrics`.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

#[expect(
    dead_code,
    reason = "shared with the gateway tests; not every helper is used here"
)]
#[path = "gateway/harness.rs"]
mod harness;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use harness::{Reply, TOKEN, fake_upstream, request, sse_events};
use switchyard_core::anthropic::Usage;
use switchyard_core::budget::SpendTotals;
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::metrics::Metrics;
use switchyard_core::pricing::PriceTable;
use switchyard_core::secrets::{MemoryStore, SecretString};
use switchyard_core::usage::{
    DB_FILE_NAME, Filter, Pricer, RequestRow, RequestStatus, UsageRecord, UsageSink, UsageStore,
    UsageWriter, WriterOptions,
};

async fn start(config: &str, data_dir: &Path) -> Engine {
    let path = data_dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    Engine::start(
        EngineOptions {
            config_path: Some(path),
            data_dir: Some(data_dir.to_owned()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from(TOKEN.to_owned())),
            ..Default::default()
        },
        Arc::new(MemoryStore::default()),
    )
    .await
    .unwrap()
}

fn post(engine: &Engine, body: String) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("http://{}/v1/messages", engine.listen_addr()))
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(body)
}

fn rows(data_dir: &Path) -> Vec<RequestRow> {
    let store = UsageStore::open_read_only(&data_dir.join(DB_FILE_NAME)).unwrap();
    let mut rows = store.recent(&Filter::default(), 100, 0).unwrap();
    rows.reverse();
    rows
}

fn close(actual: Option<f64>, expected: f64) -> bool {
    actual.is_some_and(|a| (a - expected).abs() < 1e-12)
}

fn chunks(lines: &[&str], prefix: &str, suffix: &str) -> Reply {
    Reply::Stream(
        lines
            .iter()
            .map(|l| {
                (
                    Duration::from_millis(5),
                    Bytes::from(format!("{prefix}{l}{suffix}")),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn every_backend_kind_lands_in_sqlite_with_the_upstreams_token_counts() {
    let (pt, pt_fake) = fake_upstream().await;
    let (oa, oa_fake) = fake_upstream().await;
    let (ol, ol_fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"active_profile = "p"
[[backends]]
id = "pt"
kind = "anthropic"
base_url = "http://{pt}"
[[backends]]
id = "oa"
kind = "openai_chat"
base_url = "http://{oa}/v1"
[[backends]]
id = "ol"
kind = "ollama"
base_url = "http://{ol}"
context_length = 4096
[profiles.p]
default = {{ backend = "pt" }}
[[profiles.p.rules]]
match = "claude-haiku-4-5"
targets = [{{ backend = "oa", model = "local-model" }}]
[[profiles.p.rules]]
match = "claude-opus-4-5"
targets = [{{ backend = "ol", model = "local-model" }}]
"#
    );
    let engine = start(&config, dir.path()).await;

    // 1. Pass-through stream: usage 25 in, 7 cache write, 100 cache read, 42 out.
    let events = sse_events();
    pt_fake.push(Reply::Stream(
        events
            .iter()
            .map(|e| (Duration::from_millis(2), Bytes::from(e.clone())))
            .collect(),
    ));
    let response = post(&engine, request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();

    // 2. OpenAI stream: 120 prompt tokens of which 20 cached, 17 completion.
    oa_fake.push(chunks(
        &[
            r#"{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"id":"c1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":17,"prompt_tokens_details":{"cached_tokens":20}}}"#,
            "[DONE]",
        ],
        "data: ",
        "\n\n",
    ));
    let response = post(&engine, request("claude-haiku-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();

    // 3. Ollama NDJSON stream: 30 prompt, 5 generated.
    ol_fake.push(chunks(
        &[
            r#"{"model":"local-model","message":{"role":"assistant","content":"Hi"},"done":false}"#,
            r#"{"model":"local-model","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":30,"eval_count":5}"#,
        ],
        "",
        "\n",
    ));
    let response = post(&engine, request("claude-opus-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();

    // 4. A pass-through stream that breaks after message_start.
    pt_fake.push(Reply::StreamThenBreak(vec![
        Bytes::from(events[0].clone()),
        Bytes::from(events[1].clone()),
    ]));
    let response = post(&engine, request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();

    // The relay records just after the body ends (bounded wait, seen in the metrics); then
    // shutdown writes everything buffered.
    for _ in 0..200 {
        let text = engine.gateway().metrics().render();
        if text.contains("switchyard_requests_total{backend=\"pt\",status=\"error\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    engine.shutdown().await;

    let rows = rows(dir.path());
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let tokens = |r: &RequestRow| {
        (
            r.input_tokens,
            r.output_tokens,
            r.cache_read_tokens,
            r.cache_write_tokens,
        )
    };
    assert_eq!(tokens(&rows[0]), (25, 42, 100, 7));
    assert_eq!(tokens(&rows[1]), (100, 17, 20, 0));
    assert_eq!(tokens(&rows[2]), (30, 5, 0, 0));
    assert_eq!(rows[3].status, RequestStatus::Error);
    assert_eq!(
        rows[3].input_tokens, 25,
        "tokens seen before the break are kept"
    );
    assert_eq!(rows[3].cache_read_tokens, 100);
    assert!(rows[3].error_message.is_some());
    for (row, backend, kind) in [
        (&rows[0], "pt", "anthropic"),
        (&rows[1], "oa", "openai_chat"),
        (&rows[2], "ol", "ollama"),
    ] {
        assert_eq!(row.status, RequestStatus::Ok);
        assert_eq!(row.backend.as_deref(), Some(backend));
        assert_eq!(row.backend_kind.as_deref(), Some(kind));
        assert!(row.stream);
        assert_eq!(row.http_status, 200);
        assert!(row.ttft_ms.is_some());
        // Loopback upstreams are local: free, priced as the requested Claude model.
        assert!(row.local);
        assert_eq!(row.cost_usd, Some(0.0));
    }
    // sonnet: 25×3 + 42×15 + 100×0.30 + 7×3.75 = 761.25 µ$
    assert!(
        close(rows[0].cloud_equiv_usd, 761.25e-6),
        "{:?}",
        rows[0].cloud_equiv_usd
    );
    // haiku: 100×1 + 17×5 + 20×0.10 = 187 µ$
    assert!(
        close(rows[1].cloud_equiv_usd, 187e-6),
        "{:?}",
        rows[1].cloud_equiv_usd
    );
    // opus 4.5: 30×5 + 5×25 = 275 µ$
    assert!(
        close(rows[2].cloud_equiv_usd, 275e-6),
        "{:?}",
        rows[2].cloud_equiv_usd
    );
    assert_eq!(rows[1].upstream_model.as_deref(), Some("local-model"));
    assert_eq!(rows[0].requested_model, "claude-sonnet-4-5");
    assert_eq!(rows[0].profile, "p");
}

/// Put $3 of spend on profile `p` / backend `b0` today into the data dir's database.
fn seed_spend(data_dir: &Path) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let writer = UsageWriter::start(
        UsageStore::open(&data_dir.join(DB_FILE_NAME)).unwrap(),
        WriterOptions::default(),
        // b0 priced as a cloud backend for the seed.
        Pricer::new(
            PriceTable::with_overrides(&Default::default()),
            HashMap::from([("b0".to_owned(), false)]),
        ),
        Arc::new(Metrics::default()),
        Arc::new(SpendTotals::default()),
    )
    .unwrap();
    writer.record(UsageRecord {
        started_at_ms: now,
        client: None,
        session_id: None,
        agent_id: None,
        parent_agent_id: None,
        requested_model: "claude-sonnet-4-5".into(),
        profile: "main".into(),
        backend: Some("b0".into()),
        backend_kind: Some("anthropic".into()),
        upstream_model: Some("claude-sonnet-4-5".into()),
        stream: false,
        status: RequestStatus::Ok,
        http_status: 200,
        error_type: None,
        error_message: None,
        // 1M input tokens of sonnet: $3.
        usage: Usage {
            input_tokens: 1_000_000,
            ..Usage::default()
        },
        ttft_ms: None,
        latency_ms: 10,
        attempts: 1,
        rule: None,
        notes: None,
        cache_hit: false,
        key_name: None,
        capture_id: None,
    });
    writer.shutdown();
}

fn budget_config(upstream: std::net::SocketAddr, budget: &str) -> String {
    format!(
        "{}\n{budget}\n",
        harness::passthrough_config(&[upstream], "")
    )
}

#[tokio::test]
async fn a_spent_hard_budget_refuses_with_429_naming_it() {
    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    seed_spend(dir.path());
    let engine = start(
        &budget_config(
            up,
            "[[budgets]]\nname = \"daily-cap\"\nprofile = \"main\"\nperiod = \"daily\"\nlimit_usd = 2.0\nmode = \"hard\"",
        ),
        dir.path(),
    )
    .await;
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_401).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"daily-cap\""), "{message}");
    assert!(message.contains("$3.00 of $2.00"), "{message}");
    assert!(fake.seen().is_empty(), "nothing was sent upstream");

    let metrics = reqwest::Client::new()
        .get(format!("http://{}/metrics", engine.listen_addr()))
        .header("x-api-key", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains("switchyard_budget_refusals_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_request_errors_total{backend=\"\",type=\"rate_limit_error\"} 1"),
        "{text}"
    );
    engine.shutdown().await;
    // The refusal is in the history too.
    let rows = rows(dir.path());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].http_status, 429);
    assert_eq!(rows[1].error_type.as_deref(), Some("rate_limit_error"));
}

#[tokio::test]
async fn a_spent_soft_budget_only_warns() {
    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    seed_spend(dir.path());
    fake.push(Reply::Json(200, harness::message_json("still answered")));
    let engine = start(
        &budget_config(
            up,
            "[[budgets]]\nname = \"soft-cap\"\nbackend = \"b0\"\nperiod = \"monthly\"\nlimit_usd = 1.0",
        ),
        dir.path(),
    )
    .await;
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(fake.seen().len(), 1);
    let text = reqwest::Client::new()
        .get(format!("http://{}/metrics", engine.listen_addr()))
        .header("x-api-key", TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("switchyard_budget_warnings_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_requests_total{backend=\"b0\",status=\"ok\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_tokens_total{backend=\"b0\",kind=\"input\"} 12\n"),
        "{text}"
    );
    assert!(
        text.contains("switchyard_request_duration_seconds_count 1\n"),
        "{text}"
    );
    engine.shutdown().await;
}

#[tokio::test]
async fn a_backend_over_its_hard_budget_is_skipped_for_the_fallback() {
    let (a, fake_a) = fake_upstream().await;
    let (b, fake_b) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    seed_spend(dir.path());
    fake_b.push(Reply::Json(200, harness::message_json("from the fallback")));
    let config = format!(
        "{}\n[[budgets]]\nname = \"b0-cap\"\nbackend = \"b0\"\nperiod = \"monthly\"\nlimit_usd = 1.0\nmode = \"hard\"\n",
        harness::passthrough_config(&[a, b], "")
    );
    let engine = start(&config, dir.path()).await;
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(fake_a.seen().is_empty());
    assert_eq!(fake_b.seen().len(), 1);
    engine.shutdown().await;
    let rows = rows(dir.path());
    assert_eq!(rows[1].backend.as_deref(), Some("b1"));
}

#[tokio::test]
async fn metrics_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let (up, _fake) = fake_upstream().await;
    let engine = start(&harness::passthrough_config(&[up], ""), dir.path()).await;
    let response = reqwest::Client::new()
        .get(format!("http://{}/metrics", engine.listen_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    engine.shutdown().await;
}

/// The tray's counters: followed by the engine, they count a request once the writer has
/// committed it (announced by `UsageStored`), and a write by another process (`switchyard
/// serve` on the same data dir) shows at the next refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_counters_follow_finished_requests() {
    use switchyard_core::engine::EngineEvent;

    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let engine = start(&harness::passthrough_config(&[up], ""), dir.path()).await;
    let mut events = engine.subscribe();
    engine.follow_today();
    assert_eq!(engine.status().requests_today, 0);

    fake.push(Reply::Json(200, harness::message_json("hi")));
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Bounded: the writer commits within 250 ms; the follower re-reads right after.
    let counted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(EngineEvent::UsageStored) = events.recv().await
                && engine.status().requests_today == 1
            {
                return;
            }
        }
    })
    .await;
    assert!(counted.is_ok(), "status: {:?}", engine.status());
    assert!(engine.status().tokens_today > 0);

    seed_spend(dir.path());
    engine.refresh_today().await.unwrap();
    let status = engine.status();
    assert_eq!(status.requests_today, 2);
    assert!(status.cost_today_usd >= 3.0, "{status:?}");
    engine.shutdown().await;
}

/// An upstream reporting counts near `u64::MAX`: every request is recorded with its counts
/// capped, so the metrics do not wrap and the store's sums (history, summary, today) work.
#[tokio::test]
async fn absurd_upstream_token_counts_are_capped_in_metrics_and_the_store() {
    use switchyard_core::anthropic::MAX_TOKENS_PER_COUNT;
    use switchyard_core::usage::UsageFilter;

    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let config = harness::passthrough_config(&[up], "");
    let engine = start(&config, dir.path()).await;
    let huge = format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"upstream-model","content":[{{"type":"text","text":"hi"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":{max},"output_tokens":{max},"cache_creation_input_tokens":{near},"cache_read_input_tokens":{max}}}}}"#,
        max = u64::MAX,
        near = u64::MAX - 7,
    );
    for _ in 0..2 {
        fake.push(Reply::Json(200, huge.clone()));
        let response = post(&engine, request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap();
    }
    // Recorded as the body ends: a bounded wait for the second request.
    let mut text = String::new();
    for _ in 0..200 {
        text = engine.gateway().metrics().render();
        if text.contains("switchyard_requests_total{backend=\"b0\",status=\"ok\"} 2") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let twice = 2 * MAX_TOKENS_PER_COUNT;
    for kind in ["input", "output", "cache_read", "cache_write"] {
        let line = format!("switchyard_tokens_total{{backend=\"b0\",kind=\"{kind}\"}} {twice}\n");
        assert!(text.contains(&line), "missing {line:?} in\n{text}");
    }
    engine.shutdown().await;

    let rows = rows(dir.path());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].input_tokens, MAX_TOKENS_PER_COUNT);
    assert_eq!(rows[0].cache_write_tokens, MAX_TOKENS_PER_COUNT);
    assert!(rows[0].cloud_equiv_usd.is_some_and(f64::is_finite));
    let store = UsageStore::open_read_only(&dir.path().join(DB_FILE_NAME)).unwrap();
    store.today().unwrap();
    let today = store.today_at(rows[0].started_at_ms).unwrap();
    assert_eq!(today.totals.requests, 2);
    assert_eq!(today.totals.input_tokens, twice);
    assert_eq!(today.totals.cache_read_tokens, twice);
    let config = switchyard_core::config::parse(&config, Path::new("config.toml")).unwrap();
    let summary = store.summary(&UsageFilter::default(), &config).unwrap();
    assert_eq!(summary.total.output_tokens, twice);
    assert_eq!(summary.by_backend[0].totals.cache_write_tokens, twice);
    let page = store.history_page(&UsageFilter::default(), 0, 50).unwrap();
    assert_eq!(page.total, 2);
}

/// A damaged usage database does not stop the gateway: it is moved aside (and named), a new
/// one is started, requests are routed and recorded; when rows then cannot be written, routing
/// goes on and `/health` and the status say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_usage_database_does_not_stop_the_gateway() {
    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(DB_FILE_NAME);
    std::fs::write(&db, b"not a database ".repeat(100)).unwrap();
    let engine = start(&harness::passthrough_config(&[up], ""), dir.path()).await;
    let health = |engine: &Engine| {
        let url = format!("http://{}/health", engine.listen_addr());
        async move {
            let body: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            body["usage_warning"].as_str().map(str::to_owned)
        }
    };
    let warning = health(&engine).await.unwrap();
    assert!(
        warning.contains("moved to") && warning.contains("damaged"),
        "{warning}"
    );
    assert_eq!(
        engine.status().usage_warning.as_deref(),
        Some(warning.as_str())
    );

    fake.push(Reply::Json(200, harness::message_json("hi")));
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    engine.flush_usage().await.unwrap();
    assert_eq!(rows(dir.path()).len(), 1, "recorded in the new database");

    // Rows can no longer be written (as with a full disk): requests still go through.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TABLE requests;")
        .unwrap();
    fake.push(Reply::Json(200, harness::message_json("again")));
    let response = post(&engine, request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    engine.flush_usage().await.unwrap();
    let warning = health(&engine).await.unwrap();
    assert!(warning.contains("not being recorded"), "{warning}");
    engine.shutdown().await;
}
