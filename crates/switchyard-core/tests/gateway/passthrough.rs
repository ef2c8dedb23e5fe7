use bytes::Bytes;
use futures::StreamExt;
use std::time::Duration;

use crate::harness::*;
use switchyard_core::usage::RequestStatus;

#[tokio::test]
async fn non_streaming_is_forwarded_byte_exact_except_model_and_credentials() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("hi there")));
    let gw = Gateway::start(&passthrough_config(&[up], ""), &["b0"]).await;

    // Unusual spacing, escapes and an unknown field must survive untouched.
    let body = r#"{"model" : "claude-sonnet-4-5", "max_tokens":64,"messages":[{"role":"user","content":"caf\u00e9"}],"future_field":{"a":[1.50,2]}}"#;
    let response = gw
        .post("/v1/messages?beta=true")
        .header("anthropic-beta", "claude-code-20250219,new-beta-2099")
        .header("x-claude-code-session-id", "sess-1")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), message_json("hi there"));

    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    let upstream = &seen[0];
    assert_eq!(upstream.path, "/v1/messages");
    assert_eq!(upstream.query.as_deref(), Some("beta=true"));
    assert_eq!(
        std::str::from_utf8(&upstream.body).unwrap(),
        body.replace("\"claude-sonnet-4-5\"", "\"upstream-model\"")
    );
    assert_eq!(upstream.headers["x-api-key"], BACKEND_KEY);
    assert!(upstream.headers.get("authorization").is_none());
    assert_eq!(
        upstream.headers["anthropic-beta"],
        "claude-code-20250219,new-beta-2099"
    );
    assert_eq!(upstream.headers["anthropic-version"], "2023-06-01");
    assert_eq!(upstream.headers["x-claude-code-session-id"], "sess-1");

    let records = gw.records.wait_for(1).await;
    let r = &records[0];
    assert_eq!(r.status, RequestStatus::Ok);
    assert_eq!(r.requested_model, "claude-sonnet-4-5");
    assert_eq!(r.upstream_model.as_deref(), Some("upstream-model"));
    assert_eq!(r.backend.as_deref(), Some("b0"));
    assert_eq!(r.session_id.as_deref(), Some("sess-1"));
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.output_tokens,
            r.usage.cache_read_input_tokens
        ),
        (12, 3, 4)
    );
    assert_eq!(r.attempts, 1);
    assert!(!r.stream);
}

#[tokio::test]
async fn streams_are_relayed_byte_exact_as_they_arrive() {
    let (up, fake) = fake_upstream().await;
    let events = sse_events();
    // Chunks that split events (and a multi-byte character) anywhere, with pauses between.
    let all: Vec<u8> = events.concat().into_bytes();
    let cuts = [5, 180, 181, 400, 401, 402, 650, all.len()];
    let mut chunks = Vec::new();
    let mut last = 0;
    for cut in cuts {
        chunks.push((
            Duration::from_millis(30),
            Bytes::copy_from_slice(&all[last..cut]),
        ));
        last = cut;
    }
    fake.push(Reply::Stream(chunks));
    let gw = Gateway::start(&passthrough_config(&[up], ""), &["b0"]).await;

    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut received = Vec::new();
    let mut pieces = 0;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        received.extend_from_slice(&chunk.unwrap());
        pieces += 1;
    }
    assert_eq!(String::from_utf8(received).unwrap(), events.concat());
    // Relayed as they arrived, not buffered into one body.
    assert!(pieces >= 4, "the stream arrived in {pieces} pieces");

    let records = gw.records.wait_for(1).await;
    let r = &records[0];
    assert_eq!(r.status, RequestStatus::Ok);
    assert!(r.stream);
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.output_tokens,
            r.usage.cache_creation_input_tokens,
            r.usage.cache_read_input_tokens
        ),
        (25, 42, 7, 100)
    );
    assert!(r.ttft_ms.is_some());
}

#[tokio::test]
async fn count_tokens_is_forwarded_to_a_passthrough_backend() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, r#"{"input_tokens":2095}"#.into()));
    let gw = Gateway::start(&passthrough_config(&[up], ""), &["b0"]).await;
    let response = gw
        .post("/v1/messages/count_tokens?beta=true")
        .body(r#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), r#"{"input_tokens":2095}"#);
    let seen = fake.seen();
    assert_eq!(seen[0].path, "/v1/messages/count_tokens");
    assert!(
        std::str::from_utf8(&seen[0].body)
            .unwrap()
            .contains("\"upstream-model\"")
    );
}

#[tokio::test]
async fn models_list_and_probes() {
    let (up, _fake) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[up], ""), &[]).await;
    let models: serde_json::Value = gw
        .client
        .get(format!("{}/v1/models", gw.base))
        .header("x-api-key", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<_> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"claude-sonnet-4-5"), "{ids:?}");
    assert_eq!(models["has_more"], false);
    // Claude Code's probes answer without a token.
    for path in ["/", "/api/hello", "/health"] {
        let head = gw
            .client
            .head(format!("{}{path}", gw.base))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "{path}");
    }
}
