//! Time of `estimate_request_tokens` on the Claude-Code-sized fixture (~89 KB), the cost the
//! count_tokens endpoint and the context guard add to a request; and, for scale, the typed
//! parse and the whole OpenAI translation of that request; the tokenizer's cost past the
//! count cache (a text seen for the first time), and the memory it keeps resident.
//! Run: `cargo bench -p switchyard-core --bench tokens_estimate`.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use switchyard_core::anthropic::MessagesRequest;
use switchyard_core::backends::TargetContext;
use switchyard_core::backends::openai_chat::OpenAiExchange;
use switchyard_core::config::BackendConfig;
use switchyard_core::config::Strategy;
use switchyard_core::proxy::{InboundRequest, request_facts};
use switchyard_core::routing::{Cooldowns, Load, Needs, RateLimits, plan, resolve};
use switchyard_core::tokens::{count_text_tokens, estimate_request_tokens};

fn main() -> Result<(), Box<dyn Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokens/05-claude-code-90kb.json"
    );
    let body = std::fs::read_to_string(path)?;
    let req: MessagesRequest = serde_json::from_str(&body)?;

    let rss_before = vm_rss_kib();
    let started = Instant::now();
    black_box(count_text_tokens("warm up"));
    let elapsed = started.elapsed();
    // What the tokenizer keeps resident (the table over the compiled-in vocabulary, the pages
    // of the vocabulary read to build it, the pre-tokenizer regex): `switchyard serve` pays it
    // when a translating backend is configured.
    println!(
        "first use (builds the o200k table): {elapsed:?}, VmRSS {} -> {} KiB",
        rss_before.unwrap_or(0),
        vm_rss_kib().unwrap_or(0)
    );

    report("Claude Code request", body.len(), || {
        black_box(estimate_request_tokens(black_box(&req)));
    });
    // What every request pays: the borrowing head parse (model, stream, max_tokens, messages).
    let compact = bytes::Bytes::from(serde_json::to_vec(&serde_json::from_str::<
        serde_json::Value,
    >(&body)?)?);
    report(
        "head parse of the request (pass-through)",
        compact.len(),
        || {
            black_box(InboundRequest::parse(black_box(compact.clone())).ok());
        },
    );
    // What a profile with conditional rules adds to a pass-through request: every fact they
    // can read but the prompt's size (images, server tools, thinking, subagent; a profile
    // whose rules read fewer pays less), from the scan's fields. The tool
    // definitions and system prompt are parsed once and shared, as for repeat requests.
    let headers = http::HeaderMap::new();
    let long_compact = long_conversation(&body, 40)?;
    for (what, bytes) in [
        ("the request", compact.clone()),
        ("a 40-tool-call session", long_compact),
    ] {
        report(
            &format!("head parse + conditional-rule facts of {what} (pass-through)"),
            bytes.len(),
            || {
                let inbound = InboundRequest::parse(black_box(bytes.clone())).ok();
                black_box(inbound.map(|r| request_facts(&r, &headers, Needs::CHEAP)));
            },
        );
        report(
            &format!("head parse alone of {what}, for comparison"),
            bytes.len(),
            || {
                black_box(InboundRequest::parse(black_box(bytes.clone())).ok());
            },
        );
    }
    // What a rate-limited backend and a balancing strategy add to each request: a limit
    // window checked and settled, and the targets of a 4-target route sorted by what the
    // gateway saw (in flight, latency, tokens this minute).
    let routing_config = switchyard_core::config::parse(
        "active_profile = \"p\"\n[[backends]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:1\"\nrpm = 1000000\ntpm = 1000000000\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:2\"\n[profiles.p]\ndefault = { targets = [{ backend = \"a\" }, { backend = \"b\" }, { backend = \"a\", model = \"x\" }, { backend = \"b\", model = \"y\" }] }\n",
        std::path::Path::new("bench.toml"),
    )?;
    let limited = routing_config.backend("a").ok_or("no backend a")?.clone();
    let limits = RateLimits::default();
    report("rate limit: acquire and settle (rpm and tpm)", 0, || {
        if let Some(Ok(ticket)) = limits.acquire(&limited, 2000, std::time::Instant::now()) {
            limits.settle(&ticket, 2100);
        }
    });
    // A key pool: the next usable key of three in turn, their secrets cached after the first
    // read (what every request to a pooled backend does).
    let mut pooled = limited.clone();
    pooled.keys = vec!["k1".into(), "k2".into(), "k3".into()];
    let store = switchyard_core::secrets::MemoryStore::default();
    for name in ["k1", "k2", "k3"] {
        use switchyard_core::secrets::SecretStore;
        store.set(
            &switchyard_core::config::key_account("a", Some(name)),
            &switchyard_core::secrets::SecretString::from(format!("sk-{name}")),
        )?;
    }
    let store: std::sync::Arc<dyn switchyard_core::secrets::SecretStore> =
        std::sync::Arc::new(store);
    let keys = switchyard_core::gateway::KeyCache::default();
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    runtime.block_on(async {
        let _ = keys.pick(&pooled, &store, Instant::now()).await;
        for _ in 0..3 {
            let _ = keys.pick(&pooled, &store, Instant::now()).await;
        }
    });
    report("key pool: pick the next of 3 keys", 0, || {
        let picked = futures::executor::block_on(keys.pick(&pooled, &store, Instant::now()));
        black_box(picked.is_ok());
    });
    let load = Load::default();
    load.answered("a", "claude-sonnet-4-5", Some(300), 1000);
    load.answered("b", "claude-sonnet-4-5", Some(200), 500);
    let cooldowns = Cooldowns::default();
    let mut rng = rand::rng();
    for strategy in [
        Strategy::Ordered,
        Strategy::LeastBusy,
        Strategy::LowestLatency,
        Strategy::Usage,
    ] {
        let mut route = resolve(&routing_config, "p", "claude-sonnet-4-5")?;
        route.strategy = strategy;
        report(
            &format!("plan of a 4-target route, strategy {}", strategy.as_str()),
            0,
            || {
                black_box(plan(
                    &route,
                    "claude-sonnet-4-5",
                    &cooldowns,
                    &load,
                    &mut rng,
                ));
            },
        );
    }
    // The rest of the translated path's CPU, for scale: the typed parse of the same body and
    // its translation to an OpenAI Chat Completions body (which includes the estimate).
    report(
        "typed parse of the Claude Code request (serde, whole body)",
        body.len(),
        || {
            black_box(serde_json::from_str::<MessagesRequest>(black_box(&body)).ok());
        },
    );
    // What a translated request pays: the scan, then the typed request field by field, with
    // the tool definitions and system prompt shared from the previous request's parse. Later
    // in a session the conversation is most of the body and is parsed anew with every
    // request: the same request after 40 tool calls, each answered with an 8 KB file.
    let long = long_conversation(&body, 40)?;
    for (what, bytes) in [
        ("a repeat request", bytes::Bytes::from(body.clone())),
        ("a 40-tool-call session", long.clone()),
    ] {
        report(
            &format!("scan + typed parse of {what} (tools, system shared)"),
            bytes.len(),
            || {
                let inbound = InboundRequest::parse(black_box(bytes.clone())).ok();
                black_box(inbound.as_ref().map(|r| r.full().is_ok()));
            },
        );
    }
    let backend: BackendConfig = toml::from_str(
        "id = \"b\"\nkind = \"openai_chat\"\nbase_url = \"http://127.0.0.1:1/v1\"\n",
    )?;
    let ctx = TargetContext {
        backend: &backend,
        upstream_model: "m",
        requested_model: &req.model,
        context_length: Some(200_000),
    };
    report(
        "translation to OpenAI Chat (incl. estimate)",
        body.len(),
        || {
            black_box(OpenAiExchange::prepare(black_box(&req), &ctx).ok());
        },
    );
    let long_req: MessagesRequest = serde_json::from_slice(&long)?;
    report(
        "translation of the 40-tool-call session (incl. estimate)",
        long.len(),
        || {
            black_box(OpenAiExchange::prepare(black_box(&long_req), &ctx).ok());
        },
    );
    // A 100 KB run without whitespace (minified file, repeated characters in a tool result):
    // the case that is quadratic without chunking.
    let run = "abcdefghij".repeat(10_000);
    report("100 KB run without whitespace", run.len(), || {
        black_box(count_text_tokens(black_box(&run)));
    });
    // The tokenizer itself, past the cache: a text never seen before (a new turn, a new tool
    // result) is encoded in full. A fresh prefix per run makes every run a cache miss.
    for (what, text) in [
        ("the Claude Code request's JSON as text", body.as_str()),
        ("100 KB run without whitespace", run.as_str()),
    ] {
        let mut runs = 0u64;
        report(&format!("uncached count of {what}"), text.len(), || {
            runs += 1;
            let fresh = format!("{runs} {text}");
            black_box(count_text_tokens(black_box(&fresh)));
        });
    }
    Ok(())
}

/// `body` with `turns` more exchanges: an assistant turn calling `Read`, and the user's tool
/// result holding an 8 KB source file (newlines, quotes and backslashes to escape).
fn long_conversation(body: &str, turns: usize) -> Result<bytes::Bytes, Box<dyn Error>> {
    let mut request: serde_json::Value = serde_json::from_str(body)?;
    let file = "    let total = items.iter().map(|item| item.len()).sum::<usize>();\n    println!(\"total: {total} in C:\\\\data\");\n".repeat(75);
    let messages = request["messages"]
        .as_array_mut()
        .ok_or("the fixture has no messages")?;
    for turn in 0..turns {
        let id = format!("toolu_{turn:04}");
        messages.push(serde_json::json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me read the next file."},
            {"type": "tool_use", "id": id, "name": "Read", "input": {"file_path": format!("/src/file_{turn}.rs")}}
        ]}));
        messages.push(serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": file}
        ]}));
    }
    Ok(bytes::Bytes::from(serde_json::to_vec(&request)?))
}

/// This process's resident size, from `/proc/self/status` (Linux only).
fn vm_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `BENCH_CASES` (optional): run only the measurements whose name contains it.
fn report(what: &str, bytes: usize, mut f: impl FnMut()) {
    if std::env::var("BENCH_CASES").is_ok_and(|want| !what.contains(want.as_str())) {
        return;
    }
    let mut runs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline || runs.len() < 10 {
        let started = Instant::now();
        f();
        runs.push(started.elapsed());
    }
    runs.sort();
    println!(
        "{what} ({bytes} bytes): median {:?}, p90 {:?}, min {:?} over {} runs",
        runs[runs.len() / 2],
        runs[runs.len() * 9 / 10],
        runs[0],
        runs.len()
    );
}
