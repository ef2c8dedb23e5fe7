use std::sync::LazyLock;

use tiktoken_rs::CoreBPE;

/// o200k_base rather than cl100k_base: it is the closer of the two to Claude's tokenizer on
/// our fixtures (see `docs/TOKEN-ESTIMATE.md`), and its vocabulary ships inside `tiktoken-rs`
/// (`include_str!`), so nothing is fetched at run time. Building it takes ~100 ms, hence once.
static BPE: LazyLock<Option<CoreBPE>> = LazyLock::new(|| tiktoken_rs::o200k_base().ok());

/// Claude's tokenizer yields more tokens than o200k on the same text; the ratio measured on
/// our fixtures is applied so that the estimate errs on the high side (the context guard
/// would rather compact a little early than let an engine truncate silently).
const CLAUDE_OVER_O200K_PERCENT: u64 = 115;

/// Characters per token when the vocabulary could not be built (it is compiled in, so this
/// is a "cannot happen" path); 3 is conservative for code-heavy prompts.
const FALLBACK_CHARS_PER_TOKEN: u64 = 3;

/// Estimated Claude tokens in `text`. Never zero for non-empty text.
pub fn count_text_tokens(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let raw = match BPE.as_ref() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => (text.chars().count() as u64).div_ceil(FALLBACK_CHARS_PER_TOKEN),
    };
    (raw * CLAUDE_OVER_O200K_PERCENT).div_ceil(100).max(1)
}

/// Raw o200k count, for the measurement in `docs/TOKEN-ESTIMATE.md`.
#[cfg(test)]
pub(crate) fn o200k_raw(text: &str) -> u64 {
    BPE.as_ref()
        .map_or(0, |bpe| bpe.encode_ordinary(text).len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary_is_compiled_in() {
        assert!(BPE.is_some());
        // "hello world" is two o200k tokens.
        assert_eq!(o200k_raw("hello world"), 2);
    }

    #[test]
    fn counts_are_scaled_up_and_never_zero() {
        assert_eq!(count_text_tokens(""), 0);
        assert_eq!(count_text_tokens("a"), 2);
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
        let raw = o200k_raw(&text);
        assert!(count_text_tokens(&text) > raw);
    }
}
