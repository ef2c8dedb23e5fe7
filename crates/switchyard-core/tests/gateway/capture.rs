//! The request inspector's captures through the real gateway: what the client sent, what went
//! upstream after routing and translation, what came back and what the client got, with the
//! routing decision and timings; credentials nowhere; replay to another target.

use std::time::Duration;

use bytes::Bytes;
use switchyard_core::capture::{Capture, REDACTED, Selection};
use switchyard_core::engine::ReplayTo;

use crate::harness::*;

/// A profile `p` with capture on, routing everything to `first` (fallback `second`).
fn config(first: (&str, &str), second: Option<(&str, &str)>, capture: bool) -> String {
    let mut text = format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"first\"\nkind = \"{}\"\nbase_url = \"{}\"\ncontext_length = 4096\n",
        first.0, first.1
    );
    let mut fallbacks = String::new();
    if let Some((kind, url)) = second {
        text.push_str(&format!(
            "[[backends]]\nid = \"second\"\nkind = \"{kind}\"\nbase_url = \"{url}\"\n"
        ));
        fallbacks = "fallbacks = [{ backend = \"second\", model = \"second-model\" }]".into();
    }
    text.push_str(&format!(
        "[profiles.p]\ncapture = {capture}\ndefault = {{ targets = [{{ backend = \"first\", model = \"first-model\" }}], {fallbacks} }}\n"
    ));
    text
}

async fn captured(gw: &Gateway, n: usize) -> Capture {
    let records = gw.records.wait_for(n).await;
    let Some(id) = records[n - 1].capture_id.clone() else {
        panic!("the usage row links its capture: {:?}", records[n - 1]);
    };
    gw.engine.capture(&id).await.unwrap()
}

fn header<'a>(headers: &'a [switchyard_core::capture::Header], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

#[tokio::test]
async fn a_pass_through_request_keeps_all_four_views_without_credentials() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("captured answer")));
    let gw = Gateway::start(
        &config(("anthropic", &format!("http://{up}")), None, true),
        &["first"],
    )
    .await;
    let body = request("claude-sonnet-4-5", false);
    let response = gw
        .post("/v1/messages?beta=true")
        .header("anthropic-beta", "interleaved-thinking-2025-05-14")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let capture = captured(&gw, 1).await;

    // What the client sent: its body as it was, its credentials not.
    assert_eq!(capture.client_request.body, body);
    assert_eq!(capture.client_request.path, "/v1/messages?beta=true");
    assert_eq!(
        header(&capture.client_request.headers, "x-api-key"),
        Some(REDACTED)
    );
    assert_eq!(
        header(&capture.client_request.headers, "anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    // What went upstream: the routed model, the backend's key redacted.
    let attempt = &capture.attempts[0];
    assert_eq!(
        (attempt.backend.as_str(), attempt.upstream_model.as_str()),
        ("first", "first-model")
    );
    assert_eq!(attempt.url, format!("http://{up}/v1/messages?beta=true"));
    assert_eq!(header(&attempt.headers, "x-api-key"), Some(REDACTED));
    let sent: serde_json::Value = serde_json::from_str(&attempt.body).unwrap();
    assert_eq!(sent["model"], "first-model");
    // What came back and what the client got.
    let answer = attempt.response.as_ref().unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.body.contains("captured answer"));
    assert_eq!(capture.client_response.status, 200);
    assert!(capture.client_response.body.contains("captured answer"));
    assert_eq!(capture.rule.as_deref(), Some("default route"));
    assert_eq!((capture.input_tokens, capture.output_tokens), (12, 3));
    assert!(capture.timings.total_ms > 0.0);
    let text = serde_json::to_string(&capture).unwrap();
    assert!(
        !text.contains(BACKEND_KEY) && !text.contains(TOKEN),
        "{text}"
    );
}

#[tokio::test]
async fn an_openai_style_translation_shows_what_it_changed() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(
        200,
        r#"{"id":"c2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4}}"#.into(),
    ));
    let gw = Gateway::start(
        &config(("openai_chat", &format!("http://{up}/v1")), None, true),
        &["first"],
    )
    .await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
    let capture = captured(&gw, 1).await;
    let attempt = &capture.attempts[0];
    assert_eq!(attempt.url, format!("http://{up}/v1/chat/completions"));
    assert_eq!(header(&attempt.headers, "authorization"), Some(REDACTED));
    let sent: serde_json::Value = serde_json::from_str(&attempt.body).unwrap();
    assert_eq!(sent["messages"][0]["role"], "user");
    assert_eq!(sent["model"], "first-model");
    assert!(
        attempt
            .response
            .as_ref()
            .unwrap()
            .body
            .contains("chat.completion")
    );
    let client: serde_json::Value = serde_json::from_str(&capture.client_response.body).unwrap();
    assert_eq!(client["type"], "message");
    assert_eq!(client["content"][0]["text"], "Hello there");
}

#[tokio::test]
async fn an_ollama_stream_keeps_its_chunks_with_their_times() {
    let (up, fake) = fake_upstream().await;
    let lines = [
        r#"{"model":"first-model","message":{"role":"assistant","content":"Hi "},"done":false}"#,
        r#"{"model":"first-model","message":{"role":"assistant","content":"there"},"done":false}"#,
        r#"{"model":"first-model","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":30,"eval_count":5}"#,
    ];
    fake.push(Reply::Stream(
        lines
            .iter()
            .map(|l| (Duration::from_millis(30), Bytes::from(format!("{l}\n"))))
            .collect(),
    ));
    let gw = Gateway::start(
        &config(("ollama", &format!("http://{up}")), None, true),
        &[],
    )
    .await;
    let response = gw.ask("claude-sonnet-4-5", true).await;
    let got = response.text().await.unwrap();
    let capture = captured(&gw, 1).await;
    let attempt = &capture.attempts[0];
    assert_eq!(attempt.url, format!("http://{up}/api/chat"));
    let upstream = &attempt.response.as_ref().unwrap().chunks;
    let upstream_text: String = upstream.iter().map(|c| c.data.as_str()).collect();
    assert_eq!(
        upstream_text,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>()
    );
    // What the client got, chunk by chunk, is exactly what it received, in time order.
    let client = &capture.client_response.chunks;
    assert_eq!(
        client.iter().map(|c| c.data.as_str()).collect::<String>(),
        got
    );
    assert!(client.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(
        upstream.last().unwrap().at_ms - upstream[0].at_ms >= 40.0,
        "arrival times are kept: {:?}",
        upstream.iter().map(|c| c.at_ms).collect::<Vec<_>>()
    );
    assert!(capture.timings.ttfb_ms.is_some());
    assert!(capture.timings.output_tokens_per_s.is_some_and(|r| r > 0.0));
}

#[tokio::test]
async fn a_failed_attempt_and_its_fallback_are_both_kept_with_why() {
    let (a, first) = fake_upstream().await;
    let (b, second) = fake_upstream().await;
    first.push(Reply::Json(
        500,
        r#"{"type":"error","error":{"type":"api_error","message":"first is down"}}"#.into(),
    ));
    second.push(Reply::Json(200, message_json("from the fallback")));
    let gw = Gateway::start(
        &config(
            ("anthropic", &format!("http://{a}")),
            Some(("anthropic", &format!("http://{b}"))),
            true,
        ),
        &[],
    )
    .await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
    let capture = captured(&gw, 1).await;
    assert_eq!(capture.attempts.len(), 2);
    let failed = &capture.attempts[0];
    assert_eq!(failed.backend, "first");
    assert_eq!(failed.response.as_ref().unwrap().status, 500);
    assert!(failed.error.as_deref().unwrap().contains("first is down"));
    assert_eq!(failed.next.as_deref(), Some("the next target"));
    let answered = &capture.attempts[1];
    assert_eq!(
        (answered.backend.as_str(), answered.upstream_model.as_str()),
        ("second", "second-model")
    );
    assert!(capture.client_response.body.contains("from the fallback"));
    assert!(answered.started_ms >= failed.started_ms);
}

#[tokio::test]
async fn nothing_is_captured_unless_asked_and_a_window_counts_its_requests() {
    let (up, fake) = fake_upstream().await;
    for i in 0..3 {
        fake.push(Reply::Json(200, message_json(&format!("a{i}"))));
    }
    let gw = Gateway::start(
        &config(("anthropic", &format!("http://{up}")), None, false),
        &[],
    )
    .await;
    let ask = || async { gw.ask("claude-sonnet-4-5", false).await.status() };
    assert_eq!(ask().await, 200);
    // `switchyard capture on --for 5m --requests 1` through the control API.
    let status: serde_json::Value = gw
        .client
        .put(format!("{}/switchyard/v1/capture", gw.base))
        .header("x-api-key", TOKEN)
        .json(&serde_json::json!({"minutes": 5, "requests": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["window"]["requests_left"], 1);
    assert_eq!(ask().await, 200);
    assert_eq!(ask().await, 200);
    let records = gw.records.wait_for(3).await;
    let captured: Vec<bool> = records.iter().map(|r| r.capture_id.is_some()).collect();
    assert_eq!(captured, [false, true, false]);
    assert_eq!(gw.engine.capture_status().window.until_ms, None);
    // /metrics counts what was captured and dropped.
    let metrics = gw.metrics_text().await;
    assert!(
        metrics.contains("\nswitchyard_captures_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nswitchyard_captures_dropped_total 0\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_canary_key_and_the_local_token_are_nowhere_in_the_database_or_the_export() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("one")));
    fake.push(Reply::Stream(
        sse_events()
            .into_iter()
            .map(|e| (Duration::from_millis(2), Bytes::from(e)))
            .collect(),
    ));
    let gw = Gateway::start(
        &config(("anthropic", &format!("http://{up}")), None, true),
        &["first"],
    )
    .await;
    for stream in [false, true] {
        let response = gw
            .post("/v1/messages")
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(request("claude-sonnet-4-5", stream))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }
    let records = gw.records.wait_for(2).await;
    assert!(records.iter().all(|r| r.capture_id.is_some()));
    // The upstream did get the key: the canary is real.
    assert_eq!(fake.seen()[0].headers["x-api-key"], BACKEND_KEY);
    let store = gw.engine.gateway().captures().unwrap().clone();
    store.flush();
    let db = store.path().to_owned();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let mut export = Vec::new();
    let n =
        switchyard_core::capture::export_jsonl(&conn, &Selection::Since(0), &mut export).unwrap();
    assert_eq!(n, 2);
    let export = String::from_utf8(export).unwrap();
    assert!(
        export.contains("Hello \u{4e16}\u{754c}"),
        "the export holds the bodies"
    );
    let mut files = vec![std::fs::read(&db).unwrap()];
    for suffix in ["-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", db.display())) {
            files.push(bytes);
        }
    }
    for canary in [BACKEND_KEY, TOKEN] {
        assert!(!export.contains(canary), "{canary} in the export");
        for bytes in &files {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{canary} in the database file"
            );
        }
    }
}

#[tokio::test]
async fn a_capture_replayed_to_another_backend_shows_both_answers() {
    let (a, first) = fake_upstream().await;
    let (b, second) = fake_upstream().await;
    first.push(Reply::Json(200, message_json("the local answer")));
    second.push(Reply::Json(200, message_json("the cloud answer")));
    let gw = Gateway::start(
        &config(
            ("anthropic", &format!("http://{a}")),
            Some(("anthropic", &format!("http://{b}"))),
            true,
        ),
        &[],
    )
    .await;
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", true).replace("\"stream\":true", "\"stream\":false"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id = gw.records.wait_for(1).await[0].capture_id.clone().unwrap();
    let report = gw
        .engine
        .replay(&id, ReplayTo::parse_target("second:cloud-model"))
        .await
        .unwrap();
    assert_eq!(report.original.text, "the local answer");
    assert_eq!(report.original.backend.as_deref(), Some("first"));
    assert_eq!(report.replay.text, "the cloud answer");
    assert_eq!(report.replay.backend.as_deref(), Some("second"));
    assert_eq!(report.replay.upstream_model.as_deref(), Some("cloud-model"));
    assert_eq!(report.replay.status, 200);
    assert_eq!(
        (report.replay.input_tokens, report.replay.output_tokens),
        (12, 3)
    );
    let sent: serde_json::Value = serde_json::from_slice(&second.seen()[0].body).unwrap();
    assert_eq!(sent["model"], "cloud-model");
    assert_eq!(sent["messages"][0]["content"], "hello");
    let records = gw.records.wait_for(2).await;
    assert_eq!(
        records[1].rule.as_deref(),
        Some("replay to second/cloud-model")
    );

    // An unknown target is refused with its name, and nothing is sent.
    let err = gw
        .engine
        .replay(&id, ReplayTo::parse_target("nowhere"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("nowhere"), "{err}");
    assert_eq!(second.seen().len(), 1);
}
