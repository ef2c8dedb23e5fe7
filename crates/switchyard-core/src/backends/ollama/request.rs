//! Anthropic request → Ollama `/api/chat` request (§3.1, §5.1-5.5, Ollama variants).

use serde_json::Value;

use crate::anthropic::{
    ApiError, ContentBlock, ImageSource, Message as AnthropicMessage, MessagesRequest, Role,
    ThinkingConfig, ToolChoice,
};
use crate::backends::TargetContext;
use crate::backends::openai_chat::common::{
    clamp_max_tokens, document_text, render_tool_result, system_text,
};

use super::wire::{ChatRequest, Function, FunctionCall, Message, Options, Think, Tool, ToolCall};

/// Keep the model loaded between Claude Code's turns: a cold load adds seconds to minutes.
const KEEP_ALIVE: &str = "30m";

const URL_IMAGE_PLACEHOLDER: &str = "[image omitted: Ollama only accepts inline (base64) images]";

pub struct Translated {
    pub body: ChatRequest,
    pub estimated_prompt: u64,
}

pub fn translate(req: &MessagesRequest, ctx: &TargetContext<'_>) -> Result<Translated, ApiError> {
    let mut messages = Vec::new();
    if let Some(system) = system_text(req) {
        messages.push(Message::new("system", system.text().into_owned()));
    }
    let mut tool_names: Vec<(String, String)> = Vec::new();
    for message in &req.messages {
        convert_message(message, &mut tool_names, &mut messages);
    }

    // Ollama has no tool_choice: `none` sends no tools, a named tool sends only that one.
    let tools: Vec<Tool> = match &req.tool_choice {
        Some(ToolChoice::None) => Vec::new(),
        choice => req
            .tools
            .as_deref()
            .into_iter()
            .flatten()
            .filter(|tool| !tool.is_server_tool())
            .filter(|tool| match choice {
                Some(ToolChoice::Tool { name, .. }) => &tool.name == name,
                _ => true,
            })
            .map(|tool| Tool {
                kind: "function",
                function: Function {
                    name: tool.name.clone(),
                    description: tool.description.clone(),
                    parameters: tool
                        .input_schema
                        .clone()
                        .unwrap_or_else(crate::anthropic::RawJson::empty_object_schema),
                },
            })
            .collect(),
    };

    let estimated_prompt = crate::tokens::estimate_request_tokens(req);
    let num_predict = clamp_max_tokens(
        req.max_tokens,
        ctx.backend.max_output_tokens,
        ctx.context_length,
        estimated_prompt,
    )?;
    let body = ChatRequest {
        model: ctx.upstream_model.to_owned(),
        messages,
        tools,
        stream: req.is_stream(),
        think: Some(think(req)),
        format: req
            .output_config
            .as_ref()
            .and_then(|c| c.format.as_ref())
            .map(|format| {
                format
                    .get("schema")
                    .cloned()
                    .unwrap_or_else(|| format.clone())
            }),
        options: Options {
            num_ctx: ctx.context_length,
            num_predict,
            temperature: req.temperature,
            top_p: req.top_p,
            top_k: req.top_k,
            stop: req.stop_sequences.clone().filter(|s| !s.is_empty()),
        },
        keep_alive: KEEP_ALIVE,
        truncate: false,
    };
    Ok(Translated {
        body,
        estimated_prompt,
    })
}

/// Thinking is on by default for thinking-capable Ollama models, so "off" is sent explicitly.
fn think(req: &MessagesRequest) -> Think {
    match &req.thinking {
        Some(thinking @ (ThinkingConfig::Enabled { .. } | ThinkingConfig::Adaptive { .. })) => {
            let effort = req.output_config.as_ref().and_then(|c| c.effort.as_deref());
            match (thinking, effort) {
                (_, Some("low")) => Think::Level("low"),
                (_, Some("medium")) => Think::Level("medium"),
                (_, Some("high" | "xhigh" | "max")) => Think::Level("high"),
                _ => Think::On(true),
            }
        }
        _ => Think::On(false),
    }
}

fn base64_image(source: &ImageSource) -> Option<String> {
    match source {
        ImageSource::Base64 { data, .. } => Some(data.clone()),
        _ => None,
    }
}

fn convert_message(
    message: &AnthropicMessage,
    tool_names: &mut Vec<(String, String)>,
    out: &mut Vec<Message>,
) {
    let blocks = message.content.to_blocks();
    match message.role {
        Role::Assistant => {
            let mut text = String::new();
            let mut tool_calls = Vec::new();
            for block in blocks.iter() {
                match block {
                    ContentBlock::Text(t) => text.push_str(&t.text),
                    ContentBlock::ToolUse(tool) => {
                        tool_names.push((tool.id.clone(), tool.name.clone()));
                        tool_calls.push(ToolCall {
                            id: tool.id.clone(),
                            function: FunctionCall {
                                name: tool.name.clone(),
                                arguments: match &tool.input {
                                    Value::Object(_) => tool.input.clone(),
                                    _ => Value::Object(serde_json::Map::new()),
                                },
                            },
                        });
                    }
                    // Prior thinking is dropped (§5.4); redacted thinking and server tool
                    // blocks mean nothing to another model.
                    _ => {}
                }
            }
            if text.trim().is_empty() && tool_calls.is_empty() {
                return;
            }
            let mut m = Message::new("assistant", text);
            m.tool_calls = tool_calls;
            out.push(m);
        }
        Role::User => {
            let mut texts: Vec<String> = Vec::new();
            let mut images: Vec<String> = Vec::new();
            for block in blocks.iter() {
                match block {
                    ContentBlock::ToolResult(result) => {
                        let rendered = render_tool_result(result);
                        let mut m = Message::new("tool", rendered.text);
                        for image in rendered.images {
                            match base64_image(image) {
                                Some(data) => m.images.push(data),
                                None => {
                                    m.content.push('\n');
                                    m.content.push_str(URL_IMAGE_PLACEHOLDER);
                                }
                            }
                        }
                        m.tool_name = tool_names
                            .iter()
                            .rev()
                            .find(|(id, _)| *id == result.tool_use_id)
                            .map(|(_, name)| name.clone());
                        m.tool_call_id = Some(result.tool_use_id.clone());
                        out.push(m);
                    }
                    ContentBlock::Text(t) if !t.text.trim().is_empty() => {
                        texts.push(t.text.clone())
                    }
                    ContentBlock::Image(image) => match base64_image(&image.source) {
                        Some(data) => images.push(data),
                        None => texts.push(URL_IMAGE_PLACEHOLDER.to_owned()),
                    },
                    ContentBlock::Document(doc) => texts.push(document_text(doc)),
                    _ => {}
                }
            }
            if texts.is_empty() && images.is_empty() {
                return;
            }
            let content = texts.join("\n\n");
            // Two user messages in a row: merge (chat templates may require alternation).
            if let Some(last) = out.last_mut()
                && last.role == "user"
            {
                if !content.is_empty() {
                    if !last.content.is_empty() {
                        last.content.push_str("\n\n");
                    }
                    last.content.push_str(&content);
                }
                last.images.extend(images);
                return;
            }
            let mut m = Message::new("user", content);
            m.images = images;
            out.push(m);
        }
    }
}
