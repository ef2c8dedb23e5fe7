//! Tool names for Chat Completions, which only accepts `^[a-zA-Z0-9_-]{1,64}$`. Claude Code's
//! MCP tools (`mcp__<server>__<tool>`) often exceed 64 characters. Such names are shortened
//! deterministically (a readable prefix + a hash of the full name, so the same name always
//! maps to the same short one and prefix caches stay warm) and mapped back in responses.

use std::collections::BTreeMap;

const MAX_LEN: usize = 64;
const HASH_HEX: usize = 10;

fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The name sent upstream for `name`: unchanged when valid, else prefix + `_` + hash.
pub fn shorten(name: &str) -> String {
    if is_valid(name) {
        return name.to_owned();
    }
    let prefix: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_LEN - HASH_HEX - 1)
        .collect();
    let hash = format!("{:016x}", fnv1a(name));
    format!("{prefix}_{}", &hash[..HASH_HEX])
}

/// Short upstream names → the client's names, for the names this request used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameMap {
    originals: BTreeMap<String, String>,
}

impl NameMap {
    /// Shorten `name` and remember how to map it back.
    pub fn upstream_name(&mut self, name: &str) -> String {
        let short = shorten(name);
        if short != name {
            self.originals.insert(short.clone(), name.to_owned());
        }
        short
    }

    /// Remember the names `other` shortened too.
    pub fn extend(&mut self, other: &NameMap) {
        self.originals.extend(
            other
                .originals
                .iter()
                .map(|(short, original)| (short.clone(), original.clone())),
        );
    }

    /// The client's name for an upstream name (unknown names are returned unchanged).
    pub fn client_name(&self, upstream: &str) -> String {
        self.originals
            .get(upstream)
            .cloned()
            .unwrap_or_else(|| upstream.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_unchanged() {
        assert_eq!(shorten("Bash"), "Bash");
        assert_eq!(
            shorten("mcp__github__create_issue"),
            "mcp__github__create_issue"
        );
    }

    #[test]
    fn long_names_shorten_deterministically_and_map_back() {
        let long = "mcp__my-very-long-server-name__a_tool_with_a_rather_long_name_indeed_v2";
        let short = shorten(long);
        assert_eq!(short.len(), 64);
        assert!(is_valid(&short));
        assert_eq!(short, shorten(long));
        assert!(short.starts_with("mcp__my-very-long-server-name__"));
        let other = shorten(&format!("{long}x"));
        assert_ne!(short, other);
        let mut map = NameMap::default();
        assert_eq!(map.upstream_name(long), short);
        assert_eq!(map.client_name(&short), long);
        assert_eq!(map.client_name("Bash"), "Bash");
    }

    #[test]
    fn invalid_characters_are_replaced() {
        let short = shorten("server.tool");
        assert!(is_valid(&short));
        assert!(short.starts_with("server_tool_"));
    }
}
