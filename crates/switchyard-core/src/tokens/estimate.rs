use serde::Serialize;
use serde_json::Value;

use super::bpe::{count_json_string_tokens, count_raw_json_tokens, count_text_tokens};
use super::image::image_source_tokens;
use crate::anthropic::{
    Content, ContentBlock, Derivation, MessagesRequest, System, Tool, ToolResultBlock,
    ToolResultContent, ToolUseBlock,
};

/// Anthropic's documented tool-use system prompt added whenever `tools` is non-empty
/// (346 tokens for `auto`/`none` on current models; `any`/`tool` are slightly smaller, and
/// the larger is the safe side).
pub(crate) const TOOLS_PREAMBLE_TOKENS: u64 = 346;
/// Role markers and separators around each message.
pub(crate) const MESSAGE_OVERHEAD_TOKENS: u64 = 4;
/// Wrapping of each non-text block (tool_use, tool_result, thinking, image, document).
pub(crate) const BLOCK_OVERHEAD_TOKENS: u64 = 3;
/// Wrapping of each tool definition.
pub(crate) const TOOL_OVERHEAD_TOKENS: u64 = 6;
/// Start of prompt and system prompt framing.
pub(crate) const REQUEST_OVERHEAD_TOKENS: u64 = 3;
/// Anthropic bills 1500-3000 tokens per PDF page; the high end keeps the guard safe.
const PDF_PAGE_TOKENS: u64 = 3000;

/// Where a request's estimated tokens come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenBreakdown {
    pub system: u64,
    pub messages: u64,
    pub tools: u64,
    pub images: u64,
    /// Fixed framing: per message, per block, per tool, the tool-use preamble.
    pub overhead: u64,
}

impl TokenBreakdown {
    pub fn total(&self) -> u64 {
        self.system + self.messages + self.tools + self.images + self.overhead
    }
}

/// Estimated input tokens of `req` as Anthropic would count them (see
/// [`estimate_request_breakdown`]). Never zero.
pub fn estimate_request_tokens(req: &MessagesRequest) -> u64 {
    estimate_request_breakdown(req).total().max(1)
}

/// The estimate split by origin: text through the BPE tokenizer, images by Anthropic's
/// pixel formula, plus fixed framing per message, block and tool.
pub fn estimate_request_breakdown(req: &MessagesRequest) -> TokenBreakdown {
    let mut b = TokenBreakdown {
        overhead: REQUEST_OVERHEAD_TOKENS,
        ..TokenBreakdown::default()
    };
    if let Some(system) = &req.system {
        b.system = *system.derived::<SystemTokens>(system_tokens);
    }
    for message in &req.messages {
        b.overhead += MESSAGE_OVERHEAD_TOKENS;
        match &message.content {
            Content::Text(text) => b.messages += count_text_tokens(text),
            Content::Blocks(blocks) => {
                for block in blocks {
                    add_block(block, &mut b);
                }
            }
        }
    }
    if let Some(tools) = &req.tools {
        let counted = tools.derived::<ToolTokens>(|tools| tool_tokens(tools));
        b.tools += counted.tools;
        b.overhead += counted.overhead;
    }
    b
}

/// A system prompt's tokens, counted once per prompt.
struct SystemTokens;

impl Derivation<System> for SystemTokens {
    type Output = u64;
}

fn system_tokens(system: &System) -> u64 {
    match system {
        System::Text(text) => count_text_tokens(text),
        System::Blocks(blocks) => blocks
            .iter()
            .map(|b| count_json_string_tokens(&b.text))
            .sum(),
    }
}

/// A tool set's tokens, counted once per set.
struct ToolTokens;

#[derive(Default)]
struct ToolCount {
    tools: u64,
    overhead: u64,
}

impl Derivation<Vec<Tool>> for ToolTokens {
    type Output = ToolCount;
}

fn tool_tokens(tools: &[Tool]) -> ToolCount {
    if tools.is_empty() {
        return ToolCount::default();
    }
    let mut count = ToolCount {
        tools: 0,
        overhead: TOOLS_PREAMBLE_TOKENS + TOOL_OVERHEAD_TOKENS * tools.len() as u64,
    };
    for tool in tools {
        count.tools += count_text_tokens(&tool.name);
        if let Some(description) = &tool.description {
            count.tools += count_json_string_tokens(description);
        }
        if let Some(schema) = &tool.input_schema {
            count.tools += count_raw_json_tokens(schema);
        }
        if tool.is_server_tool() {
            // Server tools are described by their versioned type and options.
            count.tools += tool.kind.as_deref().map_or(0, count_text_tokens);
        }
    }
    count
}

fn add_block(block: &ContentBlock, b: &mut TokenBreakdown) {
    match block {
        ContentBlock::Text(text) => b.messages += count_text_tokens(&text.text),
        ContentBlock::Image(image) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.images += image_source_tokens(&image.source);
        }
        ContentBlock::Document(doc) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.messages += doc.title.as_deref().map_or(0, count_text_tokens);
            b.messages += doc.context.as_deref().map_or(0, count_text_tokens);
            b.messages += document_tokens(&doc.source);
        }
        ContentBlock::ToolUse(tool_use) | ContentBlock::ServerToolUse(tool_use) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.messages += tool_use_tokens(tool_use);
        }
        ContentBlock::ToolResult(result) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            add_tool_result(result, b);
        }
        ContentBlock::Thinking(thinking) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.messages += count_text_tokens(&thinking.thinking);
        }
        ContentBlock::RedactedThinking { data } => {
            // Encrypted: the plaintext size is unknown; base64 length / 4 is a fair guess of
            // what it decodes to in tokens.
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.messages += (data.len() as u64).div_ceil(4);
        }
        ContentBlock::ToolReference { tool_name } => b.messages += count_text_tokens(tool_name),
        ContentBlock::Other(value) => {
            b.overhead += BLOCK_OVERHEAD_TOKENS;
            b.messages += count_json(value);
        }
    }
}

fn tool_use_tokens(tool_use: &ToolUseBlock) -> u64 {
    count_text_tokens(&tool_use.id)
        + count_text_tokens(&tool_use.name)
        + count_json(&tool_use.input)
}

fn add_tool_result(result: &ToolResultBlock, b: &mut TokenBreakdown) {
    b.messages += count_text_tokens(&result.tool_use_id);
    match &result.content {
        None => {}
        Some(ToolResultContent::Text(text)) => b.messages += count_text_tokens(text),
        Some(ToolResultContent::Blocks(blocks)) => {
            for block in blocks {
                add_block(block, b);
            }
        }
    }
}

fn count_json(value: &Value) -> u64 {
    match value {
        Value::String(text) => count_text_tokens(text),
        other => count_text_tokens(&other.to_string()),
    }
}

/// Text documents count as their text; base64 PDFs by page count (pages found by their
/// `/Type /Page` objects, at least one); anything else as its JSON.
fn document_tokens(source: &Value) -> u64 {
    let kind = source.get("type").and_then(Value::as_str);
    let data = source.get("data").and_then(Value::as_str);
    match (kind, data) {
        (Some("text"), Some(text)) => count_text_tokens(text),
        (Some("base64"), Some(data)) => pdf_pages(data) * PDF_PAGE_TOKENS,
        _ => count_json(source),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn pdf_pages(data: &str) -> u64 {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(data.trim()) else {
        return 1;
    };
    let mut pages = 0;
    let mut rest = bytes.as_slice();
    while let Some(at) = find(rest, b"/Type") {
        rest = &rest[at + 5..];
        let after = rest.trim_ascii_start();
        if after.starts_with(b"/Page") && after.get(5) != Some(&b's') {
            pages += 1;
        }
    }
    pages.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: Value) -> MessagesRequest {
        serde_json::from_str(&body.to_string()).unwrap()
    }

    #[test]
    fn every_part_of_the_request_counts() {
        let base = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        let small = estimate_request_tokens(&request(base.clone()));
        let mut with_system = base.clone();
        with_system["system"] = json!("You are a careful assistant.");
        let mut with_tool = base.clone();
        with_tool["tools"] = json!([{"name": "Bash", "description": "Run a command",
            "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]);
        let mut with_thinking = base.clone();
        with_thinking["messages"] = json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "Let me think about this request carefully.", "signature": "x"}]}
        ]);
        for bigger in [with_system, with_tool, with_thinking] {
            assert!(estimate_request_tokens(&request(bigger)) > small);
        }
        assert!(small > 0);
    }

    #[test]
    fn tools_pay_the_preamble_once() {
        let one = request(
            json!({"model": "m", "messages": [], "tools": [{"name": "A", "input_schema": {}}]}),
        );
        let b = estimate_request_breakdown(&one);
        assert_eq!(
            b.overhead,
            REQUEST_OVERHEAD_TOKENS + TOOLS_PREAMBLE_TOKENS + TOOL_OVERHEAD_TOKENS
        );
    }

    #[test]
    fn tool_use_input_and_tool_result_text_are_counted() {
        let long = "word ".repeat(200);
        let req = request(json!({"model": "m", "messages": [
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": long}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": long}]}]}
        ]}));
        let b = estimate_request_breakdown(&req);
        assert!(b.messages >= 400, "{b:?}");
    }

    #[test]
    fn url_image_uses_the_fallback() {
        let req = request(
            json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://example.invalid/a.png"}}
            ]}]}),
        );
        assert_eq!(
            estimate_request_breakdown(&req).images,
            super::super::IMAGE_FALLBACK_TOKENS
        );
    }

    #[test]
    fn pdf_pages_are_counted() {
        use base64::Engine as _;
        let pdf =
            b"%PDF-1.4 1 0 obj <</Type /Pages>> 2 0 obj <</Type /Page>> 3 0 obj <</Type/Page>>";
        let data = base64::engine::general_purpose::STANDARD.encode(pdf);
        assert_eq!(pdf_pages(&data), 2);
    }
}
