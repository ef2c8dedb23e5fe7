//! OpenAI Chat Completions translation: fixture snapshots (`fixtures/openai_chat/<case>/`) and
//! chunking properties. Every stream is checked against the structural invariants.

#![cfg(test)]

mod translation_support;

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_core::anthropic::{ErrorType, MAX_TOKENS_PER_COUNT, StopReason, StreamEvent};
use switchyard_core::backends::TargetContext;
use switchyard_core::backends::openai_chat::OpenAiExchange;
use translation_support::{
    Case, check_invariants, normalize_events, normalize_response, render, run_stream,
};

fn default_backend() -> Value {
    json!({"id": "local-vllm", "kind": "openai_chat", "base_url": "http://127.0.0.1:8000/v1"})
}

fn exchange(case: &Case) -> Result<(Value, OpenAiExchange), Value> {
    let ctx = TargetContext {
        backend: &case.backend,
        upstream_model: &case.upstream_model,
        requested_model: &case.request.model,
        context_length: case.context_length,
    };
    match OpenAiExchange::prepare(&case.request, &ctx) {
        Ok((upstream, exchange)) => {
            assert_eq!(upstream.path, "/chat/completions");
            Ok((serde_json::from_slice(&upstream.body).unwrap(), exchange))
        }
        Err(err) => {
            Err(json!({"status": err.status(), "type": err.kind.as_str(), "message": err.message}))
        }
    }
}

fn stream_events(exchange: &OpenAiExchange, bytes: &[u8], cuts: &[usize]) -> Vec<StreamEvent> {
    let mut events = run_stream(&mut exchange.stream(), bytes, cuts);
    normalize_events(&mut events);
    events
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/openai_chat/*/request.anthropic.json", |path| {
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
                // Byte by byte (every UTF-8 sequence and SSE line cut) gives the same events.
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

/// A stream with multibyte text, reasoning and fragmented parallel tool calls.
const STREAM: &str = concat!(
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    ": keep-alive\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"R\u{e9}fl\u{e9}chir \u{1F914}\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"h\u{e9}llo \u{4e16}\u{754c} \u{1F600}\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":{\"name\":\"Bash\",\"arguments\":\"{\\\"command\\\": \\\"echo \u{e9}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_b\",\"type\":\"function\",\"function\":{\"name\":\"Read\",\"arguments\":\"{\\\"file_path\\\"\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\" \u{1F600}\\\"}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\": \\\"\u{65e5}.rs\\\"}\"}}]}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20,\"prompt_tokens_details\":{\"cached_tokens\":64}}}\n\n",
    "data: [DONE]\n\n",
);

fn property_exchange() -> OpenAiExchange {
    let case_backend: switchyard_core::config::BackendConfig =
        serde_json::from_value(default_backend()).unwrap();
    let request = serde_json::from_str(
        &json!({
        "model": "claude-sonnet-4-6", "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "Bash", "input_schema": {"type": "object"}}, {"name": "Read", "input_schema": {"type": "object"}}]
    })
        .to_string(),
    )
    .unwrap();
    let ctx = TargetContext {
        backend: &case_backend,
        upstream_model: "m",
        requested_model: "claude-sonnet-4-6",
        context_length: None,
    };
    OpenAiExchange::prepare(&request, &ctx).unwrap().1
}

#[test]
fn property_stream_translates_as_expected() {
    let exchange = property_exchange();
    let events = stream_events(&exchange, STREAM.as_bytes(), &[]);
    check_invariants(&events);
    let message = switchyard_core::backends::events::into_response(&events).unwrap();
    let content = serde_json::to_value(&message.content).unwrap();
    assert_eq!(content[0]["thinking"], "R\u{e9}fl\u{e9}chir \u{1F914}");
    assert_eq!(content[1]["text"], "h\u{e9}llo \u{4e16}\u{754c} \u{1F600}");
    assert_eq!(
        content[2]["input"],
        json!({"command": "echo \u{e9} \u{1F600}"})
    );
    assert_eq!(content[3]["input"], json!({"file_path": "\u{65e5}.rs"}));
    assert_eq!(message.usage.input_tokens, 36);
    assert_eq!(message.usage.cache_read_input_tokens, 64);
    // An error kind survives the accumulation too.
    let truncated = stream_events(&exchange, &STREAM.as_bytes()[..STREAM.len() / 2], &[]);
    check_invariants(&truncated);
    let err = switchyard_core::backends::events::into_response(&truncated).unwrap_err();
    assert_eq!(err.kind, ErrorType::ApiError);
}

proptest! {
    #[test]
    fn any_chunking_of_the_sse_stream_gives_the_same_events(
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

/// `data: ` lines, then `[DONE]`.
fn sse(chunks: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for chunk in chunks {
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    out.push_str("data: [DONE]\n\n");
    out.into_bytes()
}

fn tool_delta(index: u32, id: Option<&str>, name: Option<&str>, arguments: &str) -> Value {
    let mut call = json!({"index": index, "function": {"arguments": arguments}});
    if let Some(id) = id {
        call["id"] = json!(id);
        call["type"] = json!("function");
    }
    if let Some(name) = name {
        call["function"]["name"] = json!(name);
    }
    json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
}

fn finish(reason: &str) -> Value {
    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})
}

/// The message a stream accumulates to, checked against the invariants and for chunking
/// independence (cut at every byte) on the way.
fn streamed_message(bytes: &[u8]) -> switchyard_core::anthropic::MessagesResponse {
    let exchange = property_exchange();
    let events = stream_events(&exchange, bytes, &[]);
    check_invariants(&events);
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(stream_events(&exchange, bytes, &cuts), events);
    switchyard_core::backends::events::into_response(&events).unwrap()
}

fn tool_inputs(message: &switchyard_core::anthropic::MessagesResponse) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|block| match block {
            switchyard_core::anthropic::ContentBlock::ToolUse(tool) => Some(tool.input.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_stream_cut_by_length_inside_a_tool_call_ends_max_tokens_without_that_call() {
    let bytes = sse(&[
        json!({"choices": [{"index": 0, "delta": {"content": "Looking."}}]}),
        tool_delta(0, Some("call_a"), Some("Bash"), "{\"command\": \"pwd\"}"),
        tool_delta(
            1,
            Some("call_b"),
            Some("Bash"),
            "{\"command\": \"rm -rf /tmp/bu",
        ),
        finish("length"),
    ]);
    let message = streamed_message(&bytes);
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(
        tool_inputs(&message),
        [json!({"command": "pwd"})],
        "the whole call is kept, the cut one is not repaired into a call"
    );
    assert_eq!(
        serde_json::to_value(&message.content).unwrap()[0]["text"],
        "Looking."
    );
}

#[test]
fn a_complete_answer_cut_by_length_inside_a_tool_call_ends_max_tokens_without_it() {
    let body = json!({
        "choices": [{"index": 0, "finish_reason": "length", "message": {
            "role": "assistant", "content": "Writing the file.",
            "tool_calls": [{"id": "call_a", "type": "function",
                "function": {"name": "Bash", "arguments": "{\"command\": \"cat > a.rs <<EOF\\nfn ma"}}]
        }}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 100}
    });
    let message = property_exchange()
        .response(body.to_string().as_bytes())
        .unwrap();
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert!(tool_inputs(&message).is_empty(), "{:?}", message.content);
    assert_eq!(message.usage.output_tokens, 100);
}

#[test]
fn finish_reason_tool_calls_with_whole_arguments_still_ends_tool_use() {
    let bytes = sse(&[
        tool_delta(0, Some("call_a"), Some("Read"), "{\"file_path\":"),
        tool_delta(0, None, None, " \"a.rs\"}"),
        finish("tool_calls"),
    ]);
    let message = streamed_message(&bytes);
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(tool_inputs(&message), [json!({"file_path": "a.rs"})]);

    let body = json!({
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_a", "type": "function",
                "function": {"name": "Read", "arguments": "{\"file_path\": \"a.rs\"}"}}]
        }}]
    });
    let message = property_exchange()
        .response(body.to_string().as_bytes())
        .unwrap();
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(tool_inputs(&message), [json!({"file_path": "a.rs"})]);
}

#[test]
fn absurd_upstream_token_counts_reach_the_client_capped() {
    let bytes = sse(&[
        json!({"choices": [{"index": 0, "delta": {"content": "Hi"}}]}),
        finish("stop"),
        json!({"choices": [], "usage": {"prompt_tokens": u64::MAX, "completion_tokens": u64::MAX - 1}}),
    ]);
    let message = streamed_message(&bytes);
    assert_eq!(message.usage.input_tokens, MAX_TOKENS_PER_COUNT);
    assert_eq!(message.usage.output_tokens, MAX_TOKENS_PER_COUNT);
}
