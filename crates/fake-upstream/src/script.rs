//! What the fake answers. Pure: a request in, a reply and its events out.

use serde_json::{Map, Value, json};

use crate::wire::{
    BlockOut, Delta, DeltaUsage, Event, MessageDeltaOut, MessageOut, Request, ToolDef, UsageOut,
    WriteInput,
};

/// The fake's behaviour, set on the command line.
#[derive(Debug, Clone)]
pub struct Script {
    /// When set, a request offering the `Write` tool and carrying no `tool_result` is answered
    /// with a `Write` call of this input (Claude Code's first turn).
    pub write: Option<WriteInput>,
    /// When set, a main-agent request offering the subagent tool (`Agent`, or `Task` before
    /// Claude Code 2.1) and carrying no `tool_result` is answered with a call of it that
    /// gives the subagent this prompt. A subagent's own request never is, so a misrouted one
    /// cannot spawn subagents without end.
    pub spawn_agent: Option<String>,
    /// The answer to a request whose last message carries `tool_result`s.
    pub final_text: String,
    /// The answer to anything else.
    pub text: String,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            write: None,
            spawn_agent: None,
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

/// What a subagent spawned by [`Script::spawn_agent`] is told it is for.
pub const AGENT_DESCRIPTION: &str = "Answer for the e2e test";

/// The subagent type asked for when the tool's schema allows it: Claude Code's built-in one.
pub const SUBAGENT_TYPE: &str = "general-purpose";

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Text(String),
    /// A short text block, then a tool call.
    ToolCall {
        preface: String,
        name: String,
        input: Value,
    },
}

impl Script {
    pub fn reply(&self, req: &Request) -> Reply {
        if !req.last_tool_results().is_empty() {
            return Reply::Text(self.final_text.clone());
        }
        if let Some(prompt) = &self.spawn_agent
            && !req.subagent_attribution()
            && let Some(tool) = req.agent_tool()
        {
            return Reply::ToolCall {
                preface: "I will ask a subagent.".to_owned(),
                name: tool.name.clone(),
                input: agent_input(tool, prompt),
            };
        }
        match &self.write {
            Some(input) if req.has_tool("Write") => Reply::ToolCall {
                preface: "I will write the file.".to_owned(),
                name: "Write".to_owned(),
                input: json!({ "file_path": input.file_path, "content": input.content }),
            },
            _ => Reply::Text(self.text.clone()),
        }
    }
}

/// The input of a subagent call, filled from the tool's own schema: the description, prompt
/// and type it is known to take, and a plain value for any other required field, so a
/// Claude Code that adds one does not reject the call.
pub fn agent_input(tool: &ToolDef, prompt: &str) -> Value {
    let schema = &tool.input_schema;
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // Without a schema, the fields every version so far has taken.
    let offered = |name: &str| properties.is_none_or(|p| p.contains_key(name));
    let mut input = Map::new();
    let known = [
        ("description", AGENT_DESCRIPTION),
        ("prompt", prompt),
        ("subagent_type", SUBAGENT_TYPE),
    ];
    for (name, value) in known {
        if offered(name) || required.contains(&name) {
            let property = properties.and_then(|p| p.get(name));
            let value = match property
                .and_then(|p| p.get("enum"))
                .and_then(Value::as_array)
            {
                Some(choices) if !choices.iter().any(|c| c == value) => {
                    choices.first().cloned().unwrap_or_else(|| json!(value))
                }
                _ => json!(value),
            };
            input.insert(name.to_owned(), value);
        }
    }
    for name in required {
        if !input.contains_key(name) {
            let property = properties.and_then(|p| p.get(name));
            input.insert(name.to_owned(), filler(property));
        }
    }
    Value::Object(input)
}

/// A value of the type a JSON schema property asks for.
fn filler(property: Option<&Value>) -> Value {
    let Some(property) = property else {
        return Value::String("e2e".to_owned());
    };
    if let Some(first) = property
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
    {
        return first.clone();
    }
    match property.get("type").and_then(Value::as_str) {
        Some("boolean") => Value::Bool(false),
        Some("integer" | "number") => json!(1),
        Some("array") => json!([]),
        Some("object") => json!({}),
        Some("null") => Value::Null,
        _ => Value::String("e2e".to_owned()),
    }
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count().max(1) as u64
}

impl Reply {
    fn output_tokens(&self) -> u64 {
        match self {
            Reply::Text(text) => words(text),
            Reply::ToolCall { preface, input, .. } => words(preface) + words(&input.to_string()),
        }
    }

    fn stop_reason(&self) -> &'static str {
        match self {
            Reply::Text(_) => "end_turn",
            Reply::ToolCall { .. } => "tool_use",
        }
    }
}

/// The answer as one JSON message.
pub fn message(reply: &Reply, model: &str, serial: u64, input_tokens: u64) -> MessageOut {
    let content = match reply {
        Reply::Text(text) => vec![BlockOut::Text { text: text.clone() }],
        Reply::ToolCall {
            preface,
            name,
            input,
        } => vec![
            BlockOut::Text {
                text: preface.clone(),
            },
            BlockOut::ToolUse {
                id: tool_id(serial),
                name: name.clone(),
                input: input.clone(),
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
        Reply::ToolCall {
            preface,
            name,
            input,
        } => {
            text_block(0, preface, &mut events);
            events.push(Event::ContentBlockStart {
                index: 1,
                content_block: BlockOut::ToolUse {
                    id: tool_id(serial),
                    name: name.clone(),
                    input: Value::Object(Map::new()),
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
        assert!(matches!(script.reply(&first), Reply::ToolCall { name, .. } if name == "Write"));
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

    /// Claude Code 2.1's main request, trimmed: the attribution block, the `Agent` tool.
    const MAIN_AGENT: &str = r#"{"model":"m","system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=sdk-cli;"},{"type":"text","text":"You are Claude Code"}],"metadata":{"user_id":"{\"device_id\":\"d\",\"session_id\":\"s-1\"}"},"messages":[{"role":"user","content":"go"}],"tools":[{"name":"Write"},{"name":"Agent","input_schema":{"type":"object","properties":{"description":{"type":"string"},"prompt":{"type":"string"},"subagent_type":{"type":"string"},"model":{"type":"string","enum":["sonnet","opus","haiku"]},"run_in_background":{"type":"boolean"},"isolation":{"type":"string","enum":["worktree"]}},"required":["description","prompt","isolation"]}}]}"#;

    fn agent_script() -> Script {
        Script {
            spawn_agent: Some("Say the word.".to_owned()),
            ..write_script()
        }
    }

    #[test]
    fn the_main_agent_is_answered_with_an_agent_call_filled_from_its_schema() {
        let req = request(MAIN_AGENT);
        assert_eq!(req.metadata_session_id().as_deref(), Some("s-1"));
        assert!(!req.subagent_attribution());
        let Reply::ToolCall { name, input, .. } = agent_script().reply(&req) else {
            panic!("no tool call");
        };
        assert_eq!(name, "Agent");
        // The known fields, and a value from its enum for the required field it does not know;
        // optional unknown fields stay out.
        assert_eq!(
            input,
            json!({
                "description": AGENT_DESCRIPTION,
                "prompt": "Say the word.",
                "subagent_type": "general-purpose",
                "isolation": "worktree",
            })
        );
        // An older Claude Code, whose tool is `Task` and comes without a schema.
        let task = request(
            r#"{"model":"m","messages":[{"role":"user","content":"go"}],"tools":[{"name":"Task"}]}"#,
        );
        assert!(
            matches!(agent_script().reply(&task), Reply::ToolCall { name, .. } if name == "Task")
        );
    }

    #[test]
    fn a_subagent_request_or_a_tool_result_gets_text_never_another_agent_call() {
        let sub = MAIN_AGENT.replace(
            "cc_entrypoint=sdk-cli;",
            "cc_entrypoint=sdk-cli; cc_is_subagent=true;",
        );
        let sub = request(&sub);
        assert!(sub.subagent_attribution());
        // It offers Write, so the write script answers it, as it would without spawn_agent.
        assert!(
            matches!(agent_script().reply(&sub), Reply::ToolCall { name, .. } if name == "Write")
        );
        let back = request(
            r#"{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Agent","input":{}},{"type":"tool_use","id":"t2","name":"Read","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"SUB-ANSWER"},{"type":"text","text":"agentId: a1"}]},{"type":"tool_result","tool_use_id":"t2","content":"file"}]}],"tools":[{"name":"Agent"}]}"#,
        );
        assert_eq!(
            agent_script().reply(&back),
            Reply::Text(agent_script().final_text)
        );
        assert_eq!(
            back.last_results_of(&["Agent"]),
            ["SUB-ANSWER\nagentId: a1"]
        );
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
