//! The cache key: a 128-bit XXH3 of everything that decides the upstream's answer, and of
//! nothing else.
//!
//! - The request's content: every top-level field of the body except `model` (the upstream
//!   model counts instead, below), `stream` (a hit answers either shape from one stored
//!   answer) and `metadata` (who asks, not what: Claude Code puts its session there). That
//!   is hashed by `InboundRequest::content_hash` from the spans the head scan already found,
//!   field by field, so key order at the top level does not matter and nothing is parsed.
//!   Everything else counts byte for byte, `cache_control` markers included: they are
//!   content the upstream reads (they decide what it caches and bills as cache writes and
//!   reads, which the stored usage reports), a client repeating a request repeats them, and
//!   stripping them would mean parsing every message.
//! - The target: backend id, kind and base URL (an edited URL is another server), the
//!   upstream model, and the backend settings a translation reads (extra headers, the output
//!   cap, a configured context window, text tool-call recovery).
//! - Pass-through only: the `anthropic-*` headers it forwards (version and beta flags change
//!   what Anthropic answers) and the query string (`?beta=true`).
//! - Translated only: the requested model (a translator names it in the answer's `model`).
//! - Bedrock and Vertex: the region and project (part of the endpoint when `base_url` is
//!   empty) and the beta flags they are sent (`backends::cloud_betas`: the others are
//!   dropped, so they cannot change the answer). The answer is Claude's own, naming the
//!   upstream model, so the requested model does not count.
//!
//! Parts are length-prefixed, so no two different sets of parts hash the same bytes.

use http::HeaderMap;
use xxhash_rust::xxh3::Xxh3;

use crate::config::{BackendConfig, BackendKind};

/// Bumped when what the key covers or how answers are stored changes: older entries then
/// never match again and age out by TTL and size.
const KEY_VERSION: u8 = 1;

/// What, besides the body's content, decides the answer.
pub struct Target<'a> {
    pub backend: &'a BackendConfig,
    pub upstream_model: &'a str,
    pub requested_model: &'a str,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
}

/// The key of `content` (the body's hash, see the module) sent to `target`.
pub fn key(content: u128, target: &Target<'_>) -> u128 {
    let mut h = Xxh3::new();
    h.update(&[KEY_VERSION]);
    let backend = target.backend;
    put(&mut h, backend.id.as_bytes());
    put(&mut h, backend.kind.as_str().as_bytes());
    put(&mut h, backend.base_url.as_bytes());
    put(&mut h, target.upstream_model.as_bytes());
    h.update(&(backend.headers.len() as u64).to_le_bytes());
    for (name, value) in &backend.headers {
        put(&mut h, name.as_bytes());
        put(&mut h, value.as_bytes());
    }
    h.update(
        &backend
            .max_output_tokens
            .map_or(0, |n| u64::from(n) + 1)
            .to_le_bytes(),
    );
    match backend.kind {
        BackendKind::Anthropic => {
            let mut forwarded: Vec<(&str, &[u8])> = target
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes()))
                .filter(|(name, _)| {
                    name.starts_with("anthropic-")
                        && *name != "anthropic-dangerous-direct-browser-access"
                })
                .collect();
            // Sorted: the order headers arrive in does not change the answer.
            forwarded.sort_unstable();
            h.update(&(forwarded.len() as u64).to_le_bytes());
            for (name, value) in forwarded {
                put(&mut h, name.as_bytes());
                put(&mut h, value);
            }
            match target.query {
                Some(query) => {
                    h.update(&[1]);
                    put(&mut h, query.as_bytes());
                }
                None => h.update(&[0]),
            }
        }
        BackendKind::Bedrock | BackendKind::Vertex => {
            put(&mut h, backend.region().unwrap_or_default().as_bytes());
            put(&mut h, backend.project().unwrap_or_default().as_bytes());
            let (mut betas, _) = crate::backends::cloud_betas::split(
                crate::backends::cloud_betas::header_values(target.headers),
            );
            betas.sort_unstable();
            h.update(&(betas.len() as u64).to_le_bytes());
            for flag in betas {
                put(&mut h, flag.as_bytes());
            }
        }
        BackendKind::OpenaiChat | BackendKind::Ollama => {
            put(&mut h, target.requested_model.as_bytes());
            h.update(
                &backend
                    .context_length
                    .map_or(0, |n| u64::from(n) + 1)
                    .to_le_bytes(),
            );
            h.update(&[u8::from(backend.recover_text_tool_calls)]);
        }
    }
    h.update(&content.to_le_bytes());
    h.digest128()
}

fn put(h: &mut Xxh3, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(backend: &'a BackendConfig, headers: &'a HeaderMap) -> Target<'a> {
        Target {
            backend,
            upstream_model: "up",
            requested_model: "claude-sonnet-4-5",
            headers,
            query: None,
        }
    }

    #[test]
    fn every_part_of_the_target_counts_and_nothing_else() {
        let pass = BackendConfig::new("b", BackendKind::Anthropic, "http://127.0.0.1:1");
        let none = HeaderMap::new();
        let base = key(7, &target(&pass, &none));
        assert_eq!(base, key(7, &target(&pass, &none)));
        assert_ne!(base, key(8, &target(&pass, &none)));
        let other_url = BackendConfig::new("b", BackendKind::Anthropic, "http://127.0.0.1:2");
        assert_ne!(base, key(7, &target(&other_url, &none)));
        let other_id = BackendConfig::new("c", BackendKind::Anthropic, "http://127.0.0.1:1");
        assert_ne!(base, key(7, &target(&other_id, &none)));
        let mut t = target(&pass, &none);
        t.upstream_model = "up2";
        assert_ne!(base, key(7, &t));
        // A pass-through answer does not depend on the requested name; a query does.
        t = target(&pass, &none);
        t.requested_model = "claude-opus-4-1";
        assert_eq!(base, key(7, &t));
        t.query = Some("beta=true");
        assert_ne!(base, key(7, &t));

        // Beta flags count, in any order; session headers do not.
        let mut a = HeaderMap::new();
        a.append("anthropic-beta", "x".parse().unwrap());
        a.append("anthropic-beta", "y".parse().unwrap());
        let mut b = HeaderMap::new();
        b.append("x-claude-code-session-id", "s1".parse().unwrap());
        b.append("anthropic-beta", "y".parse().unwrap());
        b.append("anthropic-beta", "x".parse().unwrap());
        let with_betas = key(7, &target(&pass, &a));
        assert_ne!(base, with_betas);
        assert_eq!(with_betas, key(7, &target(&pass, &b)));
        let mut session = HeaderMap::new();
        session.append("x-claude-code-session-id", "s2".parse().unwrap());
        assert_eq!(base, key(7, &target(&pass, &session)));

        // A translator names the requested model in its answer.
        let openai = BackendConfig::new("b", BackendKind::OpenaiChat, "http://127.0.0.1:1");
        let translated = key(7, &target(&openai, &none));
        assert_ne!(translated, base);
        let mut t = target(&openai, &none);
        t.requested_model = "claude-opus-4-1";
        assert_ne!(translated, key(7, &t));
        let mut capped = openai.clone();
        capped.max_output_tokens = Some(100);
        assert_ne!(translated, key(7, &target(&capped, &none)));
    }

    #[test]
    fn a_clouds_region_project_and_sent_betas_count() {
        let mut bedrock = BackendConfig::new("b", BackendKind::Bedrock, "");
        bedrock.region = Some("us-east-1".into());
        let none = HeaderMap::new();
        let base = key(7, &target(&bedrock, &none));
        let mut elsewhere = bedrock.clone();
        elsewhere.region = Some("eu-west-1".into());
        assert_ne!(base, key(7, &target(&elsewhere, &none)));
        // The requested name is not in Claude's answer.
        let mut t = target(&bedrock, &none);
        t.requested_model = "claude-opus-4-1";
        assert_eq!(base, key(7, &t));
        // A flag Bedrock is not sent cannot change its answer; one it is sent can.
        let mut dropped = HeaderMap::new();
        dropped.append("anthropic-beta", "claude-code-20250219".parse().unwrap());
        assert_eq!(base, key(7, &target(&bedrock, &dropped)));
        let mut sent = HeaderMap::new();
        sent.append(
            "anthropic-beta",
            "claude-code-20250219,context-1m-2025-08-07"
                .parse()
                .unwrap(),
        );
        assert_ne!(base, key(7, &target(&bedrock, &sent)));

        let mut vertex = BackendConfig::new("b", BackendKind::Vertex, "");
        vertex.region = Some("us-east-1".into());
        assert_ne!(base, key(7, &target(&vertex, &none)));
        let mut project = vertex.clone();
        project.project = Some("p2".into());
        assert_ne!(
            key(7, &target(&vertex, &none)),
            key(7, &target(&project, &none))
        );
    }
}
