//! One cached answer, either shape: a stored stream folded into the Messages JSON a
//! non-streaming request gets, and a stored JSON answer unfolded into the events a streaming
//! request gets.
//!
//! Both work on `serde_json::Value` (with `preserve_order`), not on our typed structs: the
//! typed structs skip fields no translator reads, and a cached answer must keep every field
//! the upstream sent (citations, container, server tool results, fields newer than this code).
//! A same-shape hit never comes here: it replays the stored bytes as they are.

use serde_json::{Map, Value};

use crate::sse::SseDecoder;

/// Why an answer could not be converted (the hit is then treated as a miss).
pub type ConvertError = String;

/// The final Messages response of a stored SSE stream, as the SDKs accumulate it:
/// `message_start`'s message, each block from its `content_block_start` plus its deltas, the
/// `message_delta` fields and usage on top.
pub fn sse_to_message(sse: &[u8]) -> Result<Vec<u8>, ConvertError> {
    let mut decoder = SseDecoder::new();
    let mut events = decoder.feed(sse).map_err(|e| e.to_string())?;
    events.extend(decoder.finish().map_err(|e| e.to_string())?);
    let mut message: Option<Map<String, Value>> = None;
    let mut content: Vec<Value> = Vec::new();
    // Tool inputs arrive as JSON text in pieces: joined, then parsed at the block's end.
    let mut partial: Vec<Option<String>> = Vec::new();
    let mut stopped = false;
    for event in events {
        let data: Value = serde_json::from_str(&event.data).map_err(|e| e.to_string())?;
        let kind = data.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "message_start" => match data.get("message") {
                Some(Value::Object(m)) => message = Some(m.clone()),
                _ => return Err("message_start without a message".into()),
            },
            "content_block_start" => {
                let i = index(&data)?;
                let block = data
                    .get("content_block")
                    .cloned()
                    .ok_or("content_block_start without a block")?;
                if content.len() <= i {
                    content.resize(i + 1, Value::Null);
                    partial.resize(i + 1, None);
                }
                content[i] = block;
            }
            "content_block_delta" => {
                let i = index(&data)?;
                let block = content
                    .get_mut(i)
                    .and_then(Value::as_object_mut)
                    .ok_or("a delta for a block that did not start")?;
                let delta = data
                    .get("delta")
                    .ok_or("content_block_delta without delta")?;
                let text = |field: &str| {
                    delta
                        .get(field)
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("a delta without {field}"))
                };
                match delta.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text_delta" => append(block, "text", text("text")?),
                    "thinking_delta" => append(block, "thinking", text("thinking")?),
                    "signature_delta" => {
                        block.insert("signature".into(), Value::from(text("signature")?));
                    }
                    "input_json_delta" => partial[i]
                        .get_or_insert_with(String::new)
                        .push_str(text("partial_json")?),
                    "citations_delta" => {
                        let citation = delta.get("citation").cloned().unwrap_or(Value::Null);
                        match block.get_mut("citations") {
                            Some(Value::Array(list)) => list.push(citation),
                            _ => {
                                block.insert("citations".into(), Value::Array(vec![citation]));
                            }
                        }
                    }
                    other => return Err(format!("unknown delta type {other:?}")),
                }
            }
            "content_block_stop" => {
                let i = index(&data)?;
                if let Some(json) = partial.get_mut(i).and_then(Option::take)
                    && let Some(block) = content.get_mut(i).and_then(Value::as_object_mut)
                {
                    let input = if json.trim().is_empty() {
                        Value::Object(Map::new())
                    } else {
                        serde_json::from_str(&json).map_err(|e| e.to_string())?
                    };
                    block.insert("input".into(), input);
                }
            }
            "message_delta" => {
                let m = message
                    .as_mut()
                    .ok_or("message_delta before message_start")?;
                if let Some(Value::Object(delta)) = data.get("delta") {
                    for (k, v) in delta {
                        m.insert(k.clone(), v.clone());
                    }
                }
                // Cumulative counts: present ones replace `message_start`'s (as the SDKs do).
                if let Some(Value::Object(usage)) = data.get("usage") {
                    let target = m
                        .entry("usage")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(target) = target {
                        for (k, v) in usage.iter().filter(|(_, v)| !v.is_null()) {
                            target.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            "message_stop" => stopped = true,
            "error" => return Err("the stream holds an error event".into()),
            // `ping` and event types newer than this code carry nothing for the message.
            _ => {}
        }
    }
    let mut message = message.ok_or("no message_start")?;
    if !stopped {
        return Err("no message_stop".into());
    }
    if content.iter().any(Value::is_null) {
        return Err("a content block index was skipped".into());
    }
    message.insert("content".into(), Value::Array(content));
    serde_json::to_vec(&Value::Object(message)).map_err(|e| e.to_string())
}

/// The SSE stream a streaming request gets for a stored JSON answer: `message_start` (the
/// message without content, stop reason null), each block as start, one delta per part of it,
/// stop; then `message_delta` with the stop reason and the usage, `message_stop`. One delta
/// per block, where the upstream sent many: the SDKs accumulate the same final message.
pub fn message_to_sse(json: &[u8]) -> Result<Vec<u8>, ConvertError> {
    let Value::Object(mut message) =
        serde_json::from_slice::<Value>(json).map_err(|e| e.to_string())?
    else {
        return Err("the answer is not a JSON object".into());
    };
    let content = match message.get_mut("content").map(Value::take) {
        Some(Value::Array(blocks)) => blocks,
        _ => return Err("the answer has no content list".into()),
    };
    message.insert("content".into(), Value::Array(Vec::new()));
    let mut delta = Map::new();
    for field in ["stop_reason", "stop_sequence"] {
        let value = message
            .get_mut(field)
            .map(Value::take)
            .unwrap_or(Value::Null);
        delta.insert(field.into(), value);
    }
    let usage = message
        .get("usage")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let mut out = Vec::with_capacity(json.len() + 1024);
    event(
        &mut out,
        "message_start",
        &obj([
            ("type", "message_start".into()),
            ("message", Value::Object(message)),
        ]),
    )?;
    for (i, block) in content.into_iter().enumerate() {
        let Value::Object(mut block) = block else {
            return Err("a content block is not an object".into());
        };
        let kind = block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        // What the block's deltas carry, taken out of its start.
        let mut deltas: Vec<Value> = Vec::new();
        match kind.as_str() {
            "text" => {
                if let Some(Value::Array(citations)) = block.get_mut("citations").map(Value::take) {
                    block.insert("citations".into(), Value::Array(Vec::new()));
                    for citation in citations {
                        deltas.push(obj([
                            ("type", "citations_delta".into()),
                            ("citation", citation),
                        ]));
                    }
                }
                let text = take_text(&mut block, "text");
                if !text.is_empty() {
                    deltas.push(obj([("type", "text_delta".into()), ("text", text.into())]));
                }
            }
            "thinking" => {
                let thinking = take_text(&mut block, "thinking");
                let signature = take_text(&mut block, "signature");
                if !thinking.is_empty() {
                    deltas.push(obj([
                        ("type", "thinking_delta".into()),
                        ("thinking", thinking.into()),
                    ]));
                }
                if !signature.is_empty() {
                    deltas.push(obj([
                        ("type", "signature_delta".into()),
                        ("signature", signature.into()),
                    ]));
                }
            }
            "tool_use" | "server_tool_use" | "mcp_tool_use" => {
                let input = block
                    .insert("input".into(), Value::Object(Map::new()))
                    .unwrap_or(Value::Object(Map::new()));
                let empty = input.as_object().is_some_and(Map::is_empty);
                if !empty {
                    let text = serde_json::to_string(&input).map_err(|e| e.to_string())?;
                    deltas.push(obj([
                        ("type", "input_json_delta".into()),
                        ("partial_json", text.into()),
                    ]));
                }
            }
            // Results and blocks newer than this code arrive whole in their start.
            _ => {}
        }
        event(
            &mut out,
            "content_block_start",
            &obj([
                ("type", "content_block_start".into()),
                ("index", i.into()),
                ("content_block", Value::Object(block)),
            ]),
        )?;
        for d in deltas {
            event(
                &mut out,
                "content_block_delta",
                &obj([
                    ("type", "content_block_delta".into()),
                    ("index", i.into()),
                    ("delta", d),
                ]),
            )?;
        }
        event(
            &mut out,
            "content_block_stop",
            &obj([("type", "content_block_stop".into()), ("index", i.into())]),
        )?;
    }
    event(
        &mut out,
        "message_delta",
        &obj([
            ("type", "message_delta".into()),
            ("delta", Value::Object(delta)),
            ("usage", usage),
        ]),
    )?;
    event(
        &mut out,
        "message_stop",
        &obj([("type", "message_stop".into())]),
    )?;
    Ok(out)
}

fn index(data: &Value) -> Result<usize, ConvertError> {
    data.get("index")
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
        // A real answer has a handful of blocks; a huge index would allocate for nothing.
        .filter(|i| *i < 100_000)
        .ok_or_else(|| "an event without a usable index".to_owned())
}

fn append(block: &mut Map<String, Value>, field: &str, text: &str) {
    match block.get_mut(field) {
        Some(Value::String(s)) => s.push_str(text),
        _ => {
            block.insert(field.into(), Value::from(text));
        }
    }
}

/// A block's text field, left empty in the block (its start carries `""`, as Anthropic's do).
fn take_text(block: &mut Map<String, Value>, field: &str) -> String {
    match block.insert(field.into(), Value::from("")) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn obj<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn event(out: &mut Vec<u8>, name: &str, data: &Value) -> Result<(), ConvertError> {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    serde_json::to_writer(&mut *out, data).map_err(|e| e.to_string())?;
    out.extend_from_slice(b"\n\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    const MESSAGE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"hmm \u2014 yes","signature":"EqQB=="},{"type":"text","text":"Hello","citations":[{"type":"char_location","cited_text":"x","document_index":0,"start_char_index":0,"end_char_index":1}]},{"type":"tool_use","id":"toolu_1","name":"Write","input":{"file_path":"/t","content":"a\"b"}},{"type":"tool_use","id":"toolu_2","name":"Nothing","input":{}},{"type":"web_search_tool_result","tool_use_id":"srvtoolu_1","content":[]}],"stop_reason":"tool_use","stop_sequence":null,"container":null,"usage":{"input_tokens":12,"output_tokens":30,"cache_creation_input_tokens":0,"cache_read_input_tokens":4}}"#;

    #[test]
    fn a_json_answer_unfolds_into_events_that_fold_back_into_it() {
        let sse = message_to_sse(MESSAGE.as_bytes()).unwrap();
        let text = std::str::from_utf8(&sse).unwrap();
        assert!(text.starts_with("event: message_start\n"), "{text}");
        assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
        // The start carries no content and no stop reason; the tool input comes as a delta.
        let mut decoder = SseDecoder::new();
        let events = decoder.feed(&sse).unwrap();
        let start = json(events[0].data.as_bytes());
        assert_eq!(start["message"]["content"], serde_json::json!([]));
        assert_eq!(start["message"]["stop_reason"], Value::Null);
        assert!(events.iter().any(|e| e.data.contains("input_json_delta")));
        assert_eq!(
            json(&sse_to_message(&sse).unwrap()),
            json(MESSAGE.as_bytes())
        );
    }

    #[test]
    fn a_stream_folds_into_the_message_the_sdks_build() {
        let sse = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1,\"cache_read_input_tokens\":100}}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"lo\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"Bash\",\"input\":{}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"cmd\\\":\"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"ls\\\"}\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42,\"input_tokens\":null}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let message = json(&sse_to_message(sse.as_bytes()).unwrap());
        assert_eq!(
            message,
            serde_json::json!({"id":"msg_2","type":"message","role":"assistant","model":"m",
                "content":[{"type":"text","text":"Hello"},{"type":"tool_use","id":"t","name":"Bash","input":{"cmd":"ls"}}],
                "stop_reason":"tool_use","stop_sequence":null,
                "usage":{"input_tokens":25,"output_tokens":42,"cache_read_input_tokens":100}})
        );
        // Cut off, or ending in an error: no message.
        let cut = &sse[..sse.find("event: message_stop").unwrap()];
        assert!(sse_to_message(cut.as_bytes()).is_err());
        let failed = sse.replace(
            "event: message_stop\ndata: {\"type\":\"message_stop\"}",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}",
        );
        assert!(sse_to_message(failed.as_bytes()).is_err());
    }

    #[test]
    fn what_is_not_an_answer_is_refused() {
        assert!(message_to_sse(b"[]").is_err());
        assert!(message_to_sse(b"{\"type\":\"message\"}").is_err());
        assert!(sse_to_message(b"").is_err());
        assert!(sse_to_message(b"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n").is_err());
    }
}
