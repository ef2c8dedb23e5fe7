//! Which local model to suggest for Claude Code's opus, sonnet and haiku when a user maps
//! them for the first time: pure guessing from model names, no I/O.

use serde::{Deserialize, Serialize};

/// A model for each Claude family, as suggested (or chosen by the user).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FamilyModels {
    pub opus: Option<String>,
    pub sonnet: Option<String>,
    pub haiku: Option<String>,
}

/// The main loop (sonnet, and opus when asked for) gets the largest model that can chat; haiku,
/// which Claude Code uses for quick side tasks (titles, summaries), the smallest. Embedding
/// models are never suggested. Sizes come from the name (`qwen2.5-coder:7b`, `llama-3.1-70B`,
/// `SmolLM2-135M`); a name without one ranks after those with one, in the order given.
pub fn suggest(models: &[String]) -> FamilyModels {
    let mut usable: Vec<(usize, &String, Option<f64>)> = models
        .iter()
        .enumerate()
        .filter(|(_, m)| !is_embedding(m))
        .map(|(i, m)| (i, m, parameter_billions(m)))
        .collect();
    if usable.is_empty() {
        return FamilyModels::default();
    }
    // Largest first; unknown sizes after known ones, keeping the given order among equals.
    usable.sort_by(|a, b| match (a.2, b.2) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    let largest = usable.first().map(|(_, m, _)| (*m).clone());
    let smallest = usable
        .iter()
        .rev()
        .find(|(_, _, size)| size.is_some())
        .or(usable.first())
        .map(|(_, m, _)| (*m).clone());
    FamilyModels {
        opus: largest.clone(),
        sonnet: largest,
        haiku: smallest,
    }
}

fn is_embedding(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    m.contains("embed") || m.contains("rerank")
}

/// `7b` → 7.0, `1.5B` → 1.5, `135m` → 0.135: the first number followed by `b` or `m` that
/// starts a part of the name (after `:`, `-`, `_`, `/` or `.`), so `a3b` (active parameters
/// of a mixture of experts) and version numbers are not taken for the size.
fn parameter_billions(model: &str) -> Option<f64> {
    model
        .to_ascii_lowercase()
        .split([':', '-', '_', '/', ' '])
        .find_map(|part| {
            let (number, unit) =
                part.split_at(part.find(|c: char| !c.is_ascii_digit() && c != '.')?);
            let scale = match unit {
                "b" => 1.0,
                "m" => 0.001,
                _ => return None,
            };
            number.parse::<f64>().ok().map(|n| n * scale)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn sizes_are_read_from_common_names() {
        assert_eq!(parameter_billions("qwen2.5-coder:7b"), Some(7.0));
        assert_eq!(parameter_billions("qwen2.5-coder:1.5b"), Some(1.5));
        assert_eq!(
            parameter_billions("Meta-Llama-3.1-70B-Instruct"),
            Some(70.0)
        );
        assert_eq!(parameter_billions("SmolLM2-135M-Instruct"), Some(0.135));
        assert_eq!(parameter_billions("qwen3-coder-30b-a3b"), Some(30.0));
        assert_eq!(parameter_billions("gpt-oss"), None);
        assert_eq!(parameter_billions("llama3.2:latest"), None);
    }

    #[test]
    fn biggest_for_the_main_loop_smallest_for_haiku() {
        let s = suggest(&names(&[
            "qwen2.5-coder:1.5b",
            "nomic-embed-text:latest",
            "qwen2.5-coder:32b",
            "qwen2.5-coder:7b",
        ]));
        assert_eq!(s.sonnet.as_deref(), Some("qwen2.5-coder:32b"));
        assert_eq!(s.opus.as_deref(), Some("qwen2.5-coder:32b"));
        assert_eq!(s.haiku.as_deref(), Some("qwen2.5-coder:1.5b"));
    }

    #[test]
    fn one_model_serves_every_family_and_none_suggests_nothing() {
        let s = suggest(&names(&["llama3.2:latest"]));
        assert_eq!(s.sonnet.as_deref(), Some("llama3.2:latest"));
        assert_eq!(s.haiku.as_deref(), Some("llama3.2:latest"));
        assert_eq!(suggest(&names(&["bge-reranker"])), FamilyModels::default());
        assert_eq!(suggest(&[]), FamilyModels::default());
    }
}
