//! Which of the client's `anthropic-beta` flags Claude on Bedrock and Vertex is sent.
//!
//! Claude Code talks to Switchyard as to Anthropic's own API, so it sends the first-party
//! flags too (`claude-code-20250219`, `oauth-2025-04-20`, `mcp-servers-...`, new ones with
//! every release). Bedrock answers a flag it does not know with `400 invalid beta flag`, and
//! so does Vertex, failing every request. So only the flags the clouds document are passed
//! on (an allow-list, not pass-through); the rest are dropped, and the usage row says which.
//! Some models accept fewer still (Bedrock's newest Opus takes only interleaved thinking):
//! their `invalid beta flag` answer is then relayed as it is.
//!
//! The list: AWS's "Anthropic Claude Messages API" request parameters, as LiteLLM's Bedrock
//! filter copies them (BerriAI/litellm#19877), 2026-01; Vertex's Claude documentation names
//! the same flags.

/// The flags passed on to Bedrock and Vertex.
pub const ALLOWED: &[&str] = &[
    "computer-use-2024-10-22",
    "computer-use-2025-01-24",
    "token-efficient-tools-2025-02-19",
    "interleaved-thinking-2025-05-14",
    "output-128k-2025-02-19",
    "dev-full-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "context-management-2025-06-27",
    "effort-2025-11-24",
    "tool-search-tool-2025-10-19",
    "tool-examples-2025-10-29",
];

/// The client's flags (comma-separated header values), split into those sent and those
/// dropped, each once, in the order given.
pub fn split<'h>(header_values: impl IntoIterator<Item = &'h str>) -> (Vec<String>, Vec<String>) {
    let mut kept: Vec<String> = Vec::new();
    let mut dropped: Vec<String> = Vec::new();
    for flag in super::bedrock::request::beta_flags(header_values) {
        let list = if ALLOWED.contains(&flag.as_str()) {
            &mut kept
        } else {
            &mut dropped
        };
        if !list.contains(&flag) {
            list.push(flag);
        }
    }
    (kept, dropped)
}

/// The client's `anthropic-beta` header values.
pub fn header_values(headers: &http::HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all("anthropic-beta")
        .into_iter()
        .filter_map(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_flags_are_kept_and_first_party_ones_dropped() {
        let (kept, dropped) = split([
            "claude-code-20250219,interleaved-thinking-2025-05-14",
            "oauth-2025-04-20, fine-grained-tool-streaming-2025-05-14,context-1m-2025-08-07",
            "interleaved-thinking-2025-05-14",
        ]);
        assert_eq!(
            kept,
            ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"]
        );
        assert_eq!(
            dropped,
            [
                "claude-code-20250219",
                "oauth-2025-04-20",
                "fine-grained-tool-streaming-2025-05-14"
            ]
        );
        assert_eq!(split([]), (Vec::new(), Vec::new()));
    }
}
