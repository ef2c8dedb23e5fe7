use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use crate::harness::*;
use switchyard_core::usage::RequestStatus;

fn ok_stream() -> Reply {
    Reply::Stream(
        sse_events()
            .into_iter()
            .map(|e| (Duration::ZERO, Bytes::from(e)))
            .collect(),
    )
}

async fn body_of(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

#[tokio::test]
async fn falls_back_when_the_first_backend_is_down() {
    let down = closed_port().await;
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("from the fallback")));
    let gw = Gateway::start(&passthrough_config(&[down, up], ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(body_of(response).await.contains("from the fallback"));
    // The fallback target has no model of its own: it gets the requested name.
    assert!(
        std::str::from_utf8(&fake.seen()[0].body)
            .unwrap()
            .contains("\"claude-sonnet-4-5\"")
    );
    let records = gw.records.wait_for(1).await;
    assert_eq!(
        (records[0].attempts, records[0].backend.as_deref()),
        (2, Some("b1"))
    );
}

#[tokio::test]
async fn falls_back_on_5xx_and_429_but_not_on_400() {
    let (a, fake_a) = fake_upstream().await;
    let (b, fake_b) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[a, b], ""), &[]).await;

    fake_a.push(Reply::Json(
        500,
        r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#.into(),
    ));
    fake_b.push(ok_stream());
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body_of(response).await, sse_events().concat());

    // b0 is cooling down after its 500, so b1 is tried first now; make both answer 429.
    fake_b.push(Reply::Json(
        429,
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
    ));
    fake_a.push(Reply::Json(
        429,
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down too"}}"#.into(),
    ));
    let response = gw
        .post("/v1/messages")
        .body(request("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");

    // A 400 is the request's fault: no other backend would do better.
    let (c, fake_c) = fake_upstream().await;
    let (d, fake_d) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[c, d], ""), &[]).await;
    fake_c.push(Reply::Json(400, r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208656 tokens > 200000 maximum"}}"#.into()));
    let response = gw
        .post("/v1/messages")
        .body(request("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: 208656 tokens > 200000 maximum"
    );
    assert!(fake_d.seen().is_empty());
}

#[tokio::test]
async fn falls_back_when_the_first_byte_does_not_come_in_time() {
    let (slow, fake_slow) = fake_upstream().await;
    let (fast, fake_fast) = fake_upstream().await;
    fake_slow.push(Reply::Delay(Duration::from_secs(5), Box::new(ok_stream())));
    fake_fast.push(ok_stream());
    let gw = Gateway::start(
        &passthrough_config(&[slow, fast], "timeout_first_byte_s = 1"),
        &[],
    )
    .await;
    let started = std::time::Instant::now();
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body_of(response).await, sse_events().concat());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "fallback took {:?}",
        started.elapsed()
    );
    assert_eq!(fake_fast.seen().len(), 1);
}

#[tokio::test]
async fn all_backends_down_gives_a_502_naming_the_backend() {
    let down = closed_port().await;
    let gw = Gateway::start(&passthrough_config(&[down], ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"b0\"") && message.contains(&down.to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn an_upstream_failure_mid_stream_becomes_an_error_event() {
    let (a, fake_a) = fake_upstream().await;
    let (b, fake_b) = fake_upstream().await;
    let events = sse_events();
    // The break happens in the middle of an event.
    let partial = &events[2][..20];
    fake_a.push(Reply::StreamThenBreak(vec![
        Bytes::from(events[0].clone()),
        Bytes::from(events[1].clone()),
        Bytes::from(partial.to_owned()),
    ]));
    let gw = Gateway::start(&passthrough_config(&[a, b], ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = body_of(response).await;
    let expected_start = format!("{}{}{}\n\n", events[0], events[1], partial);
    assert!(text.starts_with(&expected_start), "{text}");
    let tail = &text[expected_start.len()..];
    assert!(tail.starts_with("event: error\ndata: "), "{tail}");
    assert!(
        tail.contains("\"api_error\"") && tail.contains("mid-stream"),
        "{tail}"
    );
    assert!(tail.ends_with("\n\n"));
    // No fallback once bytes reached the client.
    assert!(fake_b.seen().is_empty());
    let records = gw.records.wait_for(1).await;
    assert_eq!(records[0].status, RequestStatus::Error);
    assert_eq!(
        records[0].usage.input_tokens, 25,
        "tokens seen so far are kept"
    );
}

/// An event that never ends (17 MiB without a blank line) is cut off by an error event once
/// past 16 MiB; the gateway holds none of it and relays nothing more.
#[tokio::test]
async fn an_endless_event_is_cut_off_with_an_error_event() {
    let (a, fake_a) = fake_upstream().await;
    let events = sse_events();
    let mut chunks = vec![
        (Duration::ZERO, Bytes::from(events[0].clone())),
        (
            Duration::ZERO,
            Bytes::from_static(b"event: content_block_delta\ndata: "),
        ),
    ];
    chunks.extend((0..17).map(|_| (Duration::ZERO, Bytes::from(vec![b'x'; 1 << 20]))));
    chunks.push((Duration::ZERO, Bytes::from(events[1].clone())));
    fake_a.push(Reply::Stream(chunks));
    let gw = Gateway::start(&passthrough_config(&[a], ""), &[]).await;
    let text = body_of(
        gw.post("/v1/messages")
            .body(request("m", true))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.starts_with(&events[0]), "the start is relayed as is");
    assert!(text.len() < 17 << 20, "{} bytes relayed", text.len());
    let tail = &text[text.len().saturating_sub(400)..];
    assert!(
        tail.contains("\n\nevent: error\ndata: ") && tail.contains("larger than 16 MiB"),
        "{tail}"
    );
    assert!(
        !text.contains("content_block_start"),
        "nothing after the error"
    );
    let records = gw.records.wait_for(1).await;
    assert_eq!(records[0].status, RequestStatus::Error);
}

#[tokio::test]
async fn a_stream_that_ends_early_gets_an_error_event() {
    let (a, fake_a) = fake_upstream().await;
    let events = sse_events();
    fake_a.push(Reply::Stream(
        events[..3]
            .iter()
            .map(|e| (Duration::ZERO, Bytes::from(e.clone())))
            .collect(),
    ));
    let gw = Gateway::start(&passthrough_config(&[a], ""), &[]).await;
    let text = body_of(
        gw.post("/v1/messages")
            .body(request("m", true))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.starts_with(&events[..3].concat()));
    assert!(
        text.contains("event: error") && text.contains("before the message was complete"),
        "{text}"
    );
}

#[tokio::test]
async fn silence_gets_pings_and_then_the_idle_timeout() {
    let (a, fake_a) = fake_upstream().await;
    let events = sse_events();
    fake_a.push(Reply::StreamThenHang(vec![Bytes::from(events[0].clone())]));
    let gw = Gateway::start(&passthrough_config(&[a], "timeout_idle_s = 12"), &[]).await;
    let started = std::time::Instant::now();
    let text = body_of(
        gw.post("/v1/messages")
            .body(request("m", true))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(text.starts_with(&events[0]));
    assert!(
        text.contains("event: ping\ndata: {\"type\":\"ping\"}\n\n"),
        "{text}"
    );
    assert!(
        text.contains("\"timeout_error\"") && text.contains("timeout_idle_s"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Bytes that never complete an event are no sign of life: the idle timeout fires anyway
/// (it used to be reset by every byte, and the select never looked at the timers while bytes
/// kept coming).
#[tokio::test]
async fn a_trickle_without_events_still_times_out() {
    let (a, fake_a) = fake_upstream().await;
    let events = sse_events();
    let mut chunks = vec![
        (Duration::ZERO, Bytes::from(events[0].clone())),
        (
            Duration::ZERO,
            Bytes::from_static(b"event: content_block_delta\ndata: "),
        ),
    ];
    // 8 s of one byte every 50 ms, never a blank line.
    chunks.extend((0..160).map(|_| (Duration::from_millis(50), Bytes::from_static(b"x"))));
    fake_a.push(Reply::Stream(chunks));
    let gw = Gateway::start(&passthrough_config(&[a], "timeout_idle_s = 2"), &[]).await;
    let started = std::time::Instant::now();
    let text = body_of(
        gw.post("/v1/messages")
            .body(request("m", true))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        text.contains("\"timeout_error\"") && text.contains("no complete event for 2 s"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the timeout waited for the trickle to end: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_client_that_goes_away_cancels_the_upstream() {
    let (a, fake_a) = fake_upstream().await;
    let mut dropped = fake_a.on_drop();
    fake_a.push(Reply::StreamThenHang(vec![Bytes::from(
        sse_events()[0].clone(),
    )]));
    let gw = Gateway::start(&passthrough_config(&[a], ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"event: message_start"));
    drop(stream);
    tokio::time::timeout(Duration::from_secs(5), dropped.recv())
        .await
        .expect("the upstream request was not cancelled within 5 s")
        .unwrap();
    let records = gw.records.wait_for(1).await;
    assert_eq!(records[0].status, RequestStatus::Cancelled);
}

#[tokio::test]
async fn the_active_profile_switches_at_runtime_and_persists() {
    let (a, fake_a) = fake_upstream().await;
    let (b, fake_b) = fake_upstream().await;
    let config = format!(
        "active_profile = \"local\"\n[[backends]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"http://{a}\"\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://{b}\"\n[profiles.local]\ndefault = {{ backend = \"a\" }}\n[profiles.cloud]\ndefault = {{ backend = \"b\" }}\n"
    );
    let gw = Gateway::start(&config, &[]).await;
    fake_a.push(Reply::Json(200, message_json("a")));
    assert!(
        body_of(
            gw.post("/v1/messages")
                .body(request("m", false))
                .send()
                .await
                .unwrap()
        )
        .await
        .contains("\"a\"")
    );

    let switched = gw
        .client
        .put(format!("{}/switchyard/v1/profile", gw.base))
        .header("x-api-key", TOKEN)
        .json(&serde_json::json!({"profile": "cloud"}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200);
    fake_b.push(Reply::Json(200, message_json("b")));
    assert!(
        body_of(
            gw.post("/v1/messages")
                .body(request("m", false))
                .send()
                .await
                .unwrap()
        )
        .await
        .contains("\"b\"")
    );
    assert_eq!(fake_a.seen().len(), 1);
    let saved = std::fs::read_to_string(gw.dir.path().join("config.toml")).unwrap();
    assert!(saved.contains("active_profile = \"cloud\""), "{saved}");

    let refused = gw
        .client
        .put(format!("{}/switchyard/v1/profile", gw.base))
        .header("x-api-key", TOKEN)
        .json(&serde_json::json!({"profile": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(gw.engine.config().active_profile, "cloud");
}

#[tokio::test]
async fn retries_the_same_backend_with_backoff_before_falling_back() {
    let (a, fake_a) = fake_upstream().await;
    let (b, fake_b) = fake_upstream().await;
    fake_a.push(Reply::Json(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#.into(),
    ));
    fake_a.push(Reply::Json(200, message_json("second try")));
    let gw = Gateway::start(&passthrough_config(&[a, b], "retries = 1"), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("m", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(body_of(response).await.contains("second try"));
    assert_eq!(fake_a.seen().len(), 2);
    assert!(fake_b.seen().is_empty());
    let records = gw.records.wait_for(1).await;
    assert_eq!(
        (records[0].attempts, records[0].backend.as_deref()),
        (2, Some("b0"))
    );
}

/// The app's "Last error" is news, not history: a success after a failure clears it, and so
/// do pause and resume (it used to stay until the app restarted).
#[tokio::test]
async fn last_error_clears_after_a_success_and_on_pause() {
    let down = closed_port().await;
    let (up, fake) = fake_upstream().await;
    let config = format!(
        "active_profile = \"main\"\n[[backends]]\nid = \"down\"\nkind = \"anthropic\"\nbase_url = \"http://{down}\"\n[[backends]]\nid = \"up\"\nkind = \"anthropic\"\nbase_url = \"http://{up}\"\n[profiles.main]\n[[profiles.main.rules]]\nmatch = \"*broken*\"\ntargets = [{{ backend = \"down\" }}]\n[[profiles.main.rules]]\nmatch = \"*\"\ntargets = [{{ backend = \"up\" }}]\n"
    );
    let gw = Gateway::start(&config, &[]).await;
    assert_eq!(gw.engine.last_error(), None);

    let failed = gw
        .post("/v1/messages")
        .body(request("claude-broken-1", false))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 502);
    gw.records.wait_for(1).await;
    let last = gw
        .engine
        .last_error()
        .expect("a failed request is the last error");
    assert_eq!(last.requested_model, "claude-broken-1");
    assert_eq!(last.backend.as_deref(), Some("down"));

    fake.push(Reply::Json(200, message_json("fine")));
    let ok = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    gw.records.wait_for(2).await;
    assert_eq!(gw.engine.last_error(), None, "a success clears it");

    gw.post("/v1/messages")
        .body(request("claude-broken-2", false))
        .send()
        .await
        .unwrap();
    gw.records.wait_for(3).await;
    assert!(gw.engine.last_error().is_some());
    gw.engine.set_paused(true);
    assert_eq!(gw.engine.last_error(), None, "pausing clears it");
    gw.engine.set_paused(false);
    assert_eq!(gw.engine.last_error(), None);
}

/// The app's "Test a model" reports what answered *its* request (by id, not by model name):
/// here the first target is down and the fallback answers.
#[tokio::test]
async fn route_test_reports_the_backend_that_answered_its_request() {
    let down = closed_port().await;
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("ok")));
    let gw = Gateway::start(&passthrough_config(&[down, up], ""), &[]).await;
    let result = gw.engine.test_route("claude-sonnet-4-5").await.unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.profile, "main");
    assert_eq!(result.backend.as_deref(), Some("b1"));
    assert_eq!(result.upstream_model.as_deref(), Some("claude-sonnet-4-5"));
    assert_eq!(result.attempts, 2);
    assert_eq!(result.detail, "ok");
    // The test went through the real gateway: it is in the usage history like any request.
    let records = gw.records.wait_for(1).await;
    assert!(
        records[0]
            .client
            .as_deref()
            .is_some_and(|c| c.starts_with("switchyard-route-test/"))
    );

    // Nothing answers: a failed test with the gateway's own message, not a panic or a hang.
    let gw = Gateway::start(&passthrough_config(&[down], ""), &[]).await;
    let failed = gw.engine.test_route("claude-sonnet-4-5").await.unwrap();
    assert!(!failed.ok);
    assert_eq!(failed.backend.as_deref(), Some("b0"));
    assert!(failed.detail.contains("b0"), "{}", failed.detail);
}
