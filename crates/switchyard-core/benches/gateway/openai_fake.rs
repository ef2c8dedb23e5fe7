//! A fixed OpenAI Chat Completions upstream for the translated-path bench: it reads and parses
//! each body (as a real server must) and answers a short completion, streamed the way vLLM
//! does (role chunk, one chunk per token, finish chunk, usage chunk, `[DONE]`).

use std::convert::Infallible;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

pub const DONE: &[u8] = b"data: [DONE]\n\n";

#[derive(Deserialize)]
struct Request {
    model: String,
    #[serde(default)]
    stream: bool,
}

const WORDS: [&str; 6] = ["Hello", " from", " the", " fake", " upstream", "."];

pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(completions))
        .route("/v1/models", get(models));
    axum::serve(listener, app).await
}

async fn models() -> Response {
    axum::Json(json!({
        "object": "list",
        "data": [{"id": super::UPSTREAM_MODEL, "object": "model", "max_model_len": 200000}]
    }))
    .into_response()
}

async fn completions(body: Bytes) -> Response {
    let req: Request = match serde_json::from_slice(&body) {
        Ok(req) => req,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let prompt_tokens = (body.len() as u64).div_ceil(4);
    let usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": WORDS.len(), "total_tokens": prompt_tokens + WORDS.len() as u64});
    if !req.stream {
        return axum::Json(json!({
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": req.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": WORDS.concat()}, "finish_reason": "stop"}],
            "usage": usage,
        }))
        .into_response();
    }
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        json!({
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": req.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        })
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    events.extend(WORDS.iter().map(|w| chunk(json!({"content": w}), None)));
    events.push(chunk(json!({}), Some("stop")));
    events.push(json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": req.model, "choices": [], "usage": usage}));
    let mut chunks: Vec<Result<Bytes, Infallible>> = events
        .iter()
        .map(|e| Ok(Bytes::from(format!("data: {e}\n\n"))))
        .collect();
    chunks.push(Ok(Bytes::from_static(DONE)));
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}
