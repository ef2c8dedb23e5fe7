//! Translating backends (OpenAI Chat Completions, Ollama) through the real server.

use std::time::Duration;

use bytes::Bytes;

use crate::harness::*;
use switchyard_core::usage::RequestStatus;

fn config(kind: &str, base: &str, extra: &str) -> String {
    format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"t\"\nkind = \"{kind}\"\nbase_url = \"{base}\"\n{extra}\n[profiles.p]\ndefault = {{ backend = \"t\", model = \"local-model\" }}\n"
    )
}

/// Parse an Anthropic SSE body into (event name, JSON data) pairs.
fn events(text: &str) -> Vec<(String, serde_json::Value)> {
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
        .collect()
}

fn openai_chunks(parts: &[&str]) -> Reply {
    Reply::Stream(
        parts
            .iter()
            .map(|p| {
                (
                    Duration::from_millis(5),
                    Bytes::from(format!("data: {p}\n\n")),
                )
            })
            .collect(),
    )
}

#[tokio::test]
async fn openai_stream_with_text_and_a_fragmented_tool_call() {
    let (up, fake) = fake_upstream().await;
    fake.push(openai_chunks(&[
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Let me "}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"write it."}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"Write","arguments":"{\"file_path\": \"/tmp/x"}}]}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":".txt\", \"content\": \"hi\"}"}}]}}]}"#,
        r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        r#"{"id":"c1","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":17,"prompt_tokens_details":{"cached_tokens":20}}}"#,
        "[DONE]",
    ]));
    let gw = Gateway::start(
        &config("openai_chat", &format!("http://{up}/v1"), ""),
        &["t"],
    )
    .await;
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":1000,"stream":true,"tools":[{"name":"Write","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"write hi to /tmp/x.txt"}]}"#;
    let response = gw.post("/v1/messages").body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let events = events(&response.text().await.unwrap());

    let names: Vec<_> = events
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| *n != "ping")
        .collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    let text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Let me write it.");
    let tool_start = events
        .iter()
        .find(|(_, d)| d["content_block"]["type"] == "tool_use")
        .unwrap();
    assert_eq!(tool_start.1["content_block"]["name"], "Write");
    assert!(
        tool_start.1["content_block"]["id"]
            .as_str()
            .unwrap()
            .starts_with("toolu_")
    );
    let args: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    let input: serde_json::Value = serde_json::from_str(&args).unwrap();
    assert_eq!(
        input,
        serde_json::json!({"file_path": "/tmp/x.txt", "content": "hi"})
    );
    let delta = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(
        delta.1["delta"]["stop_reason"], "tool_use",
        "finish_reason stop with a tool call is still tool_use"
    );

    let seen = fake.seen();
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(
        seen[0].headers["authorization"],
        format!("Bearer {BACKEND_KEY}")
    );
    let sent: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(sent["model"], "local-model");
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["tools"][0]["function"]["name"], "Write");

    let records = gw.records.wait_for(1).await;
    let r = &records[0];
    assert_eq!(r.status, RequestStatus::Ok);
    assert_eq!(r.backend_kind.as_deref(), Some("openai_chat"));
    // 120 prompt tokens of which 20 cached: Anthropic counts them apart.
    assert_eq!(
        (
            r.usage.input_tokens,
            r.usage.cache_read_input_tokens,
            r.usage.output_tokens
        ),
        (100, 20, 17)
    );
}

#[tokio::test]
async fn openai_non_streaming_answer_is_translated() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(
        200,
        r#"{"id":"c2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"length"}],"usage":{"prompt_tokens":9,"completion_tokens":4}}"#.into(),
    ));
    let gw = Gateway::start(&config("openai_chat", &format!("http://{up}/v1"), ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("claude-haiku-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let message: serde_json::Value = response.json().await.unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["model"], "claude-haiku-4-5");
    assert_eq!(message["content"][0]["text"], "Hello there");
    assert_eq!(message["stop_reason"], "max_tokens");
    assert_eq!(message["usage"]["input_tokens"], 9);
    assert!(
        fake.seen()[0].headers.get("authorization").is_none(),
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn ollama_ndjson_stream_is_translated() {
    let (up, fake) = fake_upstream().await;
    let lines = [
        r#"{"model":"local-model","message":{"role":"assistant","content":"","thinking":"Hmm."},"done":false}"#,
        r#"{"model":"local-model","message":{"role":"assistant","content":"Hi \u4e16\u754c"},"done":false}"#,
        r#"{"model":"local-model","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":30,"eval_count":5}"#,
    ];
    fake.push(Reply::Stream(
        lines
            .iter()
            .map(|l| (Duration::from_millis(5), Bytes::from(format!("{l}\n"))))
            .collect(),
    ));
    let gw = Gateway::start(
        &config("ollama", &format!("http://{up}"), "context_length = 4096"),
        &[],
    )
    .await;
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let events = events(&response.text().await.unwrap());
    let text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hi 世界");
    assert!(
        events
            .iter()
            .any(|(_, d)| d["content_block"]["type"] == "thinking")
    );
    assert_eq!(events.last().unwrap().0, "message_stop");

    let sent: serde_json::Value = serde_json::from_slice(&fake.seen()[0].body).unwrap();
    assert_eq!(fake.seen()[0].path, "/api/chat");
    assert_eq!(sent["model"], "local-model");
    assert_eq!(sent["options"]["num_ctx"], 4096);
    let records = gw.records.wait_for(1).await;
    assert_eq!(
        (
            records[0].usage.input_tokens,
            records[0].usage.output_tokens
        ),
        (30, 5)
    );
}

#[tokio::test]
async fn a_prompt_too_large_for_the_window_gets_the_compaction_error_or_spills_to_a_fallback() {
    let (up, fake) = fake_upstream().await;
    let big = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":100,"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "lorem ipsum dolor sit amet ".repeat(400)
    );
    let gw = Gateway::start(
        &config("ollama", &format!("http://{up}"), "context_length = 512"),
        &[],
    )
    .await;
    let response = gw
        .post("/v1/messages")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    // "prompt is too long: N tokens > M maximum", M being what the 512-token window leaves for
    // a prompt once a margin and room for the answer are kept.
    let numbers: Vec<u64> = message.split(' ').filter_map(|w| w.parse().ok()).collect();
    assert!(
        message.starts_with("prompt is too long: ") && message.ends_with(" maximum"),
        "{message}"
    );
    assert!(
        numbers.len() == 2 && numbers[0] > numbers[1] && numbers[1] < 512,
        "{message}"
    );
    assert!(
        fake.seen().is_empty(),
        "nothing is sent to a backend that would truncate"
    );

    // With a cloud fallback the same request is served there.
    let (cloud, cloud_fake) = fake_upstream().await;
    cloud_fake.push(Reply::Json(200, message_json("from the cloud")));
    let spill = format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"small\"\nkind = \"ollama\"\nbase_url = \"http://{up}\"\ncontext_length = 512\n[[backends]]\nid = \"cloud\"\nkind = \"anthropic\"\nbase_url = \"http://{cloud}\"\n[profiles.p]\ndefault = {{ targets = [{{ backend = \"small\", model = \"tiny\" }}], fallbacks = [{{ backend = \"cloud\" }}] }}\n"
    );
    let gw = Gateway::start(&spill, &[]).await;
    let response = gw.post("/v1/messages").body(big).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("from the cloud"));
    assert!(fake.seen().is_empty());
    let records = gw.records.wait_for(1).await;
    assert_eq!(
        (records[0].backend.as_deref(), records[0].attempts),
        (Some("cloud"), 2)
    );
}

#[tokio::test]
async fn openai_upstream_errors_are_mapped() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(
        400,
        r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).","type":"invalid_request_error","code":"context_length_exceeded"}}"#.into(),
    ));
    let gw = Gateway::start(&config("openai_chat", &format!("http://{up}/v1"), ""), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("8192"), "{message}");
    assert_eq!(error["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn ollama_num_ctx_comes_from_the_engine_and_covers_the_prompt() {
    let (up, fake) = fake_upstream().await;
    fake.probes.lock().unwrap().insert(
        "/api/show".into(),
        r#"{"model_info":{"general.architecture":"qwen2","qwen2.context_length":32768},"parameters":""}"#.into(),
    );
    fake.push(Reply::Json(
        200,
        r#"{"model":"local-model","message":{"role":"assistant","content":"ok"},"done":true,"done_reason":"stop","prompt_eval_count":3000,"eval_count":2}"#.into(),
    ));
    // No context_length in the config: the window comes from /api/show.
    let gw = Gateway::start(&config("ollama", &format!("http://{up}"), ""), &[]).await;
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":32000,"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "fn main() {{ let total = items.iter().sum::<u64>(); }} ".repeat(600)
    );
    let estimate: serde_json::Value = gw
        .post("/v1/messages/count_tokens")
        .body(body.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let estimate = estimate["input_tokens"].as_u64().unwrap();
    assert!(
        estimate > 3000,
        "a 20 KB prompt is thousands of tokens, got {estimate}"
    );

    let response = gw.post("/v1/messages").body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let sent: serde_json::Value = serde_json::from_slice(&fake.seen()[0].body).unwrap();
    assert_eq!(sent["options"]["num_ctx"], 32768);
    let num_predict = sent["options"]["num_predict"].as_u64().unwrap();
    // The answer's budget was clamped so that prompt + answer fit the window.
    assert!(
        estimate + num_predict <= 32768,
        "{estimate} + {num_predict}"
    );
    assert!(num_predict < 32000);
}

/// Ollama sends no headers until its first token: the client still gets `message_start` (and
/// then pings) within the ping interval of the request, not of the headers; then the answer; an
/// error the backend sends after that arrives as an `error` event.
#[tokio::test]
async fn a_translated_stream_is_committed_before_the_upstream_headers() {
    let (up, fake) = fake_upstream().await;
    let lines = [
        r#"{"model":"local-model","message":{"role":"assistant","content":"Late"},"done":false}"#,
        r#"{"model":"local-model","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":30,"eval_count":5}"#,
    ];
    let late = Duration::from_secs(13);
    fake.push(Reply::Delay(
        late,
        Box::new(Reply::Stream(
            lines
                .iter()
                .map(|l| (Duration::ZERO, Bytes::from(format!("{l}\n"))))
                .collect(),
        )),
    ));
    fake.push(Reply::Delay(
        late,
        Box::new(Reply::Json(
            404,
            r#"{"error":"model 'local-model' not found"}"#.into(),
        )),
    ));
    let gw = Gateway::start(
        &config(
            "ollama",
            &format!("http://{up}"),
            "context_length = 4096\ntimeout_first_byte_s = 60",
        ),
        &[],
    )
    .await;
    let (ok, failed) = tokio::join!(
        async {
            let started = std::time::Instant::now();
            let response = gw
                .post("/v1/messages")
                .body(request("claude-sonnet-4-5", true))
                .send()
                .await
                .unwrap();
            let headers_after = started.elapsed();
            (headers_after, response.text().await.unwrap())
        },
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let response = gw
                .post("/v1/messages")
                .body(request("claude-sonnet-4-5", true))
                .send()
                .await
                .unwrap();
            response.text().await.unwrap()
        }
    );
    let (headers_after, text) = ok;
    assert!(
        headers_after < late,
        "answered only after {headers_after:?}"
    );
    let events = events(&text);
    assert_eq!(events[0].0, "message_start", "{text}");
    let answer: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(answer, "Late");
    assert_eq!(events.last().unwrap().0, "message_stop");
    let events = self::events(&failed);
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error", "{failed}");
    assert!(
        data["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{failed}"
    );
}
