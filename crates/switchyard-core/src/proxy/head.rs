//! Finding a few top-level fields of a JSON object without parsing the rest.
//!
//! Every request pays for this (routing needs `model` before a backend is chosen), and a
//! Claude Code body is ~100 KB of long strings: serde skips them a byte or a word at a time,
//! this scan jumps from quote to quote with `memchr`. It checks the structure it walks
//! through (strings closed, brackets balanced, `key: value` pairs at the top), not the syntax
//! inside values: the caller parses the fields it needs with serde, a translating backend
//! parses the whole body, and a pass-through backend rejects what it cannot read. Whenever the
//! scan is unsure (an escaped key, a duplicate, anything unexpected) it returns `None` and the
//! caller falls back to serde, which also words the error.

use std::ops::Range;

/// Where a JSON object's top-level values sit.
#[derive(Debug)]
pub struct TopLevel<const N: usize> {
    /// Each wanted key's value (`None`: the key is absent).
    pub found: [Option<Range<usize>>; N],
    /// The values of all other keys.
    pub others: Vec<Range<usize>>,
    /// Their keys (between the quotes), in the same order.
    pub other_keys: Vec<Range<usize>>,
}

/// Where the values of the `wanted` top-level keys sit in `body`, and those of the other keys.
/// `None`: not an object the scan is sure about; ask serde. The hint `known(slot, rest)` is
/// the length of a value known to start `rest` (the value of `wanted[slot]`), when `rest`
/// starts with bytes that were seen, whole and valid, before; it must be sure, as its span is
/// taken without a look inside.
pub fn top_level_fields_with<const N: usize>(
    body: &[u8],
    wanted: [&str; N],
    mut known: impl FnMut(usize, &[u8]) -> Option<usize>,
) -> Option<TopLevel<N>> {
    let mut found: [Option<Range<usize>>; N] = std::array::from_fn(|_| None);
    let mut others = Vec::new();
    let mut other_keys = Vec::new();
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(body, i + 1);
    if body.get(i) == Some(&b'}') {
        return (skip_ws(body, i + 1) == body.len()).then_some(TopLevel {
            found,
            others,
            other_keys,
        });
    }
    loop {
        if body.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(body, i)?;
        let key_at = i + 1..key_end - 1;
        let key = &body[key_at.clone()];
        // An escaped key may spell a wanted one; a raw control character makes the body
        // invalid JSON: serde decides both.
        if key.iter().any(|&b| b == b'\\' || b < 0x20) {
            return None;
        }
        i = skip_ws(body, key_end);
        if body.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(body, i + 1);
        let slot = wanted.iter().position(|w| w.as_bytes() == key);
        let end = match slot.and_then(|slot| known(slot, &body[start..])) {
            Some(len) => start + len,
            None => value_end(body, start)?,
        };
        match slot {
            Some(slot) if found[slot].is_some() => return None,
            Some(slot) => found[slot] = Some(start..end),
            None => {
                others.push(start..end);
                other_keys.push(key_at);
            }
        }
        i = skip_ws(body, end);
        match body.get(i) {
            Some(b',') => i = skip_ws(body, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    (skip_ws(body, i + 1) == body.len()).then_some(TopLevel {
        found,
        others,
        other_keys,
    })
}

fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while matches!(body.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `body[start]` is an opening quote: the index just past its closing quote.
fn string_end(body: &[u8], start: usize) -> Option<usize> {
    let mut from = start + 1;
    loop {
        let quote = from + memchr::memchr(b'"', body.get(from..)?)?;
        // Escaped when preceded by an odd number of backslashes (inside this string).
        let backslashes = body[start + 1..quote]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count();
        if backslashes % 2 == 0 {
            return Some(quote + 1);
        }
        from = quote + 1;
    }
}

/// The index just past the value starting at `start`.
fn value_end(body: &[u8], start: usize) -> Option<usize> {
    match body.get(start)? {
        b'"' => string_end(body, start),
        b'{' | b'[' => {
            // Strings hold almost all the bytes; between them a byte loop is cheap.
            let mut closers = vec![];
            let mut i = start;
            loop {
                match body.get(i)? {
                    b'"' => {
                        i = string_end(body, i)?;
                        continue;
                    }
                    b'{' => closers.push(b'}'),
                    b'[' => closers.push(b']'),
                    close @ (b'}' | b']') => {
                        if closers.pop() != Some(*close) {
                            return None;
                        }
                        if closers.is_empty() {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        b',' | b'}' | b']' | b':' => None,
        _ => {
            // A number, true, false or null: up to the next delimiter.
            let len = body[start..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))?;
            Some(start + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top_level_fields<const N: usize>(body: &[u8], wanted: [&str; N]) -> Option<TopLevel<N>> {
        top_level_fields_with(body, wanted, |_, _| None)
    }

    fn fields(body: &str) -> Option<Vec<Option<String>>> {
        let found = top_level_fields(body.as_bytes(), ["model", "stream", "messages"])?;
        Some(
            found
                .found
                .into_iter()
                .map(|r| r.map(|r| body[r].to_owned()))
                .collect(),
        )
    }

    #[test]
    fn finds_top_level_values_and_skips_nested_lookalikes() {
        let body = r#" { "messages" : [{"role":"user","content":"say \"model\": \\"},{"x":{"model":1}}],
            "model":"claude-x", "n": -1.5e3, "stream" :true, "nested": {"a": [1, {"b": "}]"}]} } "#;
        assert_eq!(
            fields(body).unwrap(),
            vec![
                Some(r#""claude-x""#.to_owned()),
                Some("true".to_owned()),
                Some(
                    r#"[{"role":"user","content":"say \"model\": \\"},{"x":{"model":1}}]"#
                        .to_owned()
                )
            ]
        );
        assert_eq!(fields("{}").unwrap(), vec![None, None, None]);
    }

    #[test]
    fn agrees_with_serde_on_where_values_sit() {
        // Every value kind, escapes next to quotes, unicode.
        let body = r#"{"a":"\\\"","model":"caf\u00e9 ☕","stream":null,"messages":[[],{},"\\",""],"z":false}"#;
        #[derive(serde::Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            model: &'a serde_json::value::RawValue,
            #[serde(borrow)]
            messages: &'a serde_json::value::RawValue,
        }
        let raw: Raw<'_> = serde_json::from_str(body).unwrap();
        let found = fields(body).unwrap();
        assert_eq!(found[0].as_deref(), Some(raw.model.get()));
        assert_eq!(found[1].as_deref(), Some("null"));
        assert_eq!(found[2].as_deref(), Some(raw.messages.get()));
    }

    #[test]
    fn is_unsure_rather_than_wrong() {
        for body in [
            "",
            "[]",
            "{not json",
            r#"{"model":"x""#,
            r#"{"model":"x"} trailing"#,
            r#"{"model":"x",}"#,
            r#"{"model":"x","model":"y"}"#,
            r#"{"mod\u0065l":"x"}"#,
            r#"{"messages":[}"#,
            r#"{"messages":[{"a":1]}"#,
            r#"{"model" "x"}"#,
            r#"{"model":}"#,
            r#"{"model":"unterminated}"#,
        ] {
            assert!(fields(body).is_none(), "{body}");
        }
    }

    mod agrees_with_serde {
        use proptest::prelude::*;
        use serde_json::{Map, Value};

        /// Any JSON value, strings with quotes, backslashes, control characters and non-ASCII.
        fn value() -> impl Strategy<Value = Value> {
            let text = "[a-z\"\\\\ \n\t/é☕{}\\[\\]:,]{0,12}";
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(Value::from),
                text.prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 6, move |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    proptest::collection::vec((text, inner), 0..6)
                        .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
                ]
            })
        }

        proptest! {
            #[test]
            fn on_any_object_compact_or_pretty(
                fields in proptest::collection::vec(("(model|stream|messages|[a-z]{1,6})", value()), 0..8),
                pretty in any::<bool>(),
            ) {
                let object: Map<String, Value> = fields.into_iter().collect();
                let body = if pretty {
                    serde_json::to_string_pretty(&object).unwrap()
                } else {
                    serde_json::to_string(&object).unwrap()
                };
                let found = super::top_level_fields(body.as_bytes(), ["model", "stream", "messages"])
                    .expect("a valid object without escaped or duplicate keys");
                let raw: std::collections::HashMap<&str, &serde_json::value::RawValue> =
                    serde_json::from_str(&body).unwrap();
                let others: Vec<&str> = found.others.iter().map(|r| &body[r.clone()]).collect();
                let expected_others: Vec<&str> = object
                    .keys()
                    .filter(|k| !["model", "stream", "messages"].contains(&k.as_str()))
                    .map(|k| raw[k.as_str()].get())
                    .collect();
                prop_assert_eq!(others, expected_others);
                let keys: Vec<&str> = found.other_keys.iter().map(|r| &body[r.clone()]).collect();
                let expected_keys: Vec<&str> = object
                    .keys()
                    .map(String::as_str)
                    .filter(|k| !["model", "stream", "messages"].contains(k))
                    .collect();
                prop_assert_eq!(keys, expected_keys);
                for (key, range) in ["model", "stream", "messages"].iter().zip(found.found) {
                    prop_assert_eq!(range.map(|r| &body[r]), raw.get(key).map(|v| v.get()));
                }
            }
        }
    }
}
