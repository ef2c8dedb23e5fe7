//! What a request is like, for the conditions of a rule (`when = { images = true, ... }`).

use http::HeaderMap;

use crate::anthropic::{
    ContentBlock, MessagesRequest, System, ThinkingConfig, Tool, ToolResultContent,
};
use crate::config::{AgentKind, When};

/// The facts conditions are checked against. The prompt's size is an estimate, made only when
/// a rule asks for it. The default is a plain request from the main agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub images: bool,
    pub server_tools: bool,
    pub thinking: bool,
    pub agent: AgentKind,
    pub prompt_tokens: Option<u64>,
}

impl Facts {
    /// `estimate` is called only when `need_tokens` (a rule has `min_prompt_tokens`).
    pub fn of(
        req: &MessagesRequest,
        headers: &HeaderMap,
        need_tokens: bool,
        estimate: impl FnOnce(&MessagesRequest) -> u64,
    ) -> Facts {
        Facts {
            images: req
                .messages
                .iter()
                .any(|m| has_image(&m.content.to_blocks())),
            server_tools: req
                .tools
                .as_ref()
                .is_some_and(|tools| has_server_tool(tools)),
            thinking: matches!(
                req.thinking,
                Some(ThinkingConfig::Enabled { .. } | ThinkingConfig::Adaptive { .. })
            ),
            agent: agent_of(req, headers),
            prompt_tokens: need_tokens.then(|| estimate(req)),
        }
    }

    /// Whether every condition of `when` holds.
    pub fn meet(&self, when: &When) -> bool {
        let is = |wanted: Option<bool>, actual: bool| wanted.is_none_or(|w| w == actual);
        is(when.images, self.images)
            && is(when.server_tools, self.server_tools)
            && is(when.thinking, self.thinking)
            && when.agent.is_none_or(|a| a == self.agent)
            && when
                .min_prompt_tokens
                .is_none_or(|min| self.prompt_tokens.is_some_and(|n| n >= min))
    }
}

/// Whether any tool runs at Anthropic (web search, code execution, ...).
pub fn has_server_tool(tools: &[Tool]) -> bool {
    tools.iter().any(Tool::is_server_tool)
}

fn has_image(blocks: &[ContentBlock]) -> bool {
    blocks.iter().any(|b| match b {
        ContentBlock::Image(_) => true,
        ContentBlock::ToolResult(result) => {
            matches!(&result.content, Some(ToolResultContent::Blocks(inner)) if has_image(inner))
        }
        _ => false,
    })
}

/// Claude Code marks a subagent's requests with `x-claude-code-agent-id` (and, nested,
/// `x-claude-code-parent-agent-id`), and its attribution block with `cc_is_subagent=true`.
fn agent_of(req: &MessagesRequest, headers: &HeaderMap) -> AgentKind {
    agent_kind(headers, req.system.as_deref().is_some_and(marks_subagent))
}

/// The marker Claude Code puts in a subagent's attribution block.
pub const SUBAGENT_MARK: &str = "cc_is_subagent=true";

/// A subagent by its headers, or by `attribution` (its system prompt's mark).
pub fn agent_kind(headers: &HeaderMap, attribution: bool) -> AgentKind {
    let header = ["x-claude-code-agent-id", "x-claude-code-parent-agent-id"]
        .iter()
        .any(|h| headers.get(*h).is_some_and(|v| !v.is_empty()));
    if header || attribution {
        AgentKind::Subagent
    } else {
        AgentKind::Main
    }
}

/// Whether the system prompt's attribution block (its first) carries the subagent mark.
pub fn marks_subagent(system: &System) -> bool {
    match system {
        System::Text(text) => text.contains(SUBAGENT_MARK),
        System::Blocks(blocks) => blocks
            .first()
            .is_some_and(|b| b.text.raw().contains(SUBAGENT_MARK)),
    }
}
