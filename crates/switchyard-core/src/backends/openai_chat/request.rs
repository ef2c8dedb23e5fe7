//! Anthropic request → Chat Completions request (§5.1-5.5). Built from an allowlist: nothing
//! the client sent reaches the upstream unless a line below puts it there.

use std::sync::Arc;

use crate::anthropic::{
    ApiError, ContentBlock, Derivation, ErrorType, ImageSource, Message, MessagesRequest, RawJson,
    Role, ThinkingBlock, Tool, ToolChoice,
};
use crate::backends::TargetContext;
use crate::backends::events::recover_reasoning;

use super::common::{clamp_max_tokens, document_text, render_tool_result, system_text};
use super::dialect::{Dialect, reasoning_effort};
use super::names::NameMap;
use super::wire::{
    ChatFunction, ChatFunctionCall, ChatMessage, ChatRequest, ChatTool, ChatToolCall,
    ChatToolChoice, ChatTools, ContentPart, ImageUrl, JsonSchemaFormat, NamedToolChoice,
    ResponseFormat, StreamOptions, ToolName, UserContent,
};

pub struct Translated {
    pub body: ChatRequest,
    pub names: NameMap,
    pub estimated_prompt: u64,
    pub tools_sent: bool,
}

pub fn translate(req: &MessagesRequest, ctx: &TargetContext<'_>) -> Result<Translated, ApiError> {
    let dialect = Dialect::detect(&ctx.backend.base_url, ctx.upstream_model);
    let mut names = NameMap::default();

    let mut messages = Vec::new();
    if let Some(system) = system_text(req) {
        messages.push(ChatMessage::System { content: system });
    }
    for message in &req.messages {
        convert_message(message, &dialect, &mut names, &mut messages);
    }
    let messages = merge_same_role(messages);

    let tools = match (&req.tools, &req.tool_choice) {
        // Safer than `"none"`: some servers ignore it and call tools anyway.
        (_, Some(ToolChoice::None)) | (None, _) => None,
        (Some(tools), _) => {
            let built = tools.derived::<ChatToolsOf>(|tools| chat_tools(tools));
            match &*built {
                Ok(built) => Some(built.clone()),
                Err(err) => return Err(err.clone()),
            }
        }
    }
    .filter(|tools| tools.count > 0);
    if let Some(tools) = &tools {
        names.extend(&tools.names);
    }
    let tools_sent = tools.is_some();
    let (tool_choice, parallel_tool_calls) = if tools_sent {
        match &req.tool_choice {
            None => (None, None),
            Some(ToolChoice::Auto {
                disable_parallel_tool_use,
            }) => (
                Some(ChatToolChoice::Mode("auto")),
                parallel(*disable_parallel_tool_use),
            ),
            Some(ToolChoice::Any {
                disable_parallel_tool_use,
            }) => (
                Some(ChatToolChoice::Mode("required")),
                parallel(*disable_parallel_tool_use),
            ),
            Some(ToolChoice::Tool {
                name,
                disable_parallel_tool_use,
            }) => (
                Some(ChatToolChoice::Named(NamedToolChoice {
                    kind: "function",
                    function: ToolName {
                        name: names.upstream_name(name),
                    },
                })),
                parallel(*disable_parallel_tool_use),
            ),
            Some(ToolChoice::None) => (None, None),
        }
    } else {
        (None, None)
    };

    let estimated_prompt = crate::tokens::estimate_request_tokens(req);
    let max_tokens = clamp_max_tokens(
        req.max_tokens,
        ctx.backend.max_output_tokens,
        ctx.context_length,
        estimated_prompt,
    )?;

    let stop = req
        .stop_sequences
        .clone()
        .filter(|s| !s.is_empty())
        .map(|mut stop| {
            if let Some(limit) = dialect.max_stop {
                stop.truncate(limit);
            }
            stop
        });
    let stream = req.is_stream();
    let body = ChatRequest {
        model: ctx.upstream_model.to_owned(),
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        max_tokens: max_tokens.filter(|_| !dialect.max_completion_tokens),
        max_completion_tokens: max_tokens.filter(|_| dialect.max_completion_tokens),
        temperature: req.temperature.filter(|_| dialect.sampling_params),
        top_p: req.top_p.filter(|_| dialect.sampling_params),
        top_k: req.top_k.filter(|_| dialect.top_k),
        stop,
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
        reasoning_effort: reasoning_effort(req)
            .filter(|_| dialect.reasoning_effort)
            .map(str::to_owned),
        response_format: req
            .output_config
            .as_ref()
            .and_then(|c| c.format.as_ref())
            .map(|format| ResponseFormat {
                kind: "json_schema",
                json_schema: JsonSchemaFormat {
                    name: "output",
                    schema: format
                        .get("schema")
                        .cloned()
                        .unwrap_or_else(|| format.clone()),
                },
            }),
    };
    Ok(Translated {
        body,
        names,
        estimated_prompt,
        tools_sent,
    })
}

/// A tool set as Chat Completions tools, encoded once per set (Claude Code sends the same
/// set, tens of KB of descriptions and schemas, with every request of a session).
struct ChatToolsOf;

impl Derivation<Vec<Tool>> for ChatToolsOf {
    type Output = Result<Arc<ChatTools>, ApiError>;
}

fn chat_tools(tools: &[Tool]) -> Result<Arc<ChatTools>, ApiError> {
    let mut names = NameMap::default();
    let list: Vec<ChatTool> = tools
        .iter()
        .filter(|tool| !tool.is_server_tool())
        .map(|tool| ChatTool {
            kind: "function",
            function: ChatFunction {
                name: names.upstream_name(&tool.name),
                description: tool.description.clone(),
                parameters: tool
                    .input_schema
                    .clone()
                    .unwrap_or_else(RawJson::empty_object_schema),
            },
        })
        .collect();
    Ok(Arc::new(ChatTools {
        count: list.len(),
        json: RawJson::encode(&list).map_err(|err| {
            ApiError::new(
                ErrorType::ApiError,
                format!("could not encode the tool definitions: {err}"),
            )
        })?,
        names,
    }))
}

fn parallel(disable: Option<bool>) -> Option<bool> {
    (disable == Some(true)).then_some(false)
}

fn image_url(source: &ImageSource) -> Option<String> {
    match source {
        ImageSource::Base64 { media_type, data } => {
            Some(format!("data:{media_type};base64,{data}"))
        }
        ImageSource::Url { url } => Some(url.clone()),
        ImageSource::Other(_) => None,
    }
}

fn image_part(source: &ImageSource) -> ContentPart {
    match image_url(source) {
        Some(url) => ContentPart::ImageUrl {
            image_url: ImageUrl { url },
        },
        None => ContentPart::Text {
            text: "[image omitted: unsupported image source]".to_owned(),
        },
    }
}

/// The reasoning to give back for an assistant turn: its thinking text, else what our own
/// signature carries (Claude Code may keep only the signature).
fn reasoning_of(block: &ThinkingBlock) -> String {
    if !block.thinking.is_empty() {
        return block.thinking.clone();
    }
    block
        .signature
        .as_deref()
        .and_then(recover_reasoning)
        .unwrap_or_default()
}

fn convert_message(
    message: &Message,
    dialect: &Dialect,
    names: &mut NameMap,
    out: &mut Vec<ChatMessage>,
) {
    let blocks = message.content.to_blocks();
    match message.role {
        Role::Assistant => {
            let mut text = String::new();
            let mut tool_calls = Vec::new();
            let mut reasoning = String::new();
            for block in blocks.iter() {
                match block {
                    ContentBlock::Text(t) => text.push_str(&t.text),
                    ContentBlock::ToolUse(tool) => tool_calls.push(ChatToolCall {
                        id: tool.id.clone(),
                        kind: "function",
                        function: ChatFunctionCall {
                            name: names.upstream_name(&tool.name),
                            arguments: tool.input.to_string(),
                        },
                    }),
                    ContentBlock::Thinking(thinking) => reasoning.push_str(&reasoning_of(thinking)),
                    // Redacted thinking, server tool blocks: meaningless to another model.
                    _ => {}
                }
            }
            let has_text = !text.trim().is_empty();
            if !has_text && tool_calls.is_empty() {
                return;
            }
            let reasoning_content =
                (dialect.echo_reasoning && !tool_calls.is_empty()).then_some(reasoning);
            out.push(ChatMessage::Assistant {
                content: has_text.then_some(text),
                tool_calls,
                reasoning_content,
            });
        }
        Role::User => {
            let mut tool_images: Vec<ContentPart> = Vec::new();
            let mut parts: Vec<ContentPart> = Vec::new();
            for block in blocks.iter() {
                match block {
                    ContentBlock::ToolResult(result) => {
                        let rendered = render_tool_result(result);
                        tool_images.extend(rendered.images.into_iter().map(image_part));
                        out.push(ChatMessage::Tool {
                            tool_call_id: result.tool_use_id.clone(),
                            content: rendered.text,
                        });
                    }
                    ContentBlock::Text(t) if !t.text.trim().is_empty() => {
                        parts.push(ContentPart::Text {
                            text: t.text.clone(),
                        });
                    }
                    ContentBlock::Image(image) => parts.push(image_part(&image.source)),
                    ContentBlock::Document(doc) => parts.push(ContentPart::Text {
                        text: document_text(doc),
                    }),
                    _ => {}
                }
            }
            // Tool messages cannot carry images: they follow in a user message, before the
            // turn's own text.
            if !tool_images.is_empty() {
                tool_images.insert(
                    0,
                    ContentPart::Text {
                        text: "Images returned by the tool call above:".to_owned(),
                    },
                );
            }
            tool_images.extend(parts);
            if let Some(content) = user_content(tool_images) {
                out.push(ChatMessage::User { content });
            }
        }
    }
}

fn user_content(mut parts: Vec<ContentPart>) -> Option<UserContent> {
    match parts.len() {
        0 => None,
        1 => match parts.pop() {
            Some(ContentPart::Text { text }) => Some(UserContent::Text(text)),
            Some(part) => Some(UserContent::Parts(vec![part])),
            None => None,
        },
        _ => Some(UserContent::Parts(parts)),
    }
}

/// Chat templates that require strict alternation fail on two user (or two assistant)
/// messages in a row: merge them.
fn merge_same_role(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len());
    for message in messages {
        match (out.last_mut(), message) {
            (Some(ChatMessage::User { content: previous }), ChatMessage::User { content }) => {
                let mut parts = into_parts(std::mem::replace(
                    previous,
                    UserContent::Text(String::new()),
                ));
                parts.extend(into_parts(content));
                *previous = user_content(parts).unwrap_or(UserContent::Text(String::new()));
            }
            (
                Some(ChatMessage::Assistant {
                    content: previous_text,
                    tool_calls: previous_calls,
                    reasoning_content: previous_reasoning,
                }),
                ChatMessage::Assistant {
                    content,
                    tool_calls,
                    reasoning_content,
                },
            ) if previous_calls.is_empty() => {
                *previous_text = match (previous_text.take(), content) {
                    (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
                    (a, b) => a.or(b),
                };
                *previous_calls = tool_calls;
                *previous_reasoning = match (previous_reasoning.take(), reasoning_content) {
                    (Some(a), Some(b)) => Some(a + &b),
                    (a, b) => a.or(b),
                };
            }
            (_, message) => out.push(message),
        }
    }
    out
}

fn into_parts(content: UserContent) -> Vec<ContentPart> {
    match content {
        UserContent::Text(text) => vec![ContentPart::Text { text }],
        UserContent::Parts(parts) => parts,
    }
}
