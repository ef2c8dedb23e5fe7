//! What the fake answers. Pure: a request in, a reply and its events out.

use crate::wire::{
    BlockOut, Delta, DeltaUsage, Empty, Event, MessageDeltaOut, MessageOut, Request, ToolInput,
    UsageOut, WriteInput,
};

/// The fake's behaviour, set on the command line.
#[derive(Debug, Clone)]
pub struct Script {
    /// When set, a request offering the `Write` tool and carrying no `tool_result` is answered
    /// with a `Write` call of this input (Claude Code's first turn).
    pub write: Option<WriteInput>,
    /// The answer to a request whose last message carries `tool_result`s.
    pub final_text: String,
    /// The answer to anything else.
    pub text: String,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            write: None,
            final_text: "FAKE-UPSTREAM-DONE: the file is written.".to_owned(),
            text: "Hello from fake-upstream, a scripted Anthropic-style server.".to_owned(),
        }
    }
}

/// A streamed request whose last user message contains this gets a stream that dies
/// mid-answer: the first events, then the connection is dropped (no `message_delta`, no
/// `message_stop`), as an upstream that crashes or loses its network does. For the gateway's
/// soak test (a non-streamed request is answered as usual).
pub const CUT_MARKER: &str = "[fake-upstream: cut the stream]";

/// How many events a cut stream sends before dying: `message_start`, `ping`,
/// `content_block_start` and the first text delta.
pub const CUT_AFTER_EVENTS: usize = 4;

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Text(String),
    /// A short text block, then a `Write` tool call.
    WriteCall {
        preface: String,
        input: WriteInput,
    },
}

impl Script {
    pub fn reply(&self, req: &Request) -> Reply {
        if !req.last_tool_results().is_empty() {
            return Reply::Text(self.final_text.clone());
        }
        match &self.write {
            Some(input) if req.has_tool("Write") => Reply::WriteCall {
                preface: "I will write the file.".to_owned(),
                input: input.clone(),
            },
            _ => Reply::Text(self.text.clone()),
        }
    }
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count().max(1) as u64
}

impl Reply {
    fn output_tokens(&self) -> u64 {
        match self {
            Reply::Text(text) => words(text),
            Reply::WriteCall { preface, input } => words(preface) + words(&input.content) + 10,
        }
    }

    fn stop_reason(&self) -> &'static str {
        match self {
            Reply::Text(_) => "end_turn",
            Reply::WriteCall { .. } => "tool_use",
        }
    }
}

/// The answer as one JSON message.
pub fn message(reply: &Reply, model: &str, serial: u64, input_tokens: u64) -> MessageOut {
    let content = match reply {
        Reply::Text(text) => vec![BlockOut::Text { text: text.clone() }],
        Reply::WriteCall { preface, input } => vec![
            BlockOut::Text {
                text: preface.clone(),
            },
            BlockOut::ToolUse {
                id: tool_id(serial),
                name: "Write".to_owned(),
                input: ToolInput::Write(input.clone()),
            },
        ],
    };
    MessageOut {
        id: format!("msg_fake_{serial:08}"),
        kind: "message",
        role: "assistant",
        model: model.to_owned(),
        content,
        stop_reason: Some(reply.stop_reason()),
        stop_sequence: None,
        usage: UsageOut {
            input_tokens,
            output_tokens: reply.output_tokens(),
            ..UsageOut::default()
        },
    }
}

fn tool_id(serial: u64) -> String {
    format!("toolu_fake_{serial:08}")
}

/// Pieces of `text` of about `n` bytes each, cut on character boundaries.
fn pieces(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if current.len() >= n {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

fn text_block(index: usize, text: &str, events: &mut Vec<Event>) {
    events.push(Event::ContentBlockStart {
        index,
        content_block: BlockOut::Text {
            text: String::new(),
        },
    });
    for word in text.split_inclusive(' ') {
        events.push(Event::ContentBlockDelta {
            index,
            delta: Delta::TextDelta {
                text: word.to_owned(),
            },
        });
    }
    events.push(Event::ContentBlockStop { index });
}

/// The answer as the stream of events Anthropic sends, in Anthropic's order.
pub fn events(
    reply: &Reply,
    model: &str,
    serial: u64,
    input_tokens: u64,
) -> Result<Vec<Event>, serde_json::Error> {
    let mut start = message(reply, model, serial, input_tokens);
    start.content.clear();
    start.stop_reason = None;
    start.usage.output_tokens = 1;
    let mut events = vec![Event::MessageStart { message: start }, Event::Ping];
    match reply {
        Reply::Text(text) => text_block(0, text, &mut events),
        Reply::WriteCall { preface, input } => {
            text_block(0, preface, &mut events);
            events.push(Event::ContentBlockStart {
                index: 1,
                content_block: BlockOut::ToolUse {
                    id: tool_id(serial),
                    name: "Write".to_owned(),
                    input: ToolInput::Empty(Empty {}),
                },
            });
            let json = serde_json::to_string(input)?;
            for piece in pieces(&json, json.len().div_ceil(3).max(1)) {
                events.push(Event::ContentBlockDelta {
                    index: 1,
                    delta: Delta::InputJsonDelta {
                        partial_json: piece,
                    },
                });
            }
            events.push(Event::ContentBlockStop { index: 1 });
        }
    }
    events.push(Event::MessageDelta {
        delta: MessageDeltaOut {
            stop_reason: reply.stop_reason(),
            stop_sequence: None,
        },
        usage: DeltaUsage {
            output_tokens: reply.output_tokens(),
        },
    });
    events.push(Event::MessageStop);
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Request {
        serde_json::from_str(json).unwrap()
    }

    fn write_script() -> Script {
        Script {
            write: Some(WriteInput {
                file_path: "/tmp/x/out.txt".to_owned(),
                content: "héllo\n".to_owned(),
            }),
            ..Script::default()
        }
    }

    #[test]
    fn first_turn_with_write_tool_calls_it_then_tool_result_gets_text() {
        let script = write_script();
        let first = request(
            r#"{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"name":"Read"},{"name":"Write","input_schema":{}}]}"#,
        );
        assert!(matches!(script.reply(&first), Reply::WriteCall { .. }));
        let second = request(
            r#"{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"Write","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"},{"type":"text","text":"x"}]}],"tools":[{"name":"Write"}]}"#,
        );
        assert_eq!(
            script.reply(&second),
            Reply::Text(script.final_text.clone())
        );
        let no_tools = request(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        assert_eq!(script.reply(&no_tools), Reply::Text(script.text.clone()));
    }

    #[test]
    fn the_cut_marker_is_found_in_the_last_user_message_only() {
        let text = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"go {CUT_MARKER}"}}]}}"#
        );
        assert!(request(&text).last_user_text_contains(CUT_MARKER));
        let blocks = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t","content":"x"}},{{"type":"text","text":"{CUT_MARKER}"}}]}}]}}"#
        );
        assert!(request(&blocks).last_user_text_contains(CUT_MARKER));
        let earlier = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"{CUT_MARKER}"}},{{"role":"assistant","content":"ok"}}]}}"#
        );
        assert!(!request(&earlier).last_user_text_contains(CUT_MARKER));
        assert!(
            !request(r#"{"model":"m","messages":[{"role":"user","content":"go"}]}"#)
                .last_user_text_contains(CUT_MARKER)
        );
    }

    #[test]
    fn stream_follows_anthropic_order_and_tool_json_reassembles() {
        let script = write_script();
        let req = request(
            r#"{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"name":"Write"}]}"#,
        );
        let events = events(&script.reply(&req), "m", 7, 100).unwrap();
        let names: Vec<&str> = events.iter().map(Event::name).collect();
        assert_eq!(
            names[..4],
            [
                "message_start",
                "ping",
                "content_block_start",
                "content_block_delta"
            ]
        );
        assert_eq!(names[names.len() - 2..], ["message_delta", "message_stop"]);
        let json: String = events
            .iter()
            .filter_map(|e| match e {
                Event::ContentBlockDelta {
                    index: 1,
                    delta: Delta::InputJsonDelta { partial_json },
                } => Some(partial_json.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            json,
            r#"{"file_path":"/tmp/x/out.txt","content":"héllo\n"}"#
        );
        let sse = String::from_utf8(events[0].to_sse().unwrap()).unwrap();
        assert!(sse.starts_with("event: message_start\ndata: {\"type\":\"message_start\""));
        assert!(sse.ends_with("}\n\n"));
    }
}
