//! A request's facts for conditional rules, read from the fields the scan found: a request
//! that goes through unchanged is not parsed whole for them. Messages are parsed only when
//! their text names an image; tool definitions and the system prompt are parsed once per
//! distinct text and shared (the translators reuse the same parse). Whenever a part does not
//! read as expected, the typed parse decides, as it does when a rule needs the prompt's size.

use std::borrow::Cow;

use http::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::request::{ConditionParts, InboundRequest, SYSTEMS, TOOLS};
use crate::config::AgentKind;
use crate::routing::{Facts, Needs, agent_kind, has_server_tool, marks_subagent};

/// The facts of `req` that `needs` names (the prompt's size is estimated from the typed
/// request).
pub fn request_facts(req: &InboundRequest, headers: &HeaderMap, needs: Needs) -> Facts {
    if !needs.prompt_tokens
        && let Some(facts) = req
            .condition_parts()
            .and_then(|parts| light(parts, headers, needs))
    {
        return facts;
    }
    super::cpu::heavy(req.body.len(), || match req.full() {
        Ok(full) => Facts::of(full, headers, needs, crate::tokens::estimate_request_tokens),
        // A body the full parse refuses has no images, tools or thinking to find (the
        // backend will say what is wrong with it).
        Err(_) => Facts::default(),
    })
}

fn light(parts: ConditionParts<'_>, headers: &HeaderMap, needs: Needs) -> Option<Facts> {
    let server_tools = if needs.server_tools {
        parts
            .tools
            .parse(&TOOLS)?
            .is_some_and(|tools| has_server_tool(&tools))
    } else {
        false
    };
    let thinking = match parts.thinking {
        Some(raw) if needs.thinking => thinking_on(raw)?,
        _ => false,
    };
    let agent = if needs.agent {
        agent_kind(headers, system_marks_subagent(parts.system)?)
    } else {
        AgentKind::Main
    };
    Some(Facts {
        images: needs.images && images(parts.messages)?,
        server_tools,
        thinking,
        agent,
        prompt_tokens: None,
    })
}

/// The mark is looked for in the raw text first: a main agent's prompt is never parsed here.
fn system_marks_subagent(
    system: super::request::Part<'_, crate::anthropic::System>,
) -> Option<bool> {
    if let super::request::Part::Raw(raw) = system
        && memchr::memmem::find(raw, crate::routing::SUBAGENT_MARK.as_bytes()).is_none()
    {
        return Some(false);
    }
    Some(system.parse(&SYSTEMS)?.is_some_and(|s| marks_subagent(&s)))
}

fn thinking_on(raw: &[u8]) -> Option<bool> {
    #[derive(Deserialize)]
    struct Thinking<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
    }
    let thinking: Option<Thinking<'_>> = serde_json::from_slice(raw).ok()?;
    Some(thinking.is_some_and(|t| matches!(&*t.kind, "enabled" | "adaptive")))
}

#[derive(Deserialize)]
struct MessageHead<'a> {
    #[serde(borrow)]
    content: &'a RawValue,
}

#[derive(Deserialize)]
struct BlockHead<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

/// Whether an image block is in the messages (tool results included). The text of a message
/// list with an image holds `"image"`; without it there is nothing to parse. (A client that
/// wrote the type with escapes, `"\u0069mage"`, would pass unseen: none does.)
fn images(messages: &[u8]) -> Option<bool> {
    if memchr::memmem::find(messages, b"\"image\"").is_none() {
        return Some(false);
    }
    let messages: Vec<MessageHead<'_>> = serde_json::from_slice(messages).ok()?;
    Some(messages.iter().any(|m| has_image(m.content)))
}

fn has_image(content: &RawValue) -> bool {
    // A string content has no blocks.
    if !content.get().starts_with('[') {
        return false;
    }
    serde_json::from_str::<Vec<BlockHead<'_>>>(content.get()).is_ok_and(|blocks| {
        blocks.iter().any(|b| match &*b.kind {
            "image" => true,
            "tool_result" => b.content.is_some_and(has_image),
            _ => false,
        })
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn both(body: &str, headers: &HeaderMap) -> (Facts, Facts) {
        let req = InboundRequest::parse(Bytes::from(body.to_owned())).unwrap();
        let light = req
            .condition_parts()
            .and_then(|parts| light(parts, headers, Needs::CHEAP))
            .expect("the light read is sure of this body");
        let typed = Facts::of(req.full().unwrap(), headers, Needs::CHEAP, |_| 0);
        (light, typed)
    }

    /// Every fact, read both ways, on bodies that have it and lookalikes that do not.
    #[test]
    fn the_light_read_agrees_with_the_typed_one() {
        let image = r#"{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}"#;
        let cases = [
            // Plain.
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            // The word "image" in text, not as a block type.
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"an \"image\" here"}]}]}"#.to_owned(),
            format!(r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":[{image}]}}]}}"#),
            // In a tool result, with spaces around the colon.
            format!(r#"{{"model":"m","max_tokens":5,"messages":[{{"role":"user","content":"go"}},{{"role":"assistant","content":[{{"type":"tool_use","id":"t1","name":"Read","input":{{}}}}]}},{{"role":"user","content":[{{"type" : "tool_result","tool_use_id":"t1","content":[{image}]}}]}}]}}"#),
            r#"{"model":"m","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"thinking":{"type":"adaptive"},"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"tools":[{"name":"Bash","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"tools":[{"type":"custom","name":"Bash","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1; cc_is_subagent=true;"},{"type":"text","text":"You are an agent"}],"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            // The mark outside the attribution block does not make a subagent.
            r#"{"model":"m","max_tokens":5,"system":[{"type":"text","text":"You are Claude Code"},{"type":"text","text":"cc_is_subagent=true"}],"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            r#"{"model":"m","max_tokens":5,"system":"cc_is_subagent=true","messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
        ];
        let mut seen = [false; 4];
        for body in &cases {
            let (light, typed) = both(body, &HeaderMap::new());
            assert_eq!(light, typed, "{body}");
            seen[0] |= light.images;
            seen[1] |= light.thinking;
            seen[2] |= light.server_tools;
            seen[3] |= light.agent == AgentKind::Subagent;
        }
        assert_eq!(seen, [true; 4], "each fact is true for some case");
        // Twice each: the second read gets the tools and system from the shared parse.
        for body in &cases {
            let (light, typed) = both(body, &HeaderMap::new());
            assert_eq!(light, typed, "again: {body}");
        }
    }

    #[test]
    fn a_subagent_header_makes_a_subagent() {
        let mut headers = HeaderMap::new();
        headers.insert("x-claude-code-agent-id", "a-1".parse().unwrap());
        let (light, typed) = both(
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
            &headers,
        );
        assert_eq!(light.agent, AgentKind::Subagent);
        assert_eq!(light, typed);
    }

    #[test]
    fn a_body_the_light_read_is_unsure_of_goes_to_the_typed_parse() {
        // Thinking of the wrong shape: the light read declines, the typed parse refuses the
        // body, and the request is taken as a plain one.
        let req = InboundRequest::parse(Bytes::from_static(
            br#"{"model":"m","max_tokens":5,"thinking":7,"messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .unwrap();
        assert!(
            req.condition_parts()
                .and_then(|p| light(p, &HeaderMap::new(), Needs::CHEAP))
                .is_none()
        );
        assert_eq!(
            request_facts(&req, &HeaderMap::new(), Needs::CHEAP),
            Facts::default()
        );
    }
}
