//! Ollama native translation: fixture snapshots (`fixtures/ollama/<case>/`) and chunking
//! properties. Every stream is checked against the structural invariants.

#![cfg(test)]

mod translation_support;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_core::anthropic::{ContentBlock, MessagesResponse, StopReason, StreamEvent};
use switchyard_core::backends::TargetContext;
use switchyard_core::backends::events::into_response;
use switchyard_core::backends::ollama::OllamaExchange;
use translation_support::{
    Case, check_invariants, normalize_events, normalize_response, render, run_stream,
};

fn default_backend() -> Value {
    json!({"id": "ollama", "kind": "ollama", "base_url": "http://127.0.0.1:11434"})
}

fn exchange(case: &Case) -> Result<(Value, OllamaExchange), Value> {
    let ctx = TargetContext {
        backend: &case.backend,
        upstream_model: &case.upstream_model,
        requested_model: &case.request.model,
        context_length: case.context_length,
    };
    match OllamaExchange::prepare(&case.request, &ctx) {
        Ok((upstream, exchange)) => {
            assert_eq!(upstream.path, "/api/chat");
            Ok((serde_json::from_slice(&upstream.body).unwrap(), exchange))
        }
        Err(err) => {
            Err(json!({"status": err.status(), "type": err.kind.as_str(), "message": err.message}))
        }
    }
}

fn stream_events(exchange: &OllamaExchange, bytes: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut events = run_stream(&mut exchange.stream(), bytes, cuts);
    normalize_events(&mut events);
    events
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/ollama/*/request.anthropic.json", |path| {
        let case = Case::load(path.parent().unwrap(), default_backend());
        let mut snapshot = serde_json::Map::new();
        let exchange = match exchange(&case) {
            Ok((body, exchange)) => {
                snapshot.insert("upstream_request".into(), body);
                Some(exchange)
            }
            Err(error) => {
                snapshot.insert("prepare_error".into(), error);
                None
            }
        };
        if let Some(exchange) = exchange {
            if let Some(bytes) = &case.stream {
                let events = stream_events(&exchange, bytes, &[]);
                check_invariants(&events);
                let cuts: Vec<usize> = (1..bytes.len()).collect();
                assert_eq!(stream_events(&exchange, bytes, &cuts), events);
                snapshot.insert("stream_events".into(), render(&events));
            }
            if let Some(body) = &case.response {
                let value = match exchange.response(body) {
                    Ok(mut message) => {
                        normalize_response(&mut message);
                        serde_json::to_value(message).unwrap()
                    }
                    Err(err) => {
                        json!({"error": {"status": err.status(), "type": err.kind.as_str(), "message": err.message}})
                    }
                };
                snapshot.insert("response".into(), value);
            }
            if let Some(body) = &case.error {
                let err = exchange.error(case.error_status, body);
                snapshot.insert(
                    "error".into(),
                    json!({"upstream_status": case.error_status, "status": err.status(), "type": err.kind.as_str(), "message": err.message, "retry_after": err.retry_after}),
                );
            }
        }
        insta::assert_json_snapshot!(Value::Object(snapshot));
    });
}

const STREAM: &str = concat!(
    "{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"Je r\u{e9}fl\u{e9}chis \u{1F914}\"},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\u{4f60}\u{597d} \u{1F600}\"},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_1\",\"function\":{\"index\":0,\"name\":\"Bash\",\"arguments\":{\"command\":\"echo \u{e9}\u{1F600}\"}}}]},\"done\":false}\n",
    "{\"model\":\"qwen3\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":169,\"prompt_eval_cached_count\":100,\"eval_count\":15}\n",
);

fn property_exchange() -> OllamaExchange {
    let backend = serde_json::from_value(default_backend()).unwrap();
    let request = serde_json::from_str(
        &json!({
            "model": "claude-haiku-4-5", "max_tokens": 100, "stream": true,
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]
        })
        .to_string(),
    )
    .unwrap();
    let ctx = TargetContext {
        backend: &backend,
        upstream_model: "qwen3",
        requested_model: "claude-haiku-4-5",
        context_length: Some(32768),
    };
    OllamaExchange::prepare(&request, &ctx).unwrap().1
}

#[test]
fn property_stream_translates_as_expected() {
    let exchange = property_exchange();
    let events = stream_events(&exchange, STREAM.as_bytes(), &[]);
    check_invariants(&events);
    let message = into_response(&events).unwrap();
    let content = serde_json::to_value(&message.content).unwrap();
    assert_eq!(content[0]["thinking"], "Je r\u{e9}fl\u{e9}chis \u{1F914}");
    assert_eq!(content[1]["text"], "\u{4f60}\u{597d} \u{1F600}");
    assert_eq!(
        content[2]["input"],
        json!({"command": "echo \u{e9}\u{1F600}"})
    );
    assert_eq!(
        serde_json::to_value(message.stop_reason).unwrap(),
        "tool_use"
    );
    assert_eq!(message.usage.input_tokens, 69);
    assert_eq!(message.usage.cache_read_input_tokens, 100);
    assert_eq!(message.usage.output_tokens, 15);
}

proptest! {
    #[test]
    fn any_chunking_of_the_ndjson_stream_gives_the_same_events(
        mut cuts in proptest::collection::vec(0..STREAM.len(), 0..24)
    ) {
        cuts.sort_unstable();
        let exchange = property_exchange();
        let whole = stream_events(&exchange, STREAM.as_bytes(), &[]);
        let chunked = stream_events(&exchange, STREAM.as_bytes(), &cuts);
        check_invariants(&chunked);
        prop_assert_eq!(chunked, whole);
    }
}

/// NDJSON lines.
fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

fn call_line(id: &str, name: &str, arguments: Value) -> Value {
    json!({"model": "qwen3", "message": {"role": "assistant", "content": "",
        "tool_calls": [{"id": id, "function": {"name": name, "arguments": arguments}}]}, "done": false})
}

fn done_line(reason: &str) -> Value {
    json!({"model": "qwen3", "message": {"role": "assistant", "content": ""}, "done": true,
        "done_reason": reason, "prompt_eval_count": 20, "eval_count": 100})
}

/// The message a stream accumulates to, checked against the invariants and for chunking
/// independence (cut at every byte) on the way.
fn streamed_message(bytes: &[u8]) -> MessagesResponse {
    let exchange = property_exchange();
    let events = stream_events(&exchange, bytes, &[]);
    check_invariants(&events);
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(stream_events(&exchange, bytes, &cuts), events);
    into_response(&events).unwrap()
}

fn tool_inputs(message: &MessagesResponse) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolUse(tool) => Some(tool.input.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn done_reason_length_with_a_cut_tool_call_ends_max_tokens_without_that_call() {
    let bytes = ndjson(&[
        call_line("call_1", "Bash", json!({"command": "pwd"})),
        // Arguments as a string (tolerated), cut mid-way.
        call_line("call_2", "Bash", json!("{\"command\": \"rm -rf /tmp/bu")),
        done_line("length"),
    ]);
    let message = streamed_message(&bytes);
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(tool_inputs(&message), [json!({"command": "pwd"})]);

    // The non-streaming answer: one line, `done` included.
    let body = json!({"model": "qwen3", "message": {"role": "assistant", "content": "",
        "tool_calls": [{"function": {"name": "Bash", "arguments": "{\"command\": \"ec"}}]},
        "done": true, "done_reason": "length", "eval_count": 100});
    let message = property_exchange()
        .response(body.to_string().as_bytes())
        .unwrap();
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert!(tool_inputs(&message).is_empty(), "{:?}", message.content);
}

#[test]
fn done_reason_stop_with_tool_calls_still_ends_tool_use() {
    let bytes = ndjson(&[
        call_line("call_1", "Bash", json!({"command": "pwd"})),
        // A string missing its last brace, in a finished answer: repaired as before.
        call_line("call_2", "Bash", json!("{\"command\": \"ls\"")),
        done_line("stop"),
    ]);
    let message = streamed_message(&bytes);
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        tool_inputs(&message),
        [json!({"command": "pwd"}), json!({"command": "ls"})]
    );
}
