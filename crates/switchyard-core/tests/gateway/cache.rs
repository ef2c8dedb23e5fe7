//! The response cache through the real gateway: a hit answers without reaching the upstream
//! (which counts what it sees), in either shape, and survives a restart; what must miss
//! misses; errors and incomplete answers are never kept.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{MemoryStore, SecretStore, SecretString, backend_account};
use switchyard_core::usage::RequestStatus;

use crate::harness::*;

/// Profile `main` caches (the default route to `upstream-model`, haiku to `haiku-upstream`);
/// profile `plain` does not. `cache` is more of the `[cache]` table.
fn config(up: SocketAddr, cache: &str) -> String {
    format!(
        "active_profile = \"main\"\n[cache]\nenabled = true\n{cache}\n[[backends]]\nid = \"b0\"\nkind = \"anthropic\"\nbase_url = \"http://{up}\"\nlocal = false\n[profiles.main]\ncache = true\ndefault = {{ backend = \"b0\", model = \"upstream-model\" }}\n[[profiles.main.rules]]\nmatch = \"*haiku*\"\ntargets = [{{ backend = \"b0\", model = \"haiku-upstream\" }}]\n[profiles.plain]\ndefault = {{ backend = \"b0\", model = \"upstream-model\" }}\n"
    )
}

const TOOLS: &str = r#"[{"name":"Bash","description":"Run a command","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}]"#;

/// A Claude-Code-like request: system, tools, metadata.
fn body(model: &str, stream: bool, user: &str) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":256,"stream":{stream},"metadata":{{"user_id":"user_a_account__session_1"}},"system":[{{"type":"text","text":"You are a helpful agent.","cache_control":{{"type":"ephemeral"}}}}],"tools":{TOOLS},"messages":[{{"role":"user","content":"{user}"}}]}}"#
    )
}

fn sse_reply(events: &[String]) -> Reply {
    Reply::Stream(
        events
            .iter()
            .map(|e| (Duration::from_millis(5), Bytes::from(e.clone())))
            .collect(),
    )
}

struct Answer {
    status: u16,
    cache: Option<String>,
    content_type: String,
    body: String,
}

async fn send(gw: &Gateway, path: &str, body: String) -> Answer {
    let response = gw.post(path).body(body).send().await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let cache = header("x-switchyard-cache");
    let content_type = header("content-type").unwrap_or_default();
    let status = response.status().as_u16();
    // Read to the end chunk by chunk, as a streaming client does.
    let mut bytes = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    Answer {
        status,
        cache,
        content_type,
        body: String::from_utf8(bytes).unwrap(),
    }
}

/// (event name, JSON data) of an SSE body, pings left out.
fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (name, serde_json::from_str(&data).unwrap())
        })
        .filter(|(name, _)| name != "ping")
        .collect()
}

/// What the harness's `sse_events()` add up to, as a non-streaming answer.
fn sse_events_as_message() -> Value {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "upstream-model",
        "content": [
            {"type": "thinking", "thinking": "Let me think \u{2014} caf\u{e9}.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk+/=="},
            {"type": "text", "text": "Hello \u{4e16}\u{754c}"}
        ],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 25, "output_tokens": 42, "cache_creation_input_tokens": 7, "cache_read_input_tokens": 100}
    })
}

#[tokio::test]
async fn a_repeated_request_is_answered_without_the_upstream() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("from the cache")));
    let gw = Gateway::start(&config(up, ""), &["b0"]).await;
    let request = body("claude-sonnet-4-5", false, "hello");

    let first = send(&gw, "/v1/messages", request.clone()).await;
    assert_eq!((first.status, first.cache.as_deref()), (200, Some("miss")));
    assert_eq!(first.body, message_json("from the cache"));
    gw.records.wait_for(1).await;
    let load = &gw.engine.gateway().load;
    let (latency, tokens) = (
        load.latency_ms("b0", "upstream-model"),
        load.minute_tokens("b0"),
    );
    assert!(latency.is_some() && tokens > 0);
    let second = send(&gw, "/v1/messages", request).await;
    assert_eq!((second.status, second.cache.as_deref()), (200, Some("hit")));
    assert_eq!(second.body, first.body);
    assert_eq!(second.content_type, "application/json");
    assert_eq!(fake.seen().len(), 1, "the hit reached the upstream");

    let records = gw.records.wait_for(2).await;
    let (miss, hit) = (&records[0], &records[1]);
    assert!(!miss.cache_hit && hit.cache_hit);
    assert_eq!(hit.status, RequestStatus::Ok);
    assert_eq!(hit.usage, miss.usage, "a hit reports the original's tokens");
    assert_eq!(hit.backend.as_deref(), Some("b0"));
    assert_eq!(hit.upstream_model.as_deref(), Some("upstream-model"));
    assert_eq!(hit.attempts, 1);
    // The backend did no work: the balancing strategies' figures did not move.
    assert_eq!(load.latency_ms("b0", "upstream-model"), latency);
    assert_eq!(load.minute_tokens("b0"), tokens);
    assert_eq!(load.in_flight("b0"), 0);
    let metrics = gw
        .client
        .get(format!("{}/metrics", gw.base))
        .header("x-api-key", TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("switchyard_cache_hits_total 1\n"),
        "{metrics}"
    );

    // A profile without caching neither reads the cache nor says anything about it.
    fake.push(Reply::Json(200, message_json("fresh")));
    let plain = send(
        &gw,
        "/profiles/plain/v1/messages",
        body("claude-sonnet-4-5", false, "hello"),
    )
    .await;
    assert_eq!((plain.status, plain.cache), (200, None));
    assert_eq!(plain.body, message_json("fresh"));
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn a_repeated_stream_replays_the_same_events() {
    let (up, fake) = fake_upstream().await;
    let upstream_events = sse_events();
    fake.push(sse_reply(&upstream_events));
    let gw = Gateway::start(&config(up, ""), &["b0"]).await;
    let request = body("claude-sonnet-4-5", true, "hello");

    let first = send(&gw, "/v1/messages", request.clone()).await;
    assert_eq!((first.status, first.cache.as_deref()), (200, Some("miss")));
    assert_eq!(first.body, upstream_events.concat());
    let second = send(&gw, "/v1/messages", request).await;
    assert_eq!((second.status, second.cache.as_deref()), (200, Some("hit")));
    assert!(second.content_type.starts_with("text/event-stream"));
    // Byte for byte what the client got the first time, which is what the upstream sent.
    assert_eq!(second.body, first.body);
    assert_eq!(fake.seen().len(), 1);

    let records = gw.records.wait_for(2).await;
    assert!(records[1].cache_hit && records[1].stream);
    assert_eq!(records[1].usage, records[0].usage);
    assert_eq!(records[1].usage.output_tokens, 42);
}

#[tokio::test]
async fn one_stored_answer_serves_both_shapes() {
    let (up, fake) = fake_upstream().await;
    fake.push(sse_reply(&sse_events()));
    fake.push(Reply::Json(200, message_json("stored as JSON")));
    let gw = Gateway::start(&config(up, ""), &["b0"]).await;

    // Streamed first, then asked without streaming: the stream folded into a message.
    let streamed = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "one")).await;
    assert_eq!(streamed.cache.as_deref(), Some("miss"));
    let whole = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "one")).await;
    assert_eq!((whole.status, whole.cache.as_deref()), (200, Some("hit")));
    assert_eq!(whole.content_type, "application/json");
    let message: Value = serde_json::from_str(&whole.body).unwrap();
    assert_eq!(message, sse_events_as_message());

    // JSON first, then streamed: a well-formed stream adding up to the same message.
    let json_first = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "two")).await;
    assert_eq!(json_first.cache.as_deref(), Some("miss"));
    let replayed = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "two")).await;
    assert_eq!(
        (replayed.status, replayed.cache.as_deref()),
        (200, Some("hit"))
    );
    assert!(replayed.content_type.starts_with("text/event-stream"));
    let events = events(&replayed.body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[0].1["message"]["id"], "msg_1");
    assert_eq!(events[0].1["message"]["content"], json!([]));
    assert_eq!(events[2].1["delta"]["text"], "stored as JSON");
    assert_eq!(events[4].1["delta"]["stop_reason"], "end_turn");
    assert_eq!(events[4].1["usage"]["output_tokens"], 3);
    assert_eq!(fake.seen().len(), 2);

    let records = gw.records.wait_for(4).await;
    let hits: Vec<bool> = records.iter().map(|r| r.cache_hit).collect();
    assert_eq!(hits, [false, true, false, true]);
}

#[tokio::test]
async fn a_change_that_matters_misses_and_one_that_does_not_hits() {
    let (up, fake) = fake_upstream().await;
    let gw = Gateway::start(&config(up, ""), &["b0"]).await;
    let base = body("claude-sonnet-4-5", false, "hello");
    let mut upstream_calls = 0;
    let mut expect = async |request: String, hit: bool, why: &str| {
        if !hit {
            fake.push(Reply::Json(200, message_json(why)));
            upstream_calls += 1;
        }
        let answer = send(&gw, "/v1/messages", request).await;
        assert_eq!(answer.status, 200, "{why}: {}", answer.body);
        let expected = if hit { "hit" } else { "miss" };
        assert_eq!(answer.cache.as_deref(), Some(expected), "{why}");
        assert_eq!(fake.seen().len(), upstream_calls, "{why}");
    };
    expect(base.clone(), false, "first").await;
    expect(base.clone(), true, "the same").await;
    expect(
        base.replace("user_a_account__session_1", "user_b_account__session_2"),
        true,
        "another metadata.user_id",
    )
    .await;
    expect(
        base.replace(
            r#""max_tokens":256,"stream":false,"#,
            r#""max_tokens":256,"#,
        ),
        true,
        "no stream field at all",
    )
    .await;
    expect(
        base.replace("Run a command", "Run a shell command"),
        false,
        "a changed tool",
    )
    .await;
    expect(base.replace(TOOLS, "[]"), false, "no tools").await;
    expect(
        base.replace("a helpful agent", "a terse agent"),
        false,
        "another system prompt",
    )
    .await;
    expect(
        base.replace(r#""max_tokens":256"#, r#""max_tokens":256,"temperature":0"#),
        false,
        "a sampling parameter",
    )
    .await;
    expect(
        body("claude-haiku-4-5", false, "hello"),
        false,
        "a model routed to another upstream model",
    )
    .await;
    // A pass-through answer depends on the upstream model, not on the name asked for.
    expect(
        body("claude-opus-4-1", false, "hello"),
        true,
        "another name for the same upstream model",
    )
    .await;
}

#[tokio::test]
async fn errors_and_incomplete_answers_are_never_cached() {
    let (up, fake) = fake_upstream().await;
    let gw = Gateway::start(&config(up, ""), &["b0"]).await;

    // An error answer.
    fake.push(Reply::Json(
        400,
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long"}}"#.into(),
    ));
    let failed = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "a")).await;
    assert_eq!(failed.status, 400);
    fake.push(Reply::Json(200, message_json("after the error")));
    let retried = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "a")).await;
    assert_eq!(
        (retried.status, retried.cache.as_deref()),
        (200, Some("miss"))
    );
    assert_eq!(fake.seen().len(), 2);

    // A stream cut off mid-way (the client gets an error event).
    let events = sse_events();
    fake.push(Reply::StreamThenBreak(
        events[..4].iter().map(|e| Bytes::from(e.clone())).collect(),
    ));
    let cut = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "b")).await;
    assert!(cut.body.contains("event: error"), "{}", cut.body);
    // A stream that pauses its turn (a server tool wants it continued).
    let paused: Vec<String> = events
        .iter()
        .map(|e| {
            e.replace(
                "\"stop_reason\":\"end_turn\"",
                "\"stop_reason\":\"pause_turn\"",
            )
        })
        .collect();
    fake.push(sse_reply(&paused));
    let pause = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "b")).await;
    assert_eq!(pause.cache.as_deref(), Some("miss"));
    assert!(pause.body.contains("pause_turn"));
    // A stream whose upstream sent an error event after starting.
    let mut errored = events[..6].to_vec();
    errored.push("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".into());
    fake.push(sse_reply(&errored));
    let error_event = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "b")).await;
    assert!(error_event.body.contains("overloaded_error"));
    // None of them was kept: the next one reaches the upstream, and is kept.
    fake.push(sse_reply(&events));
    let complete = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "b")).await;
    assert_eq!(complete.cache.as_deref(), Some("miss"));
    assert_eq!(fake.seen().len(), 6);
    let again = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "b")).await;
    assert_eq!(again.cache.as_deref(), Some("hit"));
    assert_eq!(again.body, events.concat());
    assert_eq!(fake.seen().len(), 6);

    // A non-streaming answer that refuses is not kept either.
    let refusal = message_json("no").replace("\"end_turn\"", "\"refusal\"");
    fake.push(Reply::Json(200, refusal.clone()));
    fake.push(Reply::Json(200, refusal));
    for _ in 0..2 {
        let answer = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "c")).await;
        assert_eq!(answer.cache.as_deref(), Some("miss"));
    }
    assert_eq!(fake.seen().len(), 8);
}

#[tokio::test]
async fn an_answer_expires_after_its_ttl() {
    let (up, fake) = fake_upstream().await;
    let gw = Gateway::start(&config(up, "ttl_s = 1"), &["b0"]).await;
    let request = body("claude-sonnet-4-5", false, "hello");
    fake.push(Reply::Json(200, message_json("one")));
    assert_eq!(
        send(&gw, "/v1/messages", request.clone())
            .await
            .cache
            .as_deref(),
        Some("miss")
    );
    assert_eq!(
        send(&gw, "/v1/messages", request.clone())
            .await
            .cache
            .as_deref(),
        Some("hit")
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fake.push(Reply::Json(200, message_json("two")));
    let expired = send(&gw, "/v1/messages", request).await;
    assert_eq!(expired.cache.as_deref(), Some("miss"));
    assert_eq!(expired.body, message_json("two"));
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn the_cache_survives_a_restart() {
    let (up, fake) = fake_upstream().await;
    let text = config(up, "");
    let gw = Gateway::start(&text, &["b0"]).await;
    fake.push(sse_reply(&sse_events()));
    let request = body("claude-sonnet-4-5", true, "hello");
    let first = send(&gw, "/v1/messages", request.clone()).await;
    assert_eq!(first.cache.as_deref(), Some("miss"));
    gw.engine.shutdown().await;
    let Gateway { dir, .. } = gw;

    let gw = Gateway::start_in(dir, &text, &["b0"]).await;
    let again = send(&gw, "/v1/messages", request).await;
    assert_eq!(again.cache.as_deref(), Some("hit"));
    assert_eq!(again.body, first.body);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn the_least_recently_used_answer_goes_when_the_cache_is_full() {
    let (up, fake) = fake_upstream().await;
    // 1 MiB: room for five answers of 200 KB (one answer may take a quarter).
    let gw = Gateway::start(&config(up, "max_mib = 1"), &["b0"]).await;
    let big = |i: usize| message_json(&format!("{i}{}", "x".repeat(200_000)));
    for i in 0..6 {
        fake.push(Reply::Json(200, big(i)));
        let answer = send(
            &gw,
            "/v1/messages",
            body("claude-sonnet-4-5", false, &format!("q{i}")),
        )
        .await;
        assert_eq!(answer.cache.as_deref(), Some("miss"));
        // Used again (a hit) every time but the first: answer 1 is then the oldest in use.
        if i == 0 {
            continue;
        }
        let first = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "q0")).await;
        assert_eq!(first.cache.as_deref(), Some("hit"), "after {i}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gw.engine.flush_cache().await.unwrap();
    assert_eq!(fake.seen().len(), 6);
    // The sixth answer pushed the least recently used (q1) out; q0, used all along, stays.
    fake.push(Reply::Json(200, big(1)));
    let evicted = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "q1")).await;
    assert_eq!(evicted.cache.as_deref(), Some("miss"));
    assert_eq!(fake.seen().len(), 7);
    for kept in ["q0", "q5"] {
        let answer = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, kept)).await;
        assert_eq!(answer.cache.as_deref(), Some("hit"), "{kept}");
    }
}

/// The usage database marks the hit, prices it at 0 and counts what it would have cost as
/// saved (the backend says `local = false`: its answers cost money).
#[tokio::test]
async fn the_usage_row_of_a_hit_costs_nothing_and_counts_as_saved() {
    let (up, fake) = fake_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    // The upstream model is one with a price, so that a miss costs something.
    let text = config(up, "").replace(
        "model = \"upstream-model\"",
        "model = \"claude-sonnet-4-5\"",
    );
    std::fs::write(&path, text).unwrap();
    let secrets = Arc::new(MemoryStore::default());
    secrets
        .set(
            &backend_account("b0"),
            &SecretString::from(BACKEND_KEY.to_owned()),
        )
        .unwrap();
    let engine = Engine::start(
        EngineOptions {
            config_path: Some(path),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from(TOKEN.to_owned())),
            data_dir: Some(dir.path().to_owned()),
            ..Default::default()
        },
        secrets,
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let request = body("claude-sonnet-4-5", false, "hello");
    fake.push(Reply::Json(200, message_json("priced")));
    for expected in ["miss", "hit"] {
        let response = client
            .post(format!("http://{}/v1/messages", engine.listen_addr()))
            .header("x-api-key", TOKEN)
            .header("content-type", "application/json")
            .body(request.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-switchyard-cache"], expected);
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
    }
    assert_eq!(fake.seen().len(), 1);
    engine.flush_usage().await.unwrap();
    let rows = engine.usage_history().unwrap().recent(10).await.unwrap();
    let (hit, miss) = (&rows[0], &rows[1]);
    assert!(hit.cache_hit && !miss.cache_hit);
    // The CSV export says so too (newest first: the hit, then the miss).
    let csv_path = dir.path().join("usage.csv");
    engine
        .usage_history()
        .unwrap()
        .export_csv(Default::default(), csv_path.clone())
        .await
        .unwrap();
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].ends_with(",Cache hit,Key,Capture ID"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(",yes,,") && lines[2].ends_with(",no,,"),
        "{csv}"
    );
    assert!(miss.cost_usd.unwrap() > 0.0, "{miss:?}");
    assert_eq!(hit.cost_usd, Some(0.0));
    assert_eq!(hit.cloud_equiv_usd, miss.cloud_equiv_usd);
    assert!(hit.cloud_equiv_usd.unwrap() > 0.0);
    assert_eq!(
        (hit.input_tokens, hit.output_tokens),
        (miss.input_tokens, miss.output_tokens)
    );
    let summary = engine
        .usage_history()
        .unwrap()
        .summary(Default::default(), engine.config())
        .await
        .unwrap();
    let equiv = hit.cloud_equiv_usd.unwrap();
    assert!(
        (summary.saved_usd - equiv).abs() < 1e-9,
        "saved {} (the hit's cloud equivalent is {equiv})",
        summary.saved_usd
    );
    engine.shutdown().await;
}

/// A translated stream is kept as the events the client got (the translation's, not the
/// upstream's chunks) and replayed without calling the OpenAI-style upstream.
#[tokio::test]
async fn a_translated_stream_is_cached_as_the_client_got_it() {
    let (up, fake) = fake_upstream().await;
    let chunks = [
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello "}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"there."}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"c1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":17}}"#,
        "[DONE]",
    ];
    fake.push(Reply::Stream(
        chunks
            .iter()
            .map(|c| {
                (
                    Duration::from_millis(5),
                    Bytes::from(format!("data: {c}\n\n")),
                )
            })
            .collect(),
    ));
    let text = format!(
        "active_profile = \"p\"\n[cache]\nenabled = true\n[[backends]]\nid = \"t\"\nkind = \"openai_chat\"\nbase_url = \"http://{up}/v1\"\ncontext_length = 100000\n[profiles.p]\ncache = true\ndefault = {{ backend = \"t\", model = \"local-model\" }}\n"
    );
    let gw = Gateway::start(&text, &["t"]).await;
    let first = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "hi")).await;
    assert_eq!((first.status, first.cache.as_deref()), (200, Some("miss")));
    let again = send(&gw, "/v1/messages", body("claude-sonnet-4-5", true, "hi")).await;
    assert_eq!(again.cache.as_deref(), Some("hit"));
    assert_eq!(events(&again.body), events(&first.body));
    let whole = send(&gw, "/v1/messages", body("claude-sonnet-4-5", false, "hi")).await;
    assert_eq!(whole.cache.as_deref(), Some("hit"));
    let message: Value = serde_json::from_str(&whole.body).unwrap();
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Hello there."}])
    );
    assert_eq!(message["model"], "claude-sonnet-4-5");
    assert_eq!(message["usage"]["output_tokens"], 17);
    assert_eq!(fake.seen().len(), 1);
    // The translation names the requested model in its answer: another name is another key.
    fake.push(Reply::Json(
        200,
        r#"{"id":"c2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#.into(),
    ));
    let other = send(&gw, "/v1/messages", body("claude-opus-4-1", false, "hi")).await;
    assert_eq!(other.cache.as_deref(), Some("miss"));
    assert_eq!(fake.seen().len(), 2);
}
