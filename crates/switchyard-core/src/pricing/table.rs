use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

/// The bundled price table's text (TOML).
pub const BUNDLED: &str = include_str!("prices.toml");

/// USD per million tokens. `cache_read` / `cache_write` default to `input` (providers without a
/// cache discount or write premium).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl ModelPrice {
    pub fn cache_read(&self) -> f64 {
        self.cache_read.unwrap_or(self.input)
    }

    pub fn cache_write(&self) -> f64 {
        self.cache_write.unwrap_or(self.input)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceTable {
    /// Where the prices come from.
    #[serde(default)]
    pub source: String,
    /// When they were believed current.
    #[serde(default)]
    pub as_of: String,
    #[serde(default)]
    pub models: BTreeMap<String, ModelPrice>,
}

static BUNDLED_TABLE: LazyLock<PriceTable> = LazyLock::new(|| match toml::from_str(BUNDLED) {
    Ok(table) => table,
    Err(err) => {
        // A test parses the file, so this only happens to a hand-edited build.
        tracing::error!(%err, "the bundled price table does not parse; costs will be unknown");
        PriceTable::default()
    }
});

/// The bundled table.
pub fn bundled() -> &'static PriceTable {
    &BUNDLED_TABLE
}

impl PriceTable {
    /// The bundled table with `overrides` (from the config) on top.
    pub fn with_overrides(overrides: &BTreeMap<String, ModelPrice>) -> PriceTable {
        let mut table = bundled().clone();
        for (name, price) in overrides {
            table.models.insert(name.to_ascii_lowercase(), *price);
        }
        table
    }

    /// The price of `model`: exact name, then the longest entry that prefixes it; then the same
    /// without a `vendor/` prefix, then with `.` in version numbers read as `-`, then as the
    /// Claude model a Bedrock or Vertex id names ([`claude_on_cloud`]).
    pub fn price(&self, model: &str) -> Option<&ModelPrice> {
        let lower = model.trim().to_ascii_lowercase();
        let stripped = lower.rsplit('/').next().unwrap_or(&lower).to_owned();
        let dashed = stripped.replace('.', "-");
        let cloud = claude_on_cloud(&stripped).unwrap_or_default();
        for name in [&lower, &stripped, &dashed, &cloud] {
            if let Some(price) = self.models.get(name.as_str()) {
                return Some(price);
            }
        }
        for name in [&lower, &stripped, &dashed, &cloud] {
            if let Some(price) = self.longest_prefix(name) {
                return Some(price);
            }
        }
        None
    }

    fn longest_prefix(&self, name: &str) -> Option<&ModelPrice> {
        if name.is_empty() {
            return None;
        }
        // Only on a separator: `o3` prices `o3-2025-04-16` but not `o3x-turbo`.
        self.models
            .iter()
            .filter(|(entry, _)| {
                name.starts_with(entry.as_str())
                    && name[entry.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| matches!(c, '-' | ':' | '@' | '_'))
            })
            .max_by_key(|(entry, _)| entry.len())
            .map(|(_, price)| price)
    }
}

/// The Claude model a Bedrock or Vertex model id names, in Anthropic's spelling, or `None`
/// for other names. Bedrock: an inference profile's geography (`us.`, `eu.`, `apac.`,
/// `global.`...), the `anthropic.` vendor, the `-v1:0` version suffix; Vertex: the `@date`
/// version. `us.anthropic.claude-sonnet-4-5-20250929-v1:0` and `claude-sonnet-4-5@20250929`
/// are both `claude-sonnet-4-5-20250929`; an inference-profile ARN's last segment is read
/// (the caller strips what comes before `/`).
pub fn claude_on_cloud(name: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase();
    let bedrock = match name.find("anthropic.") {
        Some(0) => Some(&name["anthropic.".len()..]),
        Some(at) => {
            let geography = &name[..at - 1];
            (name.as_bytes()[at - 1] == b'.'
                && !geography.is_empty()
                && geography
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'))
            .then(|| &name[at + "anthropic.".len()..])
        }
        None => None,
    };
    if let Some(rest) = bedrock {
        return Some(strip_bedrock_version(rest).to_owned());
    }
    let (model, version) = name.split_once('@')?;
    let dated = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
    (model.starts_with("claude") && dated).then(|| format!("{model}-{version}"))
}

/// `claude-x-20250929-v1:0` → `claude-x-20250929` (also `-v2:0`, `-v1`, `-v1:0:200k`).
fn strip_bedrock_version(id: &str) -> &str {
    let Some(at) = id.rfind("-v") else {
        return id;
    };
    let rest = &id[at + 2..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after = &rest[digits..];
    if digits > 0 && (after.is_empty() || after.starts_with(':')) {
        &id[..at]
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_parses_and_names_its_source() {
        let table: PriceTable = toml::from_str(BUNDLED).unwrap_or_default();
        assert!(table.models.len() > 30, "{} entries", table.models.len());
        assert!(!table.source.is_empty());
        assert_eq!(table.as_of, "2025-11");
    }

    #[test]
    fn exact_then_longest_prefix() {
        let t = bundled();
        let input = |m: &str| t.price(m).map(|p| p.input);
        assert_eq!(input("claude-sonnet-4-5-20250929"), Some(3.0));
        assert_eq!(input("claude-opus-4-1-20250805"), Some(15.0));
        assert_eq!(input("claude-opus-4-5-20251101"), Some(5.0));
        assert_eq!(input("claude-opus-4-20250514"), Some(15.0));
        assert_eq!(input("gpt-4o-mini-2024-07-18"), Some(0.15));
        assert_eq!(input("gpt-4o-2024-08-06"), Some(2.5));
        assert_eq!(input("o3-2025-04-16"), Some(2.0));
        assert_eq!(input("anthropic/claude-sonnet-4.5"), Some(3.0));
        assert_eq!(input("openai/gpt-oss-120b"), Some(0.15));
        assert_eq!(input("deepseek-chat"), Some(0.28));
        assert_eq!(input("o3x-turbo"), None);
        assert_eq!(input("qwen3-coder:30b"), None);
        assert_eq!(input("my-finetune"), None);
    }

    #[test]
    fn bedrock_and_vertex_ids_are_priced_as_the_claude_model_they_name() {
        let t = bundled();
        let input = |m: &str| t.price(m).map(|p| p.input);
        for (id, price) in [
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0),
            ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", 3.0),
            ("apac.anthropic.claude-haiku-4-5-20251001-v1:0", 1.0),
            ("eu.anthropic.claude-opus-4-1-20250805-v1:0", 15.0),
            ("anthropic.claude-3-5-sonnet-20241022-v2:0", 3.0),
            ("anthropic.claude-3-haiku-20240307-v1:0:200k", 0.25),
            (
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-5-20251101-v1:0",
                5.0,
            ),
            ("claude-sonnet-4-5@20250929", 3.0),
            ("claude-3-5-sonnet-v2@20241022", 3.0),
            ("claude-opus-4-1@20250805", 15.0),
            ("claude-haiku-4-5@20251001", 1.0),
        ] {
            assert_eq!(input(id), Some(price), "{id}");
        }
        assert_eq!(
            claude_on_cloud("us.anthropic.claude-sonnet-4-5-20250929-v1:0").as_deref(),
            Some("claude-sonnet-4-5-20250929")
        );
        assert_eq!(
            claude_on_cloud("claude-sonnet-4-5@20250929").as_deref(),
            Some("claude-sonnet-4-5-20250929")
        );
        // Other vendors on Bedrock, and names that only look alike, stay unknown.
        assert_eq!(input("meta.llama3-70b-instruct-v1:0"), None);
        assert_eq!(input("amazon.nova-pro-v1:0"), None);
        assert_eq!(claude_on_cloud("my.team.anthropic.claude-x"), None);
        assert_eq!(claude_on_cloud("gemini-pro@001x"), None);
    }

    #[test]
    fn overrides_win() {
        let mut overrides = BTreeMap::new();
        overrides.insert(
            "claude-sonnet-4-5".to_owned(),
            ModelPrice {
                input: 1.0,
                output: 2.0,
                cache_read: None,
                cache_write: None,
            },
        );
        let t = PriceTable::with_overrides(&overrides);
        assert_eq!(
            t.price("claude-sonnet-4-5-20250929").map(|p| p.input),
            Some(1.0)
        );
        assert_eq!(
            t.price("claude-sonnet-4-20250514").map(|p| p.input),
            Some(3.0)
        );
    }
}
