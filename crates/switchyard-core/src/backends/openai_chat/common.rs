//! Request-side rules shared by the OpenAI and Ollama translators (Ollama reuses them through
//! `pub(crate)`): system prompt, tool results, documents, token estimates, `max_tokens`.

use std::sync::Arc;

use serde::Deserialize;

use crate::anthropic::{
    ApiError, ContentBlock, Derivation, DocumentBlock, ImageSource, JsonString, MessagesRequest,
    System, ToolResultBlock, ToolResultContent,
};

/// Claude Code's attribution block: changes between versions, defeats prefix caches, and
/// means nothing to another model.
const BILLING_HEADER: &str = "x-anthropic-billing-header";

/// Deterministic (prefix caches stay warm) marker for `is_error` tool results: Chat
/// Completions and Ollama have no such flag.
pub(crate) const TOOL_ERROR_PREFIX: &str = "[tool error] ";

/// Some chat templates choke on an empty tool message.
pub(crate) const EMPTY_TOOL_RESULT: &str = "(no output)";

/// The system prompt as one string: billing-header blocks dropped, the rest joined by a blank
/// line. `None` when nothing is left. Kept escaped: the texts are forwarded, not read. Shared
/// by requests that carry the same prompt (it is joined once).
pub(crate) fn system_text(req: &MessagesRequest) -> Option<Arc<JsonString>> {
    let system = req.system.as_ref()?;
    let joined = system.derived::<SystemText>(|system| joined_system_text(system).map(Arc::new));
    Option::clone(&joined)
}

/// [`system_text`] as derived once per prompt.
struct SystemText;

impl Derivation<System> for SystemText {
    type Output = Option<Arc<JsonString>>;
}

fn joined_system_text(system: &System) -> Option<JsonString> {
    let kept = |text: &JsonString| {
        let start = text.trimmed_prefix(BILLING_HEADER.len());
        !start.is_empty() && start != BILLING_HEADER
    };
    match system {
        System::Text(text) => Some(JsonString::from(text.as_str())).filter(|t| kept(t)),
        System::Blocks(blocks) => {
            let texts: Vec<&JsonString> =
                blocks.iter().map(|b| &b.text).filter(|t| kept(t)).collect();
            (!texts.is_empty()).then(|| JsonString::join(&texts, "\n\n"))
        }
    }
}

/// A document's `source`, typed (the shared request type keeps it as raw JSON).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum DocumentSource {
    Text {
        #[serde(default)]
        data: String,
    },
    Content {
        #[serde(default)]
        content: Vec<ContentBlock>,
    },
    Url {
        #[serde(default)]
        url: String,
    },
    Base64 {
        #[serde(default)]
        media_type: String,
    },
    #[serde(other)]
    Unknown,
}

/// A document block as text the model can read: plain text inline (titled), anything binary
/// as a clear placeholder.
pub(crate) fn document_text(doc: &DocumentBlock) -> String {
    let title = doc
        .title
        .as_deref()
        .map(|t| format!("{t}\n\n"))
        .unwrap_or_default();
    let name = doc.title.as_deref().unwrap_or("document");
    let source = DocumentSource::deserialize(&doc.source).unwrap_or(DocumentSource::Unknown);
    match source {
        DocumentSource::Text { data } => format!("{title}{data}"),
        DocumentSource::Content { content } => {
            let parts: Vec<&str> = content
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::Text(text) => Some(text.text.as_str()),
                    _ => None,
                })
                .collect();
            format!("{title}{}", parts.join("\n"))
        }
        DocumentSource::Url { url } => {
            format!("[document omitted: {url} cannot be fetched by this backend]")
        }
        DocumentSource::Base64 { media_type } if media_type == "application/pdf" => {
            format!("[PDF omitted: {name} cannot be read by this backend]")
        }
        DocumentSource::Base64 { media_type } => {
            format!("[document omitted: {name} ({media_type}) cannot be read by this backend]")
        }
        DocumentSource::Unknown => {
            format!("[document omitted: {name} cannot be read by this backend]")
        }
    }
}

/// A tool result's text and the images it carried (which the caller places where its format
/// allows them).
pub(crate) struct RenderedToolResult<'a> {
    pub text: String,
    pub images: Vec<&'a ImageSource>,
}

pub(crate) fn render_tool_result(result: &ToolResultBlock) -> RenderedToolResult<'_> {
    let mut parts: Vec<String> = Vec::new();
    let mut images = Vec::new();
    match &result.content {
        None => {}
        Some(ToolResultContent::Text(text)) => parts.push(text.clone()),
        Some(ToolResultContent::Blocks(blocks)) => {
            for block in blocks {
                match block {
                    ContentBlock::Text(text) => parts.push(text.text.clone()),
                    ContentBlock::Image(image) => images.push(&image.source),
                    ContentBlock::Document(doc) => parts.push(document_text(doc)),
                    ContentBlock::ToolReference { tool_name } => {
                        parts.push(format!("Tool {tool_name} is now available."));
                    }
                    ContentBlock::Other(value) => {
                        let kind = value.get("type").and_then(|t| t.as_str()).unwrap_or("?");
                        parts.push(format!("[{kind} content omitted]"));
                    }
                    _ => {}
                }
            }
        }
    }
    let mut text = parts.join("\n");
    if text.trim().is_empty() {
        text = EMPTY_TOOL_RESULT.to_owned();
    }
    if result.is_error == Some(true) {
        text = format!("{TOOL_ERROR_PREFIX}{text}");
    }
    RenderedToolResult { text, images }
}

/// `max_tokens` for the upstream (§5.5): the client's value, capped by the backend's output
/// limit and fitted into the context window by [`crate::tokens::check_context`], which also
/// rejects a prompt that leaves no room for an answer with the wording that makes Claude
/// Code compact.
pub(crate) fn clamp_max_tokens(
    requested: Option<u32>,
    backend_cap: Option<u32>,
    context_length: Option<u32>,
    estimated_prompt: u64,
) -> Result<Option<u32>, ApiError> {
    let max = match (requested, backend_cap) {
        (Some(r), Some(c)) => Some(r.min(c)),
        (r, c) => r.or(c),
    };
    match context_length {
        Some(ctx) => {
            crate::tokens::check_context(estimated_prompt, u64::from(ctx), max.unwrap_or(u32::MAX))
                .map(Some)
        }
        None => Ok(max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_backend_cap_and_context() {
        assert_eq!(
            clamp_max_tokens(Some(32000), Some(8192), None, 100),
            Ok(Some(8192))
        );
        assert_eq!(
            clamp_max_tokens(Some(1000), Some(8192), None, 100),
            Ok(Some(1000))
        );
        // 32k window, 20k prompt: 12k left minus a 655-token margin.
        assert_eq!(
            clamp_max_tokens(Some(32000), None, Some(32768), 20000),
            Ok(Some(32768 - 20000 - 655))
        );
        assert_eq!(
            clamp_max_tokens(Some(32000), None, Some(8192), 9000),
            Err(ApiError::prompt_too_long(9000, 6656))
        );
        assert_eq!(clamp_max_tokens(None, None, None, 1), Ok(None));
    }
}
