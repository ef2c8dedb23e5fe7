use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::o200k::O200k;
use crate::anthropic::{JsonString, RawJson};

/// o200k_base rather than cl100k_base: it is the closer of the two to Claude's tokenizer on
/// our fixtures (see `docs/TOKEN-ESTIMATE.md`). Its vocabulary is compiled into the binary
/// (`o200k.rs`), so nothing is fetched at run time; building the table over it takes ~10 ms
/// and the tokenizer keeps ~7 MB resident, hence once.
static BPE: LazyLock<Option<O200k>> = LazyLock::new(|| match O200k::new() {
    Ok(bpe) => Some(bpe),
    Err(error) => {
        tracing::error!(%error, "counting characters instead of o200k tokens");
        None
    }
});

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
    let raw = if text.len() >= CACHE_MIN_BYTES {
        cached_raw_count(text)
    } else {
        raw_count(text)
    };
    (raw * CLAUDE_OVER_O200K_PERCENT).div_ceil(100).max(1)
}

/// Estimated Claude tokens in a JSON string kept escaped: the count is cached by the escaped
/// form, so a cache hit decodes nothing.
pub fn count_json_string_tokens(string: &JsonString) -> u64 {
    let literal = string.raw();
    if literal.len() < CACHE_MIN_BYTES {
        return count_text_tokens(&string.text());
    }
    // Seeded apart from plain texts: a literal and a text with the same bytes mean different
    // strings.
    let key = xxhash_rust::xxh3::xxh3_64_with_seed(literal.as_bytes(), 1);
    let raw = cached(key, || raw_count(&string.text()));
    (raw * CLAUDE_OVER_O200K_PERCENT).div_ceil(100).max(1)
}

/// Estimated Claude tokens in a JSON value kept as text (a tool schema), counted as its
/// compact form so that the client's formatting does not change the estimate; cached by the
/// text as received.
pub fn count_raw_json_tokens(raw: &RawJson) -> u64 {
    let text = raw.get();
    let key = xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), 2);
    let raw = cached(key, || raw_count(&crate::json_text::compact(text)));
    (raw * CLAUDE_OVER_O200K_PERCENT).div_ceil(100).max(1)
}

fn raw_count(text: &str) -> u64 {
    match BPE.as_ref() {
        Some(bpe) => chunks(text).map(|chunk| bpe.count(chunk) as u64).sum(),
        None => (text.chars().count() as u64).div_ceil(FALLBACK_CHARS_PER_TOKEN),
    }
}

/// Make the vocabulary ready (it takes a few ms): call once at start-up, off the request
/// path.
pub fn warm_up() {
    let _ = count_text_tokens("warm up");
}

/// Texts at least this long have their counts cached: Claude Code's tool schemas and
/// reminders are a few hundred bytes each and come back with every request.
const CACHE_MIN_BYTES: usize = 24;
/// Entries kept before the cache starts over.
const CACHE_ENTRIES: usize = 8192;

/// Counts of long texts by content hash. A Claude Code session re-sends the same system
/// prompt, tool definitions and earlier turns with every request, so after the first request
/// only the new turn is tokenized: hashing 90 KB (XXH3, SIMD) costs microseconds, encoding it
/// milliseconds. A hash collision could only skew an estimate.
static CACHE: LazyLock<Mutex<HashMap<u64, u64>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn cached_raw_count(text: &str) -> u64 {
    cached(xxhash_rust::xxh3::xxh3_64(text.as_bytes()), || {
        raw_count(text)
    })
}

fn cached(key: u64, count: impl FnOnce() -> u64) -> u64 {
    if let Some(&count) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return count;
    }
    let count = count();
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(key, count);
    count
}

/// Texts are encoded in pieces of at most this many bytes, cut after whitespace.
const CHUNK_BYTES: usize = 4096;
/// Longest run without whitespace encoded in one go. BPE merging is quadratic in the length
/// of a pre-tokenized piece, and o200k's pre-tokenizer keeps a run of letters (a minified
/// file, a long identifier, repeated characters) as one piece: without this cut a 100 KB run
/// would take seconds on the request path. Each cut costs a few tokens (the pieces on either
/// side of it no longer merge), negligible next to a run this long.
const MAX_RUN_BYTES: usize = 256;

/// Consecutive slices of `text` covering it exactly: words gathered up to [`CHUNK_BYTES`],
/// words longer than [`MAX_RUN_BYTES`] split on char boundaries.
pub(super) fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        if word.len() > MAX_RUN_BYTES {
            if end > start {
                out.push(&text[start..end]);
            }
            let mut rest = word;
            while rest.len() > MAX_RUN_BYTES {
                let cut = (1..=MAX_RUN_BYTES)
                    .rev()
                    .find(|&i| rest.is_char_boundary(i))
                    .unwrap_or(rest.len());
                out.push(&rest[..cut]);
                rest = &rest[cut..];
            }
            end += word.len();
            start = end - rest.len();
            continue;
        }
        if end + word.len() - start > CHUNK_BYTES && end > start {
            out.push(&text[start..end]);
            start = end;
        }
        end += word.len();
    }
    if end > start {
        out.push(&text[start..end]);
    }
    out.into_iter()
}

/// Raw o200k count, for the measurement in `docs/TOKEN-ESTIMATE.md`.
#[cfg(test)]
pub(crate) fn o200k_raw(text: &str) -> u64 {
    BPE.as_ref().map_or(0, |bpe| bpe.count(text) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_counted_as_its_compact_form() {
        let raw = |t: &str| serde_json::from_str::<RawJson>(t).unwrap();
        assert_eq!(
            count_raw_json_tokens(&raw(
                "{\n  \"type\": \"object\",\n  \"required\": [\"a b\"]\n}"
            )),
            count_raw_json_tokens(&raw(r#"{"type":"object","required":["a b"]}"#))
        );
    }

    #[test]
    fn cached_counts_equal_fresh_counts() {
        let text = "fn main() { println!(\"hello\"); }\n".repeat(100);
        let fresh = raw_count(&text);
        assert_eq!(cached_raw_count(&text), fresh);
        assert_eq!(
            cached_raw_count(&text),
            fresh,
            "second lookup comes from the cache"
        );
        let other = format!("{text}// one more line\n");
        assert!(cached_raw_count(&other) > fresh);
    }

    #[test]
    fn vocabulary_is_compiled_in() {
        assert!(BPE.is_some());
        // "hello world" is two o200k tokens.
        assert_eq!(o200k_raw("hello world"), 2);
    }

    #[test]
    fn chunks_cover_the_text_and_bound_runs() {
        let text = format!("{} tail é{}", "word ".repeat(2000), "é".repeat(1000));
        let pieces: Vec<&str> = chunks(&text).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.iter().all(|p| p.len() <= CHUNK_BYTES));
        assert!(
            pieces
                .iter()
                .all(|p| p.split_whitespace().all(|w| w.len() <= MAX_RUN_BYTES))
        );
        assert!(pieces.len() > 3);
    }

    #[test]
    fn long_runs_still_count_close_to_whole_text() {
        let text = "abcdefghijklmnopqrstuvwxyz".repeat(100);
        let whole = o200k_raw(&text);
        let pieces: Vec<&str> = chunks(&text).collect();
        let chunked: u64 = pieces.iter().map(|p| o200k_raw(p)).sum();
        let cuts = pieces.len() as u64 - 1;
        assert_eq!(cuts, 10);
        assert!(chunked.abs_diff(whole) <= 4 * cuts, "{chunked} vs {whole}");
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
