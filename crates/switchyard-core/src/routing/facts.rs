//! What a request is like, for the conditions of a rule (`when = { images = true, ... }`).

use http::HeaderMap;

use crate::anthropic::{
    ContentBlock, MessagesRequest, System, ThinkingConfig, Tool, ToolResultContent,
};
use crate::config::{AgentKind, When};

/// Which facts the conditional rules in question read: only those are looked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub images: bool,
    pub server_tools: bool,
    pub thinking: bool,
    pub agent: bool,
    pub prompt_tokens: bool,
}

impl Needs {
    /// Every fact but the prompt's size (an estimate, the costly one).
    pub const CHEAP: Needs = Needs {
        images: true,
        server_tools: true,
        thinking: true,
        agent: true,
        prompt_tokens: false,
    };

    /// What `when` reads.
    pub fn of(when: &When) -> Needs {
        Needs {
            images: when.images.is_some(),
            server_tools: when.server_tools.is_some(),
            thinking: when.thinking.is_some(),
            agent: when.agent.is_some(),
            prompt_tokens: when.min_prompt_tokens.is_some(),
        }
    }

    pub fn and(self, other: Needs) -> Needs {
        Needs {
            images: self.images || other.images,
            server_tools: self.server_tools || other.server_tools,
            thinking: self.thinking || other.thinking,
            agent: self.agent || other.agent,
            prompt_tokens: self.prompt_tokens || other.prompt_tokens,
        }
    }
}

/// The facts conditions are checked against: those not needed keep their default (a plain
/// request from the main agent), which no condition then reads. The prompt's size is an
/// estimate, made only when a rule asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub images: bool,
    pub server_tools: bool,
    pub thinking: bool,
    pub agent: AgentKind,
    pub prompt_tokens: Option<u64>,
}

impl Facts {
    /// The facts `needs` names, from the typed request; `estimate` is called only for the
    /// prompt's size.
    pub fn of(
        req: &MessagesRequest,
        headers: &HeaderMap,
        needs: Needs,
        estimate: impl FnOnce(&MessagesRequest) -> u64,
    ) -> Facts {
        Facts {
            images: needs.images
                && req
                    .messages
                    .iter()
                    .any(|m| has_image(&m.content.to_blocks())),
            server_tools: needs.server_tools
                && req
                    .tools
                    .as_ref()
                    .is_some_and(|tools| has_server_tool(tools)),
            thinking: needs.thinking
                && matches!(
                    req.thinking,
                    Some(ThinkingConfig::Enabled { .. } | ThinkingConfig::Adaptive { .. })
                ),
            agent: if needs.agent {
                agent_of(req, headers)
            } else {
                AgentKind::Main
            },
            prompt_tokens: needs.prompt_tokens.then(|| estimate(req)),
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
