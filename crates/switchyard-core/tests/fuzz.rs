//! Fuzzing by property, on the stable toolchain: proptest drives every parser that reads bytes
//! from outside (upstream streams, client request bodies, the config file) with random bytes
//! and with structure-aware inputs (valid streams, requests and configs, mutated and cut at
//! random points). A failure prints the shrunk input: it is a real bug.
//!
//! Each target runs `SWITCHYARD_FUZZ_CASES` inputs (default 2,000, so `cargo test` stays
//! fast); `make fuzz` (scripts/fuzz.sh) runs 1,000,000 per target in release mode and prints
//! each target's count and time (`-- --nocapture`).
//!
//! The properties:
//! - nothing panics;
//! - the SSE decoder and the NDJSON splitter give the same events (lines) and the same error
//!   whatever the chunking, give nothing after an error, never hold more than their limit,
//!   and decode a valid stream to exactly what was encoded;
//! - the request head scan agrees with serde: the checked head, the typed request, and the
//!   pass-through's model splice;
//! - both stream translators produce a well-formed Anthropic event sequence (see
//!   `translation_support::check_invariants`) that does not depend on the chunking;
//! - a config that loads serializes back to text that loads to the same config, and every
//!   error names a line of the file.

#![cfg(test)]

#[expect(
    dead_code,
    reason = "the fixture loading and snapshot helpers serve the translation tests"
)]
mod translation_support;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::LazyLock;
use std::time::Instant;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use switchyard_core::anthropic::{MessagesRequest, StreamEvent};
use switchyard_core::backends::events::into_response;
use switchyard_core::backends::ollama::OllamaExchange;
use switchyard_core::backends::openai_chat::OpenAiExchange;
use switchyard_core::backends::{StreamTranslator, TargetContext};
use switchyard_core::config::{BackendConfig, ConfigError};
use switchyard_core::sse::{MAX_EVENT_BYTES, NdjsonDecoder, SseDecoder, SseError, SseEvent};
use translation_support::{check_invariants, normalize_events};

// ---- the runner ----

/// Inputs per target: `SWITCHYARD_FUZZ_CASES` (underscores allowed: `1_000_000`).
fn cases() -> u32 {
    std::env::var("SWITCHYARD_FUZZ_CASES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(2000)
}

/// Run `test` on `cases` inputs drawn from `strategy`; print how many, how long and what
/// became of them (each test names its input's outcome: the `make fuzz` summary shows that
/// the inputs reach past the first check); fail with the shrunk input.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<&'static str, TestCaseError>,
) where
    S::Value: Debug,
{
    let mut runner = TestRunner::new(Config {
        cases,
        // A failure is reported with its shrunk input; no file is written next to the source.
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    });
    let outcomes = RefCell::new(BTreeMap::<&'static str, u64>::new());
    let start = Instant::now();
    let result = runner.run(&strategy, |value| {
        let outcome = test(value);
        *outcomes
            .borrow_mut()
            .entry(outcome.as_ref().map_or("failed", |o| *o))
            .or_default() += 1;
        outcome.map(|_| ())
    });
    let secs = start.elapsed().as_secs_f64();
    let outcomes = outcomes.into_inner();
    let count: u64 = outcomes.values().sum();
    let detail: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
    println!(
        "fuzz target {name}: {count} inputs in {secs:.1} s ({:.0}/s){} [{}]",
        count as f64 / secs.max(1e-9),
        if result.is_ok() { "" } else { ", FAILED" },
        detail.join(", ")
    );
    if let Err(err) = result {
        panic!("fuzz target {name}: {err}");
    }
}

// ---- shared input shapes: mutations and chunkings ----

/// Byte strings that mean something to one of the parsers.
const DICTIONARY: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\r",
    b"\n\n",
    b"\r\n\r\n",
    b"data: ",
    b"data:",
    b"event: ",
    b": ",
    b":",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b"\\u00",
    b",",
    b"[DONE]",
    b"null",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\xef\xbb\xbf",
    b"\0",
    b"<think>",
    b"</think>",
    b"<tool_call>",
    b"</tool_call>",
    b"\"model\":",
    b"\"done\":true",
    b"swy1.",
    b"=",
    b"[[",
    b"]]",
    b"#",
    b"'''",
];

fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => select(DICTIONARY).prop_map(<[u8]>::to_vec),
        1 => proptest::collection::vec(any::<u8>(), 1..8),
    ]
}

/// A change to an input's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Replace(Index, u8),
    /// Copy `len` bytes from the first position to the second.
    Duplicate(Index, Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 1..24usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        3 => (any::<Index>(), fragment()).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, b)| Mutation::Replace(at, b)),
        1 => (any::<Index>(), any::<Index>(), 1..64usize)
            .prop_map(|(from, to, n)| Mutation::Duplicate(from, to, n)),
    ]
}

/// No mutation half of the time (the valid input itself), else one to four.
fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![
        Just(Vec::new()),
        proptest::collection::vec(mutation(), 1..5),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutations: &[Mutation]) {
    for m in mutations {
        let len = bytes.len();
        match m {
            Mutation::Truncate(at) => bytes.truncate(at.index(len + 1)),
            Mutation::Delete(at, n) => {
                let start = at.index(len + 1);
                bytes.drain(start..(start + n).min(len));
            }
            Mutation::Insert(at, fragment) => {
                let at = at.index(len + 1);
                bytes.splice(at..at, fragment.iter().copied());
            }
            Mutation::Replace(at, b) if len > 0 => bytes[at.index(len)] = *b,
            Mutation::Duplicate(from, to, n) if len > 0 => {
                let from = from.index(len);
                let copy = bytes[from..(from + n).min(len)].to_vec();
                let to = to.index(len + 1);
                bytes.splice(to..to, copy);
            }
            Mutation::Replace(..) | Mutation::Duplicate(..) => {}
        }
    }
}

/// Where to cut an input into chunks: up to 16 cuts, or (1 in 8) every byte.
#[derive(Debug, Clone)]
enum Chunking {
    Cuts(Vec<Index>),
    EveryByte,
}

fn chunking() -> impl Strategy<Value = Chunking> {
    prop_oneof![
        7 => proptest::collection::vec(any::<Index>(), 0..16).prop_map(Chunking::Cuts),
        1 => Just(Chunking::EveryByte),
    ]
}

/// The chunks, in order (empty ones included: a zero-length read is a valid edge).
fn split<'a>(bytes: &'a [u8], chunking: &Chunking) -> Vec<&'a [u8]> {
    match chunking {
        Chunking::EveryByte => bytes.chunks(1).collect(),
        Chunking::Cuts(cuts) => {
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            let mut out = Vec::with_capacity(at.len() + 1);
            let mut last = 0;
            for cut in at {
                out.push(&bytes[last..cut]);
                last = cut;
            }
            out.push(&bytes[last..]);
            out
        }
    }
}

/// Random input in a stream's alphabet (so that lines and fields form), valid UTF-8 half the
/// time; the other half has a few bytes of any value.
fn stream_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    const ALPHABET: &[&[u8]] = &[
        b"d",
        b"a",
        b"t",
        b"e",
        b"v",
        b"n",
        b":",
        b" ",
        b"\r",
        b"\n",
        b"\n",
        b"\n",
        b"{",
        b"}",
        b"\"",
        b"x",
        b"[DONE]",
        b"data: ",
        "é".as_bytes(),
        "☕".as_bytes(),
        "\u{feff}".as_bytes(),
    ];
    let text = select(ALPHABET).prop_map(<[u8]>::to_vec);
    prop_oneof![
        proptest::collection::vec(text.clone(), 0..max),
        proptest::collection::vec(
            prop_oneof![30 => text, 1 => any::<u8>().prop_map(|b| vec![b])],
            0..max
        ),
    ]
    .prop_map(|tokens| tokens.concat())
}

// ---- SSE decoder ----

/// How a decoder input fared: valid as generated or not, and the error that stopped it.
fn decode_outcome(valid: bool, error: Option<DecodeError>) -> &'static str {
    match (valid, error) {
        (true, None) => "valid, decoded as written",
        (true, Some(DecodeError::TooLarge)) => "valid, over the limit",
        (true, Some(DecodeError::Utf8)) => "valid, not UTF-8 (a bug)",
        (false, None) => "mutated or random, decoded",
        (false, Some(DecodeError::TooLarge)) => "mutated or random, over the limit",
        (false, Some(DecodeError::Utf8)) => "mutated or random, not UTF-8",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecodeError {
    Utf8,
    TooLarge,
}

fn kind(err: &SseError) -> DecodeError {
    match err {
        SseError::Utf8(_) => DecodeError::Utf8,
        SseError::TooLarge(_) => DecodeError::TooLarge,
    }
}

/// What a decoder made of a whole input: its items, and the error that stopped it.
#[derive(Debug, PartialEq)]
struct Decoded<T> {
    items: Vec<T>,
    error: Option<DecodeError>,
}

impl<T: std::fmt::Debug> Decoded<T> {
    fn new() -> Self {
        Decoded {
            items: Vec::new(),
            error: None,
        }
    }

    /// One step's output: nothing may follow an error, and there is at most one error.
    fn take(&mut self, result: Result<Vec<T>, SseError>) -> Result<(), TestCaseError> {
        match result {
            Ok(items) => {
                prop_assert!(
                    self.error.is_none() || items.is_empty(),
                    "output after an error: {items:?}"
                );
                self.items.extend(items);
            }
            Err(err) => {
                prop_assert!(self.error.is_none(), "a second error: {err}");
                self.error = Some(kind(&err));
            }
        }
        Ok(())
    }
}

/// Feed `chunks` to a fresh SSE decoder, then finish, checking what must hold at every step.
fn sse_decode(chunks: &[&[u8]], limit: usize) -> Result<Decoded<SseEvent>, TestCaseError> {
    let mut decoder = SseDecoder::with_limit(limit);
    let mut out = Decoded::new();
    for chunk in chunks {
        out.take(decoder.feed(chunk))?;
        prop_assert!(
            decoder.buffered() <= limit,
            "holds {} bytes, limit {limit}",
            decoder.buffered()
        );
    }
    out.take(decoder.finish())?;
    for event in &out.items {
        prop_assert!(
            event.event.len() + event.data.len() <= limit,
            "an event of {} + {} bytes passed the limit {limit}",
            event.event.len(),
            event.data.len()
        );
    }
    Ok(out)
}

/// One line of an SSE stream, as the generator writes it.
#[derive(Debug, Clone)]
enum SseLine {
    /// `name: value` (or `name:value` when `space` is false).
    Field {
        name: String,
        value: String,
        space: bool,
    },
    /// A field name alone, without a colon: a field with an empty value.
    Bare(String),
    Comment(String),
}

/// A valid event stream: blocks of lines, each ended by a blank line (the last one maybe not),
/// each line by `\n`, `\r\n` or `\r`, maybe a byte order mark first.
#[derive(Debug, Clone)]
struct SseStream {
    bom: bool,
    blocks: Vec<Vec<(SseLine, usize)>>,
    blank_ends: Vec<usize>,
    final_blank: bool,
}

fn sse_line() -> impl Strategy<Value = SseLine> {
    let name = prop_oneof![
        4 => Just("data".to_owned()),
        2 => Just("event".to_owned()),
        1 => Just("id".to_owned()),
        1 => Just("retry".to_owned()),
        1 => "[a-z]{1,5}",
    ];
    // No line end inside a value; everything else goes, leading spaces and colons included.
    let value = "[ -~é☕\u{1F600}\t]{0,24}";
    prop_oneof![
        8 => (name.clone(), value, any::<bool>())
            .prop_map(|(name, value, space)| SseLine::Field { name, value, space }),
        1 => name.prop_map(SseLine::Bare),
        1 => "[ -~é]{0,16}".prop_map(SseLine::Comment),
    ]
}

fn sse_stream() -> impl Strategy<Value = SseStream> {
    (
        any::<bool>(),
        proptest::collection::vec(
            proptest::collection::vec((sse_line(), 0..3usize), 0..5),
            0..8,
        ),
        proptest::collection::vec(0..3usize, 8),
        any::<bool>(),
    )
        .prop_map(|(bom, blocks, blank_ends, final_blank)| SseStream {
            bom,
            blocks,
            blank_ends,
            final_blank,
        })
}

const LINE_ENDS: [&str; 3] = ["\n", "\r\n", "\r"];

impl SseStream {
    /// The bytes, and the events a conforming decoder must give for them.
    fn render(&self) -> (Vec<u8>, Vec<SseEvent>) {
        let mut text = String::new();
        if self.bom {
            text.push('\u{feff}');
        }
        let mut events = Vec::new();
        let mut last_end = "\n";
        for (i, block) in self.blocks.iter().enumerate() {
            let mut name = String::new();
            let mut data: Option<Vec<&str>> = None;
            for (line, end) in block {
                let (field, value) = match line {
                    SseLine::Field { name, value, space } => {
                        text.push_str(name);
                        text.push(':');
                        if *space {
                            text.push(' ');
                        }
                        text.push_str(value);
                        // The decoder drops one leading space, whether we wrote it or not.
                        let written = if *space {
                            value.as_str()
                        } else {
                            value.strip_prefix(' ').unwrap_or(value)
                        };
                        (name.as_str(), written)
                    }
                    SseLine::Bare(name) => {
                        text.push_str(name);
                        (name.as_str(), "")
                    }
                    SseLine::Comment(comment) => {
                        text.push(':');
                        text.push_str(comment);
                        ("", "")
                    }
                };
                match field {
                    // Data lines `a` then `b` make `a\nb`.
                    "data" => data.get_or_insert_with(Vec::new).push(value),
                    "event" => value.clone_into(&mut name),
                    _ => {}
                }
                last_end = LINE_ENDS[*end];
                text.push_str(last_end);
            }
            let last = i + 1 == self.blocks.len();
            if !last || self.final_blank {
                // After a lone `\r`, a blank line written as `\n` would merge with it into one
                // `\r\n` line end: write the blank line as `\r` instead.
                let mut blank = LINE_ENDS[self.blank_ends[i % self.blank_ends.len()]];
                if last_end == "\r" && blank == "\n" {
                    blank = "\r";
                }
                text.push_str(blank);
            }
            if let Some(data) = data {
                events.push(SseEvent {
                    event: name,
                    data: data.join("\n"),
                });
            }
        }
        (text.into_bytes(), events)
    }
}

#[derive(Debug, Clone)]
enum SseInput {
    Random(Vec<u8>),
    Structured(SseStream, Vec<Mutation>),
}

fn sse_limit() -> impl Strategy<Value = usize> {
    prop_oneof![
        2 => Just(MAX_EVENT_BYTES),
        1 => 1..400usize,
    ]
}

#[test]
fn fuzz_sse_decoder() {
    let input = prop_oneof![
        1 => stream_bytes(600).prop_map(SseInput::Random),
        2 => (sse_stream(), mutations()).prop_map(|(s, m)| SseInput::Structured(s, m)),
    ];
    fuzz(
        "sse_decoder",
        cases(),
        (input, sse_limit(), chunking()),
        |(input, limit, chunking)| {
            let (bytes, expected) = match &input {
                SseInput::Random(bytes) => (bytes.clone(), None),
                SseInput::Structured(stream, mutations) => {
                    let (mut bytes, events) = stream.render();
                    mutate(&mut bytes, mutations);
                    (bytes, mutations.is_empty().then_some(events))
                }
            };
            // Byte by byte is the reference: every event is returned before any error.
            let reference = sse_decode(&split(&bytes, &Chunking::EveryByte), limit)?;
            let chunked = sse_decode(&split(&bytes, &chunking), limit)?;
            let whole = sse_decode(&[&bytes], limit)?;
            prop_assert_eq!(&chunked, &reference, "chunked differs from byte by byte");
            prop_assert_eq!(&whole, &reference, "one chunk differs from byte by byte");
            // Nothing the input holds can be over a limit of the input's size.
            if limit >= bytes.len() {
                prop_assert_ne!(reference.error, Some(DecodeError::TooLarge));
            }
            if let Some(expected) = &expected {
                prop_assert_ne!(reference.error, Some(DecodeError::Utf8));
                if reference.error.is_none() {
                    prop_assert_eq!(&reference.items, expected);
                } else {
                    prop_assert!(
                        expected.starts_with(&reference.items),
                        "not a prefix of {expected:?}"
                    );
                }
            }
            Ok(decode_outcome(expected.is_some(), reference.error))
        },
    );
}

// ---- NDJSON splitter ----

fn ndjson_decode(chunks: &[&[u8]], limit: usize) -> Result<Decoded<Vec<u8>>, TestCaseError> {
    let mut decoder = NdjsonDecoder::with_limit(limit);
    let mut out = Decoded::new();
    for chunk in chunks {
        out.take(decoder.feed(chunk))?;
        prop_assert!(
            decoder.buffered() <= limit,
            "holds {} bytes, limit {limit}",
            decoder.buffered()
        );
    }
    out.take(decoder.finish())?;
    for line in &out.items {
        prop_assert!(
            line.len() <= limit,
            "a line of {} bytes passed the limit {limit}",
            line.len()
        );
        prop_assert!(!line.contains(&b'\n'));
        prop_assert!(!line.iter().all(u8::is_ascii_whitespace), "a blank line");
    }
    Ok(out)
}

/// Lines (any bytes but `\n`), each ended by `\n` or `\r\n`, the last one maybe not ended.
#[derive(Debug, Clone)]
enum NdjsonInput {
    Random(Vec<u8>),
    Structured(Vec<(String, bool)>, bool, Vec<Mutation>),
}

#[test]
fn fuzz_ndjson_splitter() {
    let line = prop_oneof![
        4 => "[ -~é\t\r]{0,40}",
        1 => "[ \t\r]{0,3}",
        1 => Just("{\"message\":{\"content\":\"h\u{e9}\"},\"done\":false}".to_owned()),
    ];
    let input = prop_oneof![
        1 => stream_bytes(600).prop_map(NdjsonInput::Random),
        2 => (
            proptest::collection::vec((line, any::<bool>()), 0..12),
            any::<bool>(),
            mutations()
        )
            .prop_map(|(lines, end, m)| NdjsonInput::Structured(lines, end, m)),
    ];
    fuzz(
        "ndjson_splitter",
        cases(),
        (input, sse_limit(), chunking()),
        |(input, limit, chunking)| {
            let (bytes, expected) = match &input {
                NdjsonInput::Random(bytes) => (bytes.clone(), None),
                NdjsonInput::Structured(lines, end_last, mutations) => {
                    let mut bytes = Vec::new();
                    let mut expected = Vec::new();
                    for (i, (line, crlf)) in lines.iter().enumerate() {
                        let mut written = line.clone().into_bytes();
                        if *crlf {
                            written.push(b'\r');
                        }
                        bytes.extend_from_slice(&written);
                        if i + 1 < lines.len() || *end_last {
                            bytes.push(b'\n');
                        }
                        let line = written.strip_suffix(b"\r").unwrap_or(&written);
                        if !line.iter().all(u8::is_ascii_whitespace) {
                            expected.push(line.to_vec());
                        }
                    }
                    mutate(&mut bytes, mutations);
                    (bytes, mutations.is_empty().then_some(expected))
                }
            };
            let reference = ndjson_decode(&split(&bytes, &Chunking::EveryByte), limit)?;
            let chunked = ndjson_decode(&split(&bytes, &chunking), limit)?;
            let whole = ndjson_decode(&[&bytes], limit)?;
            prop_assert_eq!(&chunked, &reference, "chunked differs from byte by byte");
            prop_assert_eq!(&whole, &reference, "one chunk differs from byte by byte");
            if limit >= bytes.len() {
                prop_assert!(reference.error.is_none());
            }
            if let Some(expected) = &expected {
                if reference.error.is_none() {
                    prop_assert_eq!(&reference.items, expected);
                } else {
                    prop_assert!(expected.starts_with(&reference.items));
                }
            }
            Ok(decode_outcome(expected.is_some(), reference.error))
        },
    );
}

/// Lines and events right at the real 16 MiB limit (exactly at it, one byte over, and a few
/// bytes either side), SSE and NDJSON, in chunks of random sizes: few cases (each moves
/// ~100 MiB), one per 50,000 of the other targets, at least two.
#[test]
fn fuzz_lines_near_the_16_mib_limit() {
    let strategy = (
        -3i64..=3,
        proptest::collection::vec(1usize..(2 << 20), 1..24),
    );
    fuzz(
        "near_16_mib_limit",
        (cases() / 50_000).max(2),
        strategy,
        |(delta, sizes)| {
            for delta in [0, 1, delta] {
                // A line of n bytes: `data:xxx…` for SSE, `yyy…` for NDJSON.
                let n = usize::try_from(MAX_EVENT_BYTES as i64 + delta).unwrap_or(0);
                let fits = n <= MAX_EVENT_BYTES;
                for sse in [true, false] {
                    let mut bytes = Vec::with_capacity(n + 16);
                    if sse {
                        bytes.extend_from_slice(b"data:");
                        bytes.resize(n, b'x');
                        bytes.extend_from_slice(b"\n\n");
                    } else {
                        bytes.resize(n, b'y');
                        bytes.push(b'\n');
                    }
                    let mut chunks = Vec::new();
                    let mut at = 0;
                    for size in sizes.iter().cycle() {
                        if at >= bytes.len() {
                            break;
                        }
                        let end = (at + size).min(bytes.len());
                        chunks.push(&bytes[at..end]);
                        at = end;
                    }
                    let (error, items) = if sse {
                        let decoded = sse_decode(&chunks, MAX_EVENT_BYTES)?;
                        (decoded.error, decoded.items.len())
                    } else {
                        let decoded = ndjson_decode(&chunks, MAX_EVENT_BYTES)?;
                        (decoded.error, decoded.items.len())
                    };
                    prop_assert_eq!(error.is_none(), fits, "a line of {} bytes, sse {}", n, sse);
                    prop_assert_eq!(items, usize::from(fits));
                }
            }
            Ok("a line at, over and near the limit, SSE and NDJSON")
        },
    );
}

// ---- request head scan ----

/// What every path reads from a request (the gateway's own `Head`, written again here so
/// that serde is the judge).
#[derive(serde::Deserialize)]
struct SerdeHead<'a> {
    #[serde(borrow)]
    model: Option<&'a serde_json::value::RawValue>,
    max_tokens: Option<u32>,
    stream: Option<bool>,
    #[serde(borrow)]
    messages: Option<&'a serde_json::value::RawValue>,
}

/// `InboundRequest::parse`'s checks, on serde's reading of the body: the model, its span,
/// and `stream`, or an error.
fn serde_checked_head(text: &str) -> Option<(String, std::ops::Range<usize>, bool)> {
    let head: SerdeHead<'_> = serde_json::from_str(text).ok()?;
    head.max_tokens?;
    let messages = head.messages?.get();
    let inner = messages.trim_ascii().strip_prefix('[')?;
    if inner.trim_ascii_start().starts_with(']') {
        return None;
    }
    let raw = head.model?.get();
    let model: String = serde_json::from_str(raw).ok()?;
    if model.trim().is_empty() {
        return None;
    }
    let start = raw.as_ptr() as usize - text.as_ptr() as usize;
    Some((
        model,
        start..start + raw.len(),
        head.stream.unwrap_or(false),
    ))
}

/// A JSON value written as text: the shapes a Messages request holds, and anything else.
fn json_text() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        select(
            &[
                "null",
                "true",
                "false",
                "0",
                "-1",
                "1.5",
                "1e3",
                "4294967296",
                "-0",
                "\"\"",
                "\"x\"",
                "\"caf\\u00e9 \\\"q\\\" \\\\\"",
                "\"\\ud83d\\ude00\"",
                "\"}]\"",
                "\"\\\\\"",
                "\"claude-sonnet-4-5\"",
                "\"swy1.aGk\"",
            ][..]
        )
        .prop_map(str::to_owned),
        // Any text, escaped as JSON (quotes and backslashes included); no filter, which would
        // reject too many inputs over a million cases.
        "[ -~é☕]{0,12}".prop_map(|text| Value::String(text).to_string()),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        let key = prop_oneof![
            select(
                &[
                    "type",
                    "text",
                    "role",
                    "content",
                    "model",
                    "name",
                    "signature",
                    "thinking",
                    "input_schema"
                ][..]
            )
            .prop_map(str::to_owned),
            "[a-z]{1,6}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec((key, inner), 0..5).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
    .boxed()
}

/// Values a real request carries in its top-level fields (mostly), wrong ones, anything.
fn field_value(key: &str) -> BoxedStrategy<String> {
    let (good, bad): (&[&str], &[&str]) = match key {
        "model" => (
            &[
                "\"claude-sonnet-4-5\"",
                "\"caf\\u00e9\"",
                "\"a\\\"b\"",
                "\"m\\\\\"",
            ],
            &["\"\"", "\" \"", "7", "null"],
        ),
        "max_tokens" => (
            &["1", "4096", "0", "4294967295"],
            &["-1", "4294967296", "1.5", "\"5\"", "null", "1e3"],
        ),
        "stream" => (&["true", "false", "null"], &["\"true\"", "0"]),
        "messages" => (
            &[
                "[{\"role\":\"user\",\"content\":\"hi\"}]",
                "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}]",
                "[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\",\"signature\":\"swy1.dA\"},{\"type\":\"text\",\"text\":\"a\"}]},{\"role\":\"user\",\"content\":\"more\"}]",
                "[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"t\",\"signature\":\"EqQBCkYIBxgCKkA\"},{\"type\":\"redacted_thinking\",\"data\":\"abc\"}]},{\"role\":\"user\",\"content\":\"more\"}]",
                "[{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Bash\",\"input\":{\"command\":\"ls\"}}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"ok\"}]}]",
            ],
            &["[]", "[ ]", "{}", "[{\"role\":\"user\",\"content\":5}]"],
        ),
        "tools" => (
            &[
                "[{\"name\":\"Bash\",\"description\":\"Run a shell command\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}}}}]",
                "[{\"name\":\"Read\",\"input_schema\":{\"type\":\"object\"}}]",
                "[]",
                "null",
            ],
            &["[{\"name\":\"t\"}]", "{}"],
        ),
        "system" => (
            &[
                "\"You are a helpful assistant.\"",
                "[{\"type\":\"text\",\"text\":\"You are Claude Code, a shared system prompt long enough\"}]",
                "[{\"type\":\"text\",\"text\":\"x-anthropic-billing-header: cc_version=1\"},{\"type\":\"text\",\"text\":\"sys\"}]",
                "null",
            ],
            &["5", "[{\"type\":\"image\"}]"],
        ),
        "thinking" => (
            &[
                "{\"type\":\"enabled\",\"budget_tokens\":1024}",
                "{\"type\":\"disabled\"}",
                "{\"type\":\"adaptive\"}",
            ],
            &["{\"type\":\"enabled\"}"],
        ),
        "tool_choice" => (
            &[
                "{\"type\":\"auto\"}",
                "{\"type\":\"tool\",\"name\":\"Bash\"}",
                "{\"type\":\"none\"}",
            ],
            &["{\"type\":\"tool\"}"],
        ),
        "stop_sequences" => (&["[\"\\n\\nHuman:\"]", "[]"], &["\"x\""]),
        "temperature" | "top_p" => (&["0.5", "1"], &["\"hot\""]),
        "top_k" => (&["40"], &["-1"]),
        "metadata" => (&["{\"user_id\":\"u\"}"], &["[]"]),
        _ => (&[], &[]),
    };
    if good.is_empty() {
        json_text()
    } else {
        prop_oneof![
            12 => select(good).prop_map(str::to_owned),
            2 => select(bad).prop_map(str::to_owned),
            1 => json_text(),
        ]
        .boxed()
    }
}

const REQUEST_KEYS: &[&str] = &[
    "model",
    "max_tokens",
    "stream",
    "messages",
    "system",
    "tools",
    "thinking",
    "tool_choice",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "metadata",
    "context_management",
];

/// A top-level field: its key as written (sometimes escaped), its value, spacing.
fn request_field() -> impl Strategy<Value = String> {
    (
        select(REQUEST_KEYS),
        0..12usize,
        select(&["", " ", "\n  ", "\t", "\r\n"][..]),
    )
        .prop_flat_map(|(key, escape, ws)| {
            let written = match escape {
                // `mod\u0065l`: the same key to serde, not to a byte scan.
                0 => key.replacen('e', "\\u0065", 1),
                _ => key.to_owned(),
            };
            field_value(key).prop_map(move |value| format!("{ws}\"{written}\"{ws}:{ws}{value}"))
        })
}

/// A request body: the usual fields in some order (maybe repeated), compact or spaced.
fn request_body() -> impl Strategy<Value = Vec<u8>> {
    let required = (
        field_value("model"),
        field_value("max_tokens"),
        field_value("messages"),
    );
    (
        required,
        proptest::collection::vec(request_field(), 0..6),
        any::<Index>(),
        select(&["", " ", "\n"][..]),
    )
        .prop_map(|((model, max_tokens, messages), extra, at, ws)| {
            let mut fields = vec![
                format!("\"model\":{model}"),
                format!("\"max_tokens\":{max_tokens}"),
                format!("\"messages\":{messages}"),
            ];
            // Extras go anywhere; a repeated key is a duplicate field.
            let at = at.index(fields.len() + 1);
            fields.splice(at..at, extra);
            format!("{ws}{{{}}}{ws}", fields.join(",")).into_bytes()
        })
}

#[test]
fn fuzz_request_head_scan() {
    let input = prop_oneof![
        1 => stream_bytes(300),
        6 => (request_body(), mutations()).prop_map(|(mut body, m)| {
            mutate(&mut body, &m);
            body
        }),
    ];
    fuzz("request_head_scan", cases(), input, |body| {
        let text = std::str::from_utf8(&body).ok();
        let parsed = switchyard_core::proxy::InboundRequest::parse(Bytes::from(body.clone()));
        let serde_full = serde_json::from_slice::<MessagesRequest>(&body).ok();
        // On a valid JSON body, the scan (or its fallback) reads exactly what serde reads.
        // (As a `Value`: skipping a value, serde checks less, e.g. not lone surrogates.)
        let valid_json = serde_json::from_slice::<Value>(&body).is_ok();
        if let (Some(text), true) = (text, valid_json) {
            let expected = serde_checked_head(text);
            let got = parsed
                .as_ref()
                .ok()
                .map(|req| (req.model.clone(), req.model_at.clone(), req.stream));
            prop_assert_eq!(got, expected, "the checked head differs from serde's");
        }
        // (Found by this target: a raw control character in a key the scan skipped passed
        // the field-by-field typed parse where serde refuses the body; the scan now leaves
        // such keys to serde.)
        let same_as_serde = |typed: Option<&MessagesRequest>, what: &str| {
            prop_assert_eq!(typed, serde_full.as_ref(), "{} differs from serde", what);
            Ok(())
        };
        if text.is_some() {
            // The whole request, field by field from the scan or by serde: serde's.
            let whole = switchyard_core::proxy::parse_request(&body);
            same_as_serde(whole.as_ref().ok(), "parse_request")?;
        }
        if let Ok(req) = &parsed {
            // Whatever the body, a request that passed is one serde reads the same way.
            same_as_serde(req.full().ok(), "full()")?;
            let at = req.model_at.clone();
            prop_assert!(at.end <= body.len());
            prop_assert_eq!(
                serde_json::from_slice::<String>(&body[at.clone()]).ok(),
                Some(req.model.clone())
            );
            // The pass-through's splice changes the model's bytes and nothing else (or also
            // strips minted thinking blocks, which needs a parse of `messages`).
            use switchyard_core::backends::anthropic::{model_range, prepare_body};
            if let Ok(spliced) = prepare_body(&body, at.clone(), "up\"stream") {
                let mut expected = body[..at.start].to_vec();
                expected.extend_from_slice(b"\"up\\\"stream\"");
                expected.extend_from_slice(&body[at.end..]);
                if memchr::memmem::find(&body, b"swy1.").is_none() {
                    prop_assert_eq!(&spliced[..], &expected[..]);
                }
                if valid_json {
                    let value: Value = serde_json::from_slice(&spliced)
                        .map_err(|e| TestCaseError::fail(format!("spliced body: {e}")))?;
                    prop_assert_eq!(&value["model"], &json!("up\"stream"));
                }
            }
            if valid_json {
                // The pass-through's own way of finding `model` agrees.
                prop_assert_eq!(model_range(&body).ok(), Some(at));
            }
        }
        let _ = switchyard_core::backends::anthropic::strip_foreign_thinking(&body);
        Ok(match (valid_json, &parsed, &serde_full) {
            (true, Ok(_), Some(_)) => "JSON, head accepted, typed",
            (true, Ok(_), None) => "JSON, head accepted, typed parse refused",
            (true, Err(_), _) => "JSON, head refused",
            (false, Ok(_), _) => "not JSON, head accepted (full parse refused)",
            (false, Err(_), _) => "not JSON, head refused",
        })
    });
}

// ---- stream translators ----

fn request(value: Value) -> MessagesRequest {
    serde_json::from_value(value).unwrap_or_else(|err| panic!("a test request: {err}"))
}

/// A long MCP tool name: the OpenAI translator shortens it, and must give it back.
const LONG_TOOL: &str = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_x";

/// The requests the translators are prepared for: tools (one with a long name) and a stop
/// sequence; no tools and thinking on.
fn translator_requests() -> Vec<MessagesRequest> {
    let schema = json!({"type": "object", "properties": {"command": {"type": "string"}}});
    vec![
        request(json!({
            "model": "claude-sonnet-4-6", "max_tokens": 1000, "stream": true,
            "stop_sequences": ["STOP", "\n\nHuman:"],
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"name": "Bash", "input_schema": schema},
                {"name": "Read", "input_schema": {"type": "object"}},
                {"name": LONG_TOOL, "input_schema": {"type": "object"}},
            ]
        })),
        request(json!({
            "model": "claude-opus-4-1", "max_tokens": 2000, "stream": true,
            "thinking": {"type": "enabled", "budget_tokens": 1024},
            "messages": [{"role": "user", "content": "think"}]
        })),
    ]
}

fn backend(value: Value) -> BackendConfig {
    serde_json::from_value(value).unwrap_or_else(|err| panic!("a test backend: {err}"))
}

static OPENAI_EXCHANGES: LazyLock<Vec<OpenAiExchange>> = LazyLock::new(|| {
    let plain = backend(
        json!({"id": "vllm", "kind": "openai_chat", "base_url": "http://127.0.0.1:8000/v1"}),
    );
    let recovering = backend(
        json!({"id": "vllm", "kind": "openai_chat", "base_url": "http://127.0.0.1:8000/v1", "recover_text_tool_calls": true}),
    );
    let mut out = Vec::new();
    for req in translator_requests() {
        for backend in [&plain, &recovering] {
            let ctx = TargetContext {
                backend,
                upstream_model: "qwen3-coder",
                requested_model: &req.model,
                context_length: Some(32_768),
            };
            match OpenAiExchange::prepare(&req, &ctx) {
                Ok((_, exchange)) => out.push(exchange),
                Err(err) => panic!("prepare: {}", err.message),
            }
        }
    }
    out
});

static OLLAMA_EXCHANGES: LazyLock<Vec<OllamaExchange>> = LazyLock::new(|| {
    let ollama =
        backend(json!({"id": "ollama", "kind": "ollama", "base_url": "http://127.0.0.1:11434"}));
    translator_requests()
        .iter()
        .map(|req| {
            let ctx = TargetContext {
                backend: &ollama,
                upstream_model: "qwen3-coder:30b",
                requested_model: &req.model,
                context_length: Some(32_768),
            };
            match OllamaExchange::prepare(req, &ctx) {
                Ok((_, exchange)) => exchange,
                Err(err) => panic!("prepare: {}", err.message),
            }
        })
        .collect()
});

/// Every fixture upstream stream of one kind (`upstream.sse` or `upstream.ndjson`).
fn fixture_streams(kind: &str, file: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            if let Ok(bytes) = std::fs::read(entry.path().join(file)) {
                out.push(bytes);
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no {file} fixtures in {}", dir.display());
    out
}

static OPENAI_FIXTURES: LazyLock<Vec<Vec<u8>>> =
    LazyLock::new(|| fixture_streams("openai_chat", "upstream.sse"));
static OLLAMA_FIXTURES: LazyLock<Vec<Vec<u8>>> =
    LazyLock::new(|| fixture_streams("ollama", "upstream.ndjson"));

/// Texts a model writes, including the markup the translators look for, cut anywhere.
fn model_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z .é☕\u{1F600}\n]{0,12}",
        1 => select(&[
            "", " ", "\n", "\n\n", "  \t", "STOP", "\n\nHuman:",
            "<think>", "</think>", "<thi", "nk>", "</th", "<think>reasoning</think>",
            "<tool_call>", "</tool_call>", "<tool_", "call>",
            "<tool_call>{\"name\": \"Bash\", \"arguments\": {\"command\": \"ls\"}}</tool_call>",
            "<tool_call>{\"name\": \"Nope\", \"arguments\": 5}</tool_call>",
            "<tool_call><function=Bash><parameter=command>ls</parameter></function></tool_call>",
            "<function=Read>", "<parameter=file_path>a.rs</parameter>", "{\"name\": \"Read\"",
        ][..])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// Tool-call arguments as servers send them: JSON objects cut anywhere, other JSON, not JSON.
fn arguments() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => select(&[
            "{\"command\": \"ls\"}", "{\"command\":", " \"echo é\"}", "{", "}", "", "{}",
            "not json", "[1,2]", "\"str\"", "null", "{\"a\":{\"b\":[1,{\"c\":\"\\u00e9\"}]}}",
            "{\"file_path\": \"a.rs\"", "\"}", "{\"x\": 1}{\"y\": 2}",
        ][..])
        .prop_map(|s| json!(s)),
        1 => Just(json!({"command": "pwd"})),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn maybe<T: Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), 2 => s.prop_map(Some)].boxed()
}

fn openai_tool_call() -> impl Strategy<Value = Value> {
    (
        maybe(prop_oneof![
            Just(Value::Null),
            (0u32..3).prop_map(|i| json!(i))
        ]),
        maybe(select(&["call_a", "call_b", "", "call_a"][..])),
        maybe(select(
            &[
                "Bash",
                "Read",
                LONG_TOOL,
                "",
                "Unknown",
                "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_na",
            ][..],
        )),
        maybe(arguments()),
    )
        .prop_map(|(index, id, name, arguments)| {
            let mut call = json!({"type": "function", "function": {}});
            if let Some(index) = index {
                call["index"] = index;
            }
            if let Some(id) = id {
                call["id"] = json!(id);
            }
            if let Some(name) = name {
                call["function"]["name"] = json!(name);
            }
            if let Some(arguments) = arguments {
                call["function"]["arguments"] = arguments;
            }
            call
        })
}

/// A number a server might put in a usage field, absurd ones included.
fn count() -> BoxedStrategy<Value> {
    prop_oneof![
        20 => (0u64..5000).prop_map(|n| json!(n)),
        1 => Just(json!(u64::MAX)),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// One Chat Completions stream chunk.
fn openai_chunk() -> impl Strategy<Value = Value> {
    let delta = (
        maybe(model_text()),
        maybe(model_text()),
        any::<bool>(),
        proptest::collection::vec(openai_tool_call(), 0..3),
    )
        .prop_map(|(content, reasoning, reasoning_field, calls)| {
            let mut delta = json!({});
            if let Some(content) = content {
                delta["content"] = json!(content);
            }
            if let Some(reasoning) = reasoning {
                delta[if reasoning_field {
                    "reasoning"
                } else {
                    "reasoning_content"
                }] = json!(reasoning);
            }
            if !calls.is_empty() {
                delta["tool_calls"] = json!(calls);
            }
            delta
        });
    let finish = maybe(select(
        &[
            "stop",
            "length",
            "tool_calls",
            "function_call",
            "content_filter",
            "",
            "eos",
        ][..],
    ));
    let stop_reason = maybe(prop_oneof![
        select(&["STOP", "\n\nHuman:", "other"][..]).prop_map(|s| json!(s)),
        Just(json!(151_645))
    ]);
    let usage = maybe(
        (count(), count(), maybe(count())).prop_map(|(p, c, cached)| {
            let mut usage = json!({"prompt_tokens": p, "completion_tokens": c});
            if let Some(cached) = cached {
                usage["prompt_tokens_details"] = json!({"cached_tokens": cached});
            }
            usage
        }),
    );
    let error = prop_oneof![
        Just(
            json!({"message": "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens", "type": "invalid_request_error", "code": 400})
        ),
        Just(json!({"message": "rate limited", "code": 429})),
        Just(json!("plain error text")),
        Just(json!({"message": null})),
    ];
    prop_oneof![
        40 => (delta, finish, stop_reason, prop_oneof![5 => Just(0u32), 1 => Just(1)], usage).prop_map(|(delta, finish, stop_reason, index, usage)| {
            let mut choice = json!({"index": index, "delta": delta});
            if let Some(finish) = finish {
                choice["finish_reason"] = json!(finish);
            }
            if let Some(stop_reason) = stop_reason {
                choice["stop_reason"] = stop_reason;
            }
            let mut chunk = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [choice]});
            if let Some(usage) = usage {
                chunk["usage"] = usage;
            }
            chunk
        }),
        1 => error.prop_map(|error| json!({"error": error})),
        1 => Just(json!({"choices": null, "usage": null})),
        1 => json_text().prop_map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)),
    ]
}

/// An upstream OpenAI-style answer: generated chunks as SSE (with comments, event names,
/// `[DONE]` or not, any line ends), a fixture stream, or a plain JSON body; then mutated.
#[derive(Debug, Clone)]
enum OpenAiInput {
    Chunks {
        chunks: Vec<(Value, usize)>,
        comments: bool,
        done: bool,
    },
    Fixture(Index),
    Json(Value),
}

fn openai_input() -> impl Strategy<Value = (OpenAiInput, Vec<Mutation>)> {
    let input = prop_oneof![
        6 => (proptest::collection::vec((openai_chunk(), 0..3usize), 0..10), any::<bool>(), prop::bool::weighted(0.85))
            .prop_map(|(chunks, comments, done)| OpenAiInput::Chunks { chunks, comments, done }),
        3 => any::<Index>().prop_map(OpenAiInput::Fixture),
        1 => openai_chunk().prop_map(OpenAiInput::Json),
    ];
    (input, mutations())
}

impl OpenAiInput {
    fn bytes(&self) -> Vec<u8> {
        match self {
            OpenAiInput::Fixture(i) => OPENAI_FIXTURES[i.index(OPENAI_FIXTURES.len())].clone(),
            OpenAiInput::Json(value) => value.to_string().into_bytes(),
            OpenAiInput::Chunks {
                chunks,
                comments,
                done,
            } => {
                let mut out = String::new();
                if *comments {
                    out.push_str(": connected\n\n");
                }
                for (chunk, end) in chunks {
                    let end = LINE_ENDS[*end];
                    if *comments {
                        out.push_str(&format!(": keep-alive{end}{end}event: chunk{end}"));
                    }
                    out.push_str(&format!("data: {chunk}{end}{end}"));
                }
                if *done {
                    out.push_str("data: [DONE]\n\n");
                }
                out.into_bytes()
            }
        }
    }
}

/// Feed `chunks` to `translator`, then finish; ids made stable for comparison.
fn translate(translator: &mut dyn StreamTranslator, chunks: &[&[u8]]) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(translator.feed(chunk));
    }
    events.extend(translator.finish());
    normalize_events(&mut events);
    events
}

/// The properties both translators must have, on one input; how the answer ended.
fn check_translation(
    mut stream: impl FnMut() -> Box<dyn StreamTranslator>,
    bytes: &[u8],
    chunking: &Chunking,
) -> Result<&'static str, TestCaseError> {
    let whole = translate(&mut *stream(), &[bytes]);
    check_invariants(&whole);
    let chunked = translate(&mut *stream(), &split(bytes, chunking));
    check_invariants(&chunked);
    prop_assert_eq!(&chunked, &whole, "the chunking changed the events");
    // What a non-streaming client gets from the same events.
    let _ = into_response(&whole);
    let tool = whole.iter().any(|e| {
        matches!(
            e,
            StreamEvent::ContentBlockStart {
                content_block: switchyard_core::anthropic::ContentBlock::ToolUse(_),
                ..
            }
        )
    });
    Ok(match (whole.last(), tool) {
        (Some(StreamEvent::MessageStop), true) => "answer with tool calls",
        (Some(StreamEvent::MessageStop), false) => "answer without tool calls",
        _ => "error event",
    })
}

#[test]
fn fuzz_openai_stream_translator() {
    LazyLock::force(&OPENAI_EXCHANGES);
    let strategy = (openai_input(), any::<Index>(), chunking(), 100u16..600);
    fuzz(
        "openai_stream_translator",
        cases(),
        strategy,
        |((input, mutations), which, chunking, status)| {
            let exchange = &OPENAI_EXCHANGES[which.index(OPENAI_EXCHANGES.len())];
            let mut bytes = input.bytes();
            mutate(&mut bytes, &mutations);
            let outcome = check_translation(|| Box::new(exchange.stream()), &bytes, &chunking)?;
            // The same bytes as a complete answer, and as an error body.
            let _ = exchange.response(&bytes);
            let _ = exchange.error(status, &bytes);
            Ok(outcome)
        },
    );
}

/// An Ollama `/api/chat` stream line's `message`.
fn ollama_message() -> impl Strategy<Value = Value> {
    let call = (
        maybe(select(&["call_1", "call_2", ""][..])),
        select(&["Bash", "Read", "", "Unknown"][..]),
        maybe(arguments()),
    )
        .prop_map(|(id, name, arguments)| {
            let mut call = json!({"function": {"name": name}});
            if let Some(id) = id {
                call["id"] = json!(id);
            }
            if let Some(arguments) = arguments {
                call["function"]["arguments"] = arguments;
            }
            call
        });
    (
        maybe(model_text()),
        maybe(model_text()),
        proptest::collection::vec(call, 0..3),
    )
        .prop_map(|(content, thinking, calls)| {
            let mut message = json!({"role": "assistant"});
            if let Some(content) = content {
                message["content"] = json!(content);
            }
            if let Some(thinking) = thinking {
                message["thinking"] = json!(thinking);
            }
            if !calls.is_empty() {
                message["tool_calls"] = json!(calls);
            }
            message
        })
}

/// The last line of an Ollama answer: `done`, why, and the counts.
fn ollama_done_line() -> impl Strategy<Value = Value> {
    let done_reason = maybe(select(&["stop", "length", "load", ""][..]));
    (ollama_message(), done_reason, count(), count(), maybe(count())).prop_map(
        |(message, reason, p, e, cached)| {
            let mut line = json!({"model": "m", "message": message, "done": true, "prompt_eval_count": p, "eval_count": e});
            if let Some(reason) = reason {
                line["done_reason"] = json!(reason);
            }
            if let Some(cached) = cached {
                line["prompt_eval_cached_count"] = cached;
            }
            line
        },
    )
}

/// One Ollama `/api/chat` stream line (a `done` one now and then, an error, anything).
fn ollama_line() -> impl Strategy<Value = Value> {
    prop_oneof![
        30 => ollama_message().prop_map(|message| json!({"model": "m", "message": message, "done": false})),
        2 => ollama_done_line(),
        1 => select(&["model 'x' not found", "context length exceeded", "boom"][..]).prop_map(|e| json!({"error": e})),
        1 => json_text().prop_map(|text| serde_json::from_str(&text).unwrap_or(Value::Null)),
    ]
}

#[derive(Debug, Clone)]
enum OllamaInput {
    /// Lines (each ended by `\r\n` or `\n`), blank lines between them or not, then the
    /// `done` line (usually).
    Lines(Vec<(Value, bool)>, bool, Option<Value>),
    Fixture(Index),
}

#[test]
fn fuzz_ollama_stream_translator() {
    LazyLock::force(&OLLAMA_EXCHANGES);
    let input = prop_oneof![
        3 => (
            proptest::collection::vec((ollama_line(), any::<bool>()), 0..10),
            any::<bool>(),
            prop_oneof![1 => Just(None), 5 => ollama_done_line().prop_map(Some)],
        )
            .prop_map(|(lines, blank, done)| OllamaInput::Lines(lines, blank, done)),
        1 => any::<Index>().prop_map(OllamaInput::Fixture),
    ];
    let strategy = (input, mutations(), any::<Index>(), chunking(), 100u16..600);
    fuzz(
        "ollama_stream_translator",
        cases(),
        strategy,
        |(input, mutations, which, chunking, status)| {
            let exchange = &OLLAMA_EXCHANGES[which.index(OLLAMA_EXCHANGES.len())];
            let mut bytes = match &input {
                OllamaInput::Fixture(i) => OLLAMA_FIXTURES[i.index(OLLAMA_FIXTURES.len())].clone(),
                OllamaInput::Lines(lines, blank, done) => {
                    let mut out = String::new();
                    let lines = lines.iter().map(|(line, crlf)| (line, *crlf));
                    for (line, crlf) in lines.chain(done.iter().map(|d| (d, false))) {
                        out.push_str(&line.to_string());
                        out.push_str(if crlf { "\r\n" } else { "\n" });
                        if *blank {
                            out.push('\n');
                        }
                    }
                    out.into_bytes()
                }
            };
            mutate(&mut bytes, &mutations);
            let outcome = check_translation(|| Box::new(exchange.stream()), &bytes, &chunking)?;
            let _ = exchange.response(&bytes);
            let _ = exchange.error(status, &bytes);
            Ok(outcome)
        },
    );
}

// ---- config loader ----

/// A config that uses every section.
const FULL_CONFIG: &str = r#"listen = "127.0.0.1:0"
active_profile = "local"
max_body_mib = 16

[[backends]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
context_length = 32768
timeout_first_byte_s = 300
max_in_flight = 1
retries = 2

[[backends]]
id = "vllm"
kind = "openai_chat"
base_url = "http://127.0.0.1:8000/v1"
recover_text_tool_calls = true
max_output_tokens = 4096
headers = { "x-extra" = "1" }
local = true

[[backends]]
id = "anthropic"
kind = "anthropic"
base_url = "https://api.anthropic.com"
api_key_env = "ANTHROPIC_API_KEY"

[profiles.local]
strategy = "ordered"
default = { backend = "ollama", model = "qwen2.5-coder:7b" }

[[profiles.local.rules]]
match = "*haiku*"
targets = [{ backend = "ollama", model = "small" }, { backend = "vllm", weight = 2 }]
fallbacks = [{ backend = "anthropic", model = "claude-haiku-4-5" }]
strategy = "weighted"

[profiles.cloud]
default = { targets = [{ backend = "anthropic" }], fallbacks = [{ backend = "ollama" }] }

[usage]
retention_days = 90

[[budgets]]
name = "cloud per day"
profile = "cloud"
period = "daily"
limit_usd = 5.0
mode = "hard"

[pricing."my-model"]
input = 0.27
output = 1.10
cache_read = 0.07
"#;

/// Values to put on the right of an `=`: edge cases of every type the schema reads.
const CONFIG_VALUES: &[&str] = &[
    "\"\"",
    "0",
    "-1",
    "1",
    "65535",
    "65536",
    "4294967296",
    "18446744073709551616",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "0.5",
    "true",
    "[]",
    "{}",
    "[{}]",
    "\"127.0.0.1:0\"",
    "\"[::1]:4747\"",
    "\"0.0.0.0:80\"",
    "\"localhost:1\"",
    "\"http://\"",
    "\"ftp://x\"",
    "\"http://127.0.0.1:1/v1\"",
    "\"*\"",
    "\"**\"",
    "\"[\"",
    "\"\\u0000\"",
    "\"é☕\"",
    "\"weighted\"",
    "\"ordered\"",
    "\"hard\"",
    "\"soft\"",
    "\"daily\"",
    "\"monthly\"",
    "\"ollama\"",
    "\"anthropic\"",
    "\"openai_chat\"",
    "\"local\"",
    "\"cloud\"",
    "\"nope\"",
    "1979-05-27T07:32:00Z",
    "{ backend = \"nope\" }",
    "{ targets = [] }",
    "[{ backend = \"ollama\", weight = 0 }]",
    "'''\nmulti\n'''",
];

/// Lines and tables to insert.
const CONFIG_SNIPPETS: &[&str] = &[
    "[[backends]]\nid = \"x\"\nkind = \"openai_chat\"\nbase_url = \"http://127.0.0.1:1/v1\"",
    "[[backends]]\nid = \"ollama\"\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:11434\"",
    "[profiles.local]",
    "[profiles.\"\"]\ndefault = { backend = \"ollama\" }",
    "[[profiles.local.rules]]\nmatch = \"*\"\ntargets = [{ backend = \"ollama\", weight = 0 }]",
    "[[profiles.cloud.rules]]\nmatch = \"claude-*\"\ntargets = []",
    "[[budgets]]\nname = \"b\"\nperiod = \"daily\"\nlimit_usd = -1\nmode = \"hard\"\nprofile = \"nope\"",
    "[[budgets]]\nname = \"b\"\nperiod = \"weekly\"\nlimit_usd = 1\nmode = \"soft\"\nbackend = \"ollama\"",
    "[pricing.\"m\"]\ninput = 1.0",
    "[pricing.\"m\"]\ninput = nan\noutput = inf",
    "[usage]\nretention_days = 0",
    "max_body_mib = 0",
    "active_profile = \"missing\"",
    "listen = \"0.0.0.0:4747\"",
    "strategy = \"weighted\"",
    "weight = 3",
    "unknown_key = 1",
    "# a comment",
    "",
];

#[derive(Debug, Clone)]
enum ConfigEdit {
    DeleteLine(Index),
    DuplicateLine(Index, Index),
    SwapLines(Index, Index),
    /// Replace the value of the line's `key = value` (if it has one).
    SetValue(Index, &'static str),
    Insert(Index, &'static str),
}

fn config_edit() -> impl Strategy<Value = ConfigEdit> {
    prop_oneof![
        2 => any::<Index>().prop_map(ConfigEdit::DeleteLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| ConfigEdit::DuplicateLine(a, b)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| ConfigEdit::SwapLines(a, b)),
        4 => (any::<Index>(), select(CONFIG_VALUES)).prop_map(|(a, v)| ConfigEdit::SetValue(a, v)),
        2 => (any::<Index>(), select(CONFIG_SNIPPETS)).prop_map(|(a, s)| ConfigEdit::Insert(a, s)),
    ]
}

fn edit_config(text: &str, edits: &[ConfigEdit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for edit in edits {
        let n = lines.len();
        match edit {
            ConfigEdit::DeleteLine(i) if n > 0 => {
                lines.remove(i.index(n));
            }
            ConfigEdit::DuplicateLine(from, to) if n > 0 => {
                let line = lines[from.index(n)].clone();
                lines.insert(to.index(n + 1), line);
            }
            ConfigEdit::SwapLines(a, b) if n > 0 => lines.swap(a.index(n), b.index(n)),
            ConfigEdit::SetValue(i, value) if n > 0 => {
                let line = &mut lines[i.index(n)];
                if let Some(eq) = line.find('=') {
                    line.truncate(eq + 1);
                    line.push(' ');
                    line.push_str(value);
                }
            }
            ConfigEdit::Insert(at, snippet) => lines.insert(at.index(n + 1), (*snippet).to_owned()),
            _ => {}
        }
    }
    lines.join("\n")
}

#[derive(Debug, Clone)]
enum ConfigInput {
    Random(Vec<u8>),
    Edited(bool, Vec<ConfigEdit>, Vec<Mutation>),
}

#[test]
fn fuzz_config_loader() {
    let input = prop_oneof![
        1 => proptest::collection::vec(
            prop_oneof![3 => select(&b"[]=\"\n .#abcdkls_{},'0123456789"[..]), 1 => any::<u8>()],
            0..200,
        )
        .prop_map(ConfigInput::Random),
        6 => (any::<bool>(), proptest::collection::vec(config_edit(), 0..6), prop_oneof![4 => Just(Vec::new()), 1 => proptest::collection::vec(mutation(), 1..3)])
            .prop_map(|(full, edits, m)| ConfigInput::Edited(full, edits, m)),
    ];
    let path = std::path::Path::new("/fuzz/config.toml");
    fuzz("config_loader", cases(), input, |input| {
        let text = match &input {
            ConfigInput::Random(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            ConfigInput::Edited(full, edits, mutations) => {
                let base = if *full {
                    FULL_CONFIG
                } else {
                    switchyard_core::config::DEFAULT_CONFIG
                };
                let mut bytes = edit_config(base, edits).into_bytes();
                mutate(&mut bytes, mutations);
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        // A line number in a message is a line of the file (or the one just past its end).
        let lines = text.lines().count() + 1;
        Ok(match switchyard_core::config::parse(&text, path) {
            Ok(config) => {
                // What loads saves: the config written back loads to the same config.
                let written = toml::to_string(&config)
                    .map_err(|e| TestCaseError::fail(format!("cannot write back: {e}")))?;
                match switchyard_core::config::parse(&written, path) {
                    Ok(again) => prop_assert_eq!(again, config, "written back:\n{}", written),
                    Err(err) => {
                        return Err(TestCaseError::fail(format!(
                            "written back, it does not load: {err}\n{written}"
                        )));
                    }
                }
                "loads, and loads back the same"
            }
            Err(ConfigError::Syntax { line, message, .. }) => {
                prop_assert!(
                    (1..=lines).contains(&line),
                    "line {line} of {lines}: {message}"
                );
                "syntax or type error"
            }
            Err(ConfigError::Invalid { issues, .. }) => {
                prop_assert!(!issues.is_empty());
                for issue in &issues {
                    if let Some(line) = issue.line {
                        prop_assert!(
                            (1..=lines).contains(&line),
                            "line {line} of {lines}: {issue}"
                        );
                    }
                }
                "invalid (validation issues)"
            }
            Err(other) => return Err(TestCaseError::fail(format!("unexpected error: {other}"))),
        })
    });
}
