//! `make bench`: the latency the gateway adds to a pass-through request and to a request
//! translated to OpenAI Chat Completions, and the memory of an idle `switchyard serve`.
//!
//! The same fake upstream (`fake-upstream`, on its own runtime) is called directly and through
//! the gateway (the real `Engine`, on its own runtime, with the real router, guard, routing
//! and relay), one request of each per pair, in alternating order; the table gives percentiles
//! of the per-pair difference. Then the release `switchyard` binary, when built next to this
//! bench, is started as a separate process: the same measurement, and its VmRSS idle after
//! startup and after a few thousand requests (pass-through only), then with a translating
//! backend: its idle VmRSS (the tokenizer vocabulary is built at start) before and after one
//! count_tokens request, and the translated rows again, through the separate process.
//!
//! The translated path is measured the same way against a fixed OpenAI-style upstream
//! (`openai_fake`): direct is the same body posted to it, so the difference is what the
//! gateway's translation both ways, token estimate and context guard cost.
//!
//! Each in-process row also gives the gateway's CPU time per request through it (its runtime's
//! threads and the usage writer, from `/proc/self/task/*/schedstat`). At concurrency 16 the
//! bench saturates the machine's two vCPUs, and a request then waits for the CPU work of the
//! others: the added latency is up to about concurrency ÷ cores × that CPU time (measured:
//! 4-7×), so the CPU column says what the latency column will do on a quieter or busier machine.
//!
//! The `cache` section sends the same requests under a profile with the response cache on:
//! after a warm-up (the miss that stores each answer), every request through the gateway is
//! a hit, answered without the upstream; its "gateway p50" is the whole answer's time.
//!
//! `BENCH_SCALE` (default 1.0) multiplies the number of pairs; 0.1 gives a quick smoke run.

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{MemoryStore, SecretStore, SecretString, backend_account};

mod openai_fake;

type BoxError = Box<dyn Error + Send + Sync>;

const TOKEN: &str = "sy-bench-local-token-0123456789abcdefghijklmnop";
const BEARER: &str = "Bearer sy-bench-local-token-0123456789abcdefghijklmnop";
const UPSTREAM_MODEL: &str = "fake-bench-model";
/// Routed to the Anthropic-style fake (pass-through).
const PASS_MODEL: &str = "claude-sonnet-4-5";
/// Routed to the OpenAI-style fake (translated).
const TRANSLATED_MODEL: &str = "claude-opus-4-1";

/// A target's p50 added latency, in microseconds.
const TARGET_P50_US: f64 = 200.0;
/// The translated path's target for the Claude-Code-sized body (issue: under 1 ms).
const TARGET_TRANSLATED_P50_US: f64 = 1000.0;
/// A cache hit on the Claude-Code-sized body answers within this (issue 19: under 1 ms).
const TARGET_CACHE_HIT_US: f64 = 1000.0;
/// The idle RSS target, in KiB.
const TARGET_RSS_KIB: u64 = 20 * 1024;
/// The RSS target with a translating backend, whose token estimate is loaded at start, in KiB.
const TARGET_TRANSLATED_RSS_KIB: u64 = 25 * 1024;

struct Endpoints {
    direct: String,
    gateway: String,
    /// How the direct upstream's stream ends (the gateway's always ends with `message_stop`).
    direct_end: &'static [u8],
}

const MESSAGE_STOP: &[u8] = b"data: {\"type\":\"message_stop\"}\n\n";

#[derive(Clone, Copy)]
struct Case {
    stream: bool,
    large: bool,
    concurrency: usize,
}

impl Case {
    fn label(&self, bodies: &Bodies) -> String {
        let size = if self.large {
            format!("CC-sized {} KB", bodies.large_len / 1024)
        } else {
            format!("small {} B", bodies.small_len)
        };
        format!(
            "{:<10} {:<16}",
            if self.stream { "stream" } else { "non-stream" },
            size
        )
    }
}

struct Bodies {
    small: Bytes,
    small_stream: Bytes,
    large: Bytes,
    large_stream: Bytes,
    small_len: usize,
    large_len: usize,
}

impl Bodies {
    fn build(model: &str) -> Result<Self, BoxError> {
        let small = small_body(model, false)?;
        let large = large_body(model, false)?;
        Ok(Bodies {
            small_len: small.len(),
            large_len: large.len(),
            small,
            small_stream: small_body(model, true)?,
            large,
            large_stream: large_body(model, true)?,
        })
    }

    /// The same bodies, the streamed ones with one more field: for the cache section, where
    /// `stream` is not part of the key, so that each case replays an answer of its own shape
    /// (a stored stream for the streamed cases) rather than converting the other case's.
    fn distinct_streams(mut self) -> Result<Self, BoxError> {
        for body in [&mut self.small_stream, &mut self.large_stream] {
            let mut value: serde_json::Value = serde_json::from_slice(body)?;
            value["top_k"] = json!(40);
            *body = Bytes::from(serde_json::to_vec(&value)?);
        }
        Ok(self)
    }

    fn get(&self, case: Case) -> Bytes {
        match (case.large, case.stream) {
            (false, false) => self.small.clone(),
            (false, true) => self.small_stream.clone(),
            (true, false) => self.large.clone(),
            (true, true) => self.large_stream.clone(),
        }
    }
}

fn small_body(model: &str, stream: bool) -> Result<Bytes, BoxError> {
    Ok(Bytes::from(serde_json::to_vec(&json!({
        "model": model,
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello in five words."}]
    }))?))
}

/// A body shaped like Claude Code's: a long system prompt, 12 tool definitions with long
/// descriptions and schemas, a first user turn with reminders; about 90 KB.
fn large_body(model: &str, stream: bool) -> Result<Bytes, BoxError> {
    const PARAGRAPH: &str = "You are an interactive CLI tool that helps users with software engineering tasks. Use the instructions below and the tools available to you to assist the user. IMPORTANT: Assist with defensive security tasks only. When you reference code, include the pattern file_path:line_number so the user can navigate to it. ";
    const TOOLS: [&str; 12] = [
        "Task",
        "Bash",
        "Glob",
        "Grep",
        "LS",
        "Read",
        "Edit",
        "MultiEdit",
        "Write",
        "NotebookEdit",
        "WebFetch",
        "TodoWrite",
    ];
    let system_text = PARAGRAPH.repeat(90);
    let tools: Vec<serde_json::Value> = TOOLS
        .iter()
        .map(|name| {
            json!({
                "name": name,
                "description": format!("{name}: {}", PARAGRAPH.repeat(13)),
                "input_schema": {
                    "type": "object",
                    "$schema": "http://json-schema.org/draft-07/schema#",
                    "additionalProperties": false,
                    "required": ["file_path", "content"],
                    "properties": {
                        "file_path": {"type": "string", "description": "The absolute path to the file to operate on (must be absolute, not relative)."},
                        "content": {"type": "string", "description": "The content to use. Preserve the exact indentation (tabs/spaces) as it appears."},
                        "limit": {"type": "number", "description": "The number of lines to read. Only provide if the file is too large to read at once."},
                        "pattern": {"type": "string", "description": "The regular expression pattern to search for in file contents, ripgrep syntax."}
                    }
                }
            })
        })
        .collect();
    Ok(Bytes::from(serde_json::to_vec(&json!({
        "model": model,
        "max_tokens": 32000,
        "stream": stream,
        "temperature": 1,
        "metadata": {"user_id": "user_bench_account__session_0000"},
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {"type": "text", "text": system_text, "cache_control": {"type": "ephemeral"}}
        ],
        "tools": tools,
        "messages": [{
            "role": "user",
            "content": [
                {"type": "text", "text": format!("<system-reminder>{}</system-reminder>", PARAGRAPH.repeat(10))},
                {"type": "text", "text": "Create the file hello.txt with a one-line greeting.", "cache_control": {"type": "ephemeral"}}
            ]
        }]
    }))?))
}

/// The bench's config: the Anthropic-style fake as the default, and, with `openai`, the
/// OpenAI-style fake for [`TRANSLATED_MODEL`].
fn config_text(upstream: SocketAddr, openai: Option<SocketAddr>, key_env: Option<&str>) -> String {
    let key_line = key_env.map_or(String::new(), |var| format!("api_key_env = \"{var}\"\n"));
    let mut text = format!(
        "listen = \"127.0.0.1:0\"\nactive_profile = \"bench\"\n\n[[backends]]\nid = \"fake\"\nkind = \"anthropic\"\nbase_url = \"http://{upstream}\"\n{key_line}\n[profiles.bench]\ndefault = {{ backend = \"fake\", model = \"{UPSTREAM_MODEL}\" }}\n"
    );
    // A profile whose conditional rules all read the request and none applies to the bench's
    // bodies (no image, server tool, thinking or subagent): what the checks cost.
    text.push_str(&format!(
        "\n[profiles.conditional]\ndefault = {{ backend = \"fake\", model = \"{UPSTREAM_MODEL}\" }}\n"
    ));
    for when in [
        "images = true",
        "server_tools = true",
        "thinking = true",
        "agent = \"subagent\"",
    ] {
        text.push_str(&format!(
            "[[profiles.conditional.rules]]\nwhen = {{ {when} }}\ntargets = [{{ backend = \"fake\", model = \"other\" }}]\n"
        ));
    }
    // The same route with every request captured for the inspector (the `capture` section).
    text.push_str(&format!(
        "\n[profiles.captured]\ncapture = true\ndefault = {{ backend = \"fake\", model = \"{UPSTREAM_MODEL}\" }}\n"
    ));
    // The same route with the response cache on (the `cache` section).
    text.push_str(&format!(
        "\n[profiles.cached]\ncache = true\ndefault = {{ backend = \"fake\", model = \"{UPSTREAM_MODEL}\" }}\n"
    ));
    if let Some(openai) = openai {
        text.push_str(&format!(
            "\n[[profiles.bench.rules]]\nmatch = \"{TRANSLATED_MODEL}\"\ntargets = [{{ backend = \"fake-openai\", model = \"{UPSTREAM_MODEL}\" }}]\n\n[[backends]]\nid = \"fake-openai\"\nkind = \"openai_chat\"\nbase_url = \"http://{openai}/v1\"\ncontext_length = 200000\n"
        ));
    }
    text.push_str("\n[cache]\nenabled = true\n");
    text
}

fn client() -> Result<reqwest::Client, BoxError> {
    Ok(reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// One request, read to its end; its wall time.
async fn once(
    client: &reqwest::Client,
    url: &str,
    body: Bytes,
    stream_end: Option<&[u8]>,
) -> Result<Duration, BoxError> {
    let started = Instant::now();
    let response = client
        .post(url)
        .header("authorization", BEARER)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
        return Err(format!("{url}: HTTP {status}: {text}").into());
    }
    let complete = match stream_end {
        Some(end) => bytes.ends_with(end),
        None => bytes.starts_with(b"{") && bytes.ends_with(b"}"),
    };
    if !complete {
        return Err(format!("{url}: incomplete answer ({} bytes)", bytes.len()).into());
    }
    Ok(elapsed)
}

/// (direct, through the gateway) wall times of `pairs` pairs on each of `case.concurrency`
/// workers.
async fn measure(
    endpoints: Arc<Endpoints>,
    client: reqwest::Client,
    bodies: &Bodies,
    case: Case,
    pairs: usize,
) -> Result<Vec<(Duration, Duration)>, BoxError> {
    let mut workers = Vec::new();
    for worker in 0..case.concurrency {
        let endpoints = endpoints.clone();
        let client = client.clone();
        let body = bodies.get(case);
        workers.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(pairs);
            let direct_end = case.stream.then_some(endpoints.direct_end);
            let gateway_end = case.stream.then_some(MESSAGE_STOP);
            for i in 0..pairs {
                let direct_first = (i + worker) % 2 == 0;
                let (direct, gateway) = if direct_first {
                    let d = once(&client, &endpoints.direct, body.clone(), direct_end).await?;
                    let g = once(&client, &endpoints.gateway, body.clone(), gateway_end).await?;
                    (d, g)
                } else {
                    let g = once(&client, &endpoints.gateway, body.clone(), gateway_end).await?;
                    let d = once(&client, &endpoints.direct, body.clone(), direct_end).await?;
                    (d, g)
                };
                out.push((direct, gateway));
            }
            Ok::<_, BoxError>(out)
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok(all)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// CPU time used so far by this process's threads whose name starts with one of `prefixes`,
/// from `/proc/self/task/*/schedstat` (nanoseconds on a CPU; `/proc/*/stat` has only 10 ms
/// ticks, too coarse for a few thousand requests).
fn threads_cpu(prefixes: &[&str]) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut total = 0u64;
    for task in tasks.flatten() {
        let path = task.path();
        let Ok(comm) = std::fs::read_to_string(path.join("comm")) else {
            continue;
        };
        if !prefixes.iter().any(|p| comm.starts_with(p)) {
            continue;
        }
        let ns = std::fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok());
        total += ns.unwrap_or(0);
    }
    Duration::from_nanos(total)
}

/// The in-process gateway's threads: the engine's runtime (its blocking pool included), the
/// usage writer and the response cache's writer (names cut to 15 bytes by the kernel).
const GATEWAY_THREADS: &[&str] = &["bench-gateway", "switchyard-usag", "switchyard-cach"];

struct Row {
    label: String,
    concurrency: usize,
    pairs: usize,
    direct_p50: f64,
    gateway_p50: f64,
    added: [f64; 3],
    /// The gateway's CPU per request through it (`None` for a separate process).
    gateway_cpu: Option<f64>,
}

fn summarize(label: String, concurrency: usize, samples: &[(Duration, Duration)]) -> Row {
    let direct = sorted(samples.iter().map(|(d, _)| micros(*d)).collect());
    let gateway = sorted(samples.iter().map(|(_, g)| micros(*g)).collect());
    let added = sorted(
        samples
            .iter()
            .map(|(d, g)| micros(*g) - micros(*d))
            .collect(),
    );
    Row {
        label,
        concurrency,
        pairs: samples.len(),
        direct_p50: percentile(&direct, 50.0),
        gateway_p50: percentile(&gateway, 50.0),
        added: [
            percentile(&added, 50.0),
            percentile(&added, 90.0),
            percentile(&added, 99.0),
        ],
        gateway_cpu: None,
    }
}

fn print_table(title: &str, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!("\n{title}");
    println!(
        "| case                        | conc | pairs | direct p50 | gateway p50 | added p50 | added p90 | added p99 | gateway CPU/req |"
    );
    println!(
        "|-----------------------------|-----:|------:|-----------:|------------:|----------:|----------:|----------:|----------------:|"
    );
    for r in rows {
        let cpu = r
            .gateway_cpu
            .map_or_else(|| "—".to_owned(), |us| format!("{us:.0} µs"));
        println!(
            "| {:<27} | {:>4} | {:>5} | {:>7.0} µs | {:>8.0} µs | {:>6.0} µs | {:>6.0} µs | {:>6.0} µs | {:>15} |",
            r.label,
            r.concurrency,
            r.pairs,
            r.direct_p50,
            r.gateway_p50,
            r.added[0],
            r.added[1],
            r.added[2],
            cpu
        );
    }
}

fn scale() -> f64 {
    std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

fn pairs_for(case: Case) -> usize {
    let base: f64 = match (case.large, case.concurrency) {
        (false, 1) => 2000.0,
        (true, 1) => 600.0,
        (false, _) => 150.0,
        (true, _) => 50.0,
    };
    ((base * scale()).ceil() as usize).max(5)
}

/// `BENCH_CASES` (optional) keeps only the cases whose "section label" contains one of its
/// comma-separated words, e.g. `BENCH_CASES="translated stream"` or `BENCH_CASES=CC-sized`;
/// sections are `pass-through`, `conditional`, `capture`, `cache`, `translated`, `serve` and
/// `serve-translated`.
fn selected(section: &str, label: &str) -> bool {
    let Ok(filter) = std::env::var("BENCH_CASES") else {
        return true;
    };
    let name = format!("{section} {label}");
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    filter
        .split(',')
        .map(str::trim)
        .any(|want| !want.is_empty() && name.contains(want))
}

fn run_cases(
    client_rt: &tokio::runtime::Runtime,
    section: &str,
    endpoints: Arc<Endpoints>,
    bodies: &Bodies,
    cases: &[Case],
) -> Result<Vec<Row>, BoxError> {
    let client = client()?;
    let mut rows = Vec::new();
    for &case in cases {
        if !selected(
            section,
            &format!("{} conc {}", case.label(bodies), case.concurrency),
        ) {
            continue;
        }
        let warmup = Case {
            concurrency: case.concurrency,
            ..case
        };
        client_rt.block_on(measure(
            endpoints.clone(),
            client.clone(),
            bodies,
            warmup,
            (pairs_for(case) / 10).max(3),
        ))?;
        let cpu_before = threads_cpu(GATEWAY_THREADS);
        let samples = client_rt.block_on(measure(
            endpoints.clone(),
            client.clone(),
            bodies,
            case,
            pairs_for(case),
        ))?;
        let cpu = threads_cpu(GATEWAY_THREADS).saturating_sub(cpu_before);
        let mut row = summarize(case.label(bodies), case.concurrency, &samples);
        // Zero when the gateway is another process (`serve`): its threads are not ours.
        if !cpu.is_zero() {
            row.gateway_cpu = Some(micros(cpu) / samples.len() as f64);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for concurrency in [1, 16] {
        for large in [false, true] {
            for stream in [false, true] {
                cases.push(Case {
                    stream,
                    large,
                    concurrency,
                });
            }
        }
    }
    cases
}

/// The engine's `switchyard_cache_hits_total`, from `GET /metrics`.
async fn cache_hits(engine: &Engine) -> Result<u64, BoxError> {
    let text = client()?
        .get(format!("http://{}/metrics", engine.listen_addr()))
        .header("authorization", BEARER)
        .send()
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix("switchyard_cache_hits_total "))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| "no switchyard_cache_hits_total in /metrics".into())
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory_kib(pid: u32) -> Result<(u64, u64), BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

/// The release `switchyard` binary next to this bench (`target/release/deps/gateway-*`).
fn release_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("SWITCHYARD_BIN") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("switchyard");
    bin.is_file().then_some(bin)
}

/// A `switchyard serve` child, killed (by its PID, through `Child`) when dropped.
struct Served {
    child: Child,
    addr: String,
    /// Kept open: `switchyard serve` prints more lines, and a closed pipe would make its
    /// `println!` fail.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_binary(bin: &Path, config: &Path) -> Result<Served, BoxError> {
    let mut child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .env("SWITCHYARD_TOKEN", TOKEN)
        .env("SWITCHYARD_BENCH_UPSTREAM_KEY", "sk-bench-upstream")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = match lines.next() {
        Some(Ok(line)) => line,
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            return Err("switchyard serve printed nothing".into());
        }
    };
    let mut served = Served {
        child,
        addr: String::new(),
        _stdout: lines,
    };
    // On error `served` is dropped, which kills the child.
    served.addr = first
        .strip_prefix("listening on http://")
        .ok_or_else(|| format!("unexpected first line: {first}"))?
        .to_owned();
    Ok(served)
}

fn main() -> Result<(), BoxError> {
    let bodies = Bodies::build(PASS_MODEL)?;
    let translated_bodies = Bodies::build(TRANSLATED_MODEL)?;
    let dir = tempfile::tempdir()?;

    // The upstream: one worker thread of its own.
    // Named threads: `perf report --sort comm` splits the CPU between the three parties.
    let fake_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-upstream")
        .enable_all()
        .build()?;
    let fake_listener = fake_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let fake_addr = fake_listener.local_addr()?;
    fake_rt.spawn(fake_upstream::serve(
        fake_listener,
        fake_upstream::Options::default(),
    ));
    let openai_listener = fake_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let openai_addr = openai_listener.local_addr()?;
    fake_rt.spawn(openai_fake::serve(openai_listener));

    // The gateway: the real engine on its own runtime, keys from memory.
    let gateway_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-gateway")
        .enable_all()
        .build()?;
    let config_path = dir.path().join("bench.toml");
    std::fs::write(
        &config_path,
        config_text(fake_addr, Some(openai_addr), None),
    )?;
    let store = MemoryStore::default();
    store.set(
        &backend_account("fake"),
        &SecretString::from("sk-bench-upstream".to_owned()),
    )?;
    let engine = gateway_rt.block_on(Engine::start(
        EngineOptions {
            config_path: Some(config_path),
            token: Some(SecretString::from(TOKEN.to_owned())),
            // A data dir of the bench's own: the usage rows and the response cache start
            // empty (and stay out of the user's history).
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        },
        Arc::new(store),
    ))?;

    // The engine builds the tokenizer's vocabulary on a blocking thread at start (~10 ms of
    // CPU): wait for it, or a run of the translated rows alone would measure it.
    switchyard_core::tokens::warm_up();

    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let endpoints = Arc::new(Endpoints {
        direct: format!("http://{fake_addr}/v1/messages"),
        gateway: format!("http://{}/v1/messages", engine.listen_addr()),
        direct_end: MESSAGE_STOP,
    });
    println!(
        "switchyard gateway bench: {} CPUs, small body {} B, Claude-Code-sized body {} B, BENCH_SCALE {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        bodies.small_len,
        bodies.large_len,
        scale()
    );
    let mut missed = 0;
    let rows = run_cases(&client_rt, "pass-through", endpoints, &bodies, &all_cases())?;
    print_table(
        "Added latency, in-process engine (pass-through, per-pair gateway − direct):",
        &rows,
    );
    let single: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| c.concurrency == 1)
        .collect();
    let conditional = run_cases(
        &client_rt,
        "conditional",
        Arc::new(Endpoints {
            direct: format!("http://{fake_addr}/v1/messages"),
            gateway: format!(
                "http://{}/profiles/conditional/v1/messages",
                engine.listen_addr()
            ),
            direct_end: MESSAGE_STOP,
        }),
        &bodies,
        &single,
    )?;
    print_table(
        "Added latency, in-process engine (pass-through under a profile with 4 conditional rules, none of which applies):",
        &conditional,
    );
    let captured = run_cases(
        &client_rt,
        "capture",
        Arc::new(Endpoints {
            direct: format!("http://{fake_addr}/v1/messages"),
            gateway: format!(
                "http://{}/profiles/captured/v1/messages",
                engine.listen_addr()
            ),
            direct_end: MESSAGE_STOP,
        }),
        &bodies,
        &single,
    )?;
    print_table(
        "Added latency, in-process engine (pass-through under a profile that captures every request for the inspector):",
        &captured,
    );
    if let Some(store) = engine.gateway().captures() {
        store.flush();
        println!(
            "captures: {} handed to the writer, {} dropped (queue full)",
            store.submitted(),
            store.dropped()
        );
    }
    let cache_bodies = Bodies::build(PASS_MODEL)?.distinct_streams()?;
    let hits_before = client_rt.block_on(cache_hits(&engine))?;
    let cached = run_cases(
        &client_rt,
        "cache",
        Arc::new(Endpoints {
            direct: format!("http://{fake_addr}/v1/messages"),
            gateway: format!(
                "http://{}/profiles/cached/v1/messages",
                engine.listen_addr()
            ),
            direct_end: MESSAGE_STOP,
        }),
        &cache_bodies,
        &single,
    )?;
    print_table(
        "Response cache hits, in-process engine (a warm-up stores each answer; then every gateway request is a hit, answered without the upstream: gateway p50 is the whole answer, direct the upstream's):",
        &cached,
    );
    let hits = client_rt.block_on(cache_hits(&engine))? - hits_before;
    let sent: usize = single
        .iter()
        .filter(|c| {
            selected(
                "cache",
                &format!("{} conc {}", c.label(&cache_bodies), c.concurrency),
            )
        })
        .map(|c| pairs_for(*c) + (pairs_for(*c) / 10).max(3))
        .sum();
    if sent > 0 {
        // One miss per case (the warm-up's first request) stores the answer.
        println!("cache hits: {hits} of {sent} requests through the cached profile");
        if hits + cached.len() as u64 != sent as u64 {
            println!("cache: not every request after the first of each case was a hit");
            missed += 1;
        }
    }
    let translated = run_cases(
        &client_rt,
        "translated",
        Arc::new(Endpoints {
            direct: format!("http://{openai_addr}/v1/chat/completions"),
            gateway: format!("http://{}/v1/messages", engine.listen_addr()),
            direct_end: openai_fake::DONE,
        }),
        &translated_bodies,
        &all_cases(),
    )?;
    print_table(
        "Added latency, in-process engine (translated to OpenAI Chat Completions, per-pair gateway − direct):",
        &translated,
    );
    gateway_rt.block_on(engine.shutdown());
    drop(gateway_rt);

    missed += rows
        .iter()
        .filter(|r| r.concurrency == 1 && r.added[0] > TARGET_P50_US)
        .count();
    missed += translated
        .iter()
        .filter(|r| r.label.contains("CC-sized") && r.added[0] > TARGET_TRANSLATED_P50_US)
        .count();
    missed += cached
        .iter()
        .filter(|r| r.label.contains("CC-sized") && r.gateway_p50 > TARGET_CACHE_HIT_US)
        .count();

    match release_binary() {
        None => println!(
            "\nrelease binary: SKIPPED (build it first: cargo build --release -p switchyard-cli)"
        ),
        Some(bin) => {
            let config = dir.path().join("bench-binary.toml");
            std::fs::write(
                &config,
                config_text(fake_addr, None, Some("SWITCHYARD_BENCH_UPSTREAM_KEY")),
            )?;
            let served = serve_binary(&bin, &config)?;
            let pid = served.child.id();
            std::thread::sleep(Duration::from_millis(500));
            let (idle_rss, _) = memory_kib(pid)?;
            let endpoints = Arc::new(Endpoints {
                direct: format!("http://{fake_addr}/v1/messages"),
                gateway: format!("http://{}/v1/messages", served.addr),
                direct_end: MESSAGE_STOP,
            });
            // Every case, the Claude-Code-sized bodies included (the "after requests" RSS
            // has seen them).
            let rows = run_cases(&client_rt, "serve", endpoints, &bodies, &all_cases())?;
            std::thread::sleep(Duration::from_secs(2));
            let (after_rss, peak) = memory_kib(pid)?;
            print_table(
                &format!(
                    "Added latency, release `switchyard serve` process ({}):",
                    bin.display()
                ),
                &rows,
            );
            missed += rows
                .iter()
                .filter(|r| r.concurrency == 1 && r.added[0] > TARGET_P50_US)
                .count();
            println!(
                "\nswitchyard serve RSS: idle after startup {idle_rss} KiB, idle after requests {after_rss} KiB, peak {peak} KiB (target: idle < {TARGET_RSS_KIB} KiB)"
            );
            if idle_rss > TARGET_RSS_KIB || after_rss > TARGET_RSS_KIB {
                missed += 1;
            }
            drop(served);
            // With a translating backend the tokenizer's vocabulary is built at start.
            let config = dir.path().join("bench-binary-translated.toml");
            std::fs::write(
                &config,
                config_text(
                    fake_addr,
                    Some(openai_addr),
                    Some("SWITCHYARD_BENCH_UPSTREAM_KEY"),
                ),
            )?;
            let served = serve_binary(&bin, &config)?;
            std::thread::sleep(Duration::from_secs(2));
            let (translated_rss, _) = memory_kib(served.child.id())?;
            // One count_tokens request of the Claude-Code-sized body: the estimate runs in
            // full (nothing is cached yet) and its cache fills.
            client_rt.block_on(once(
                &client()?,
                &format!("http://{}/v1/messages/count_tokens", served.addr),
                translated_bodies.large.clone(),
                None,
            ))?;
            std::thread::sleep(Duration::from_secs(1));
            let (counted_rss, _) = memory_kib(served.child.id())?;
            println!(
                "switchyard serve RSS with an openai_chat backend (tokenizer built at start): idle {translated_rss} KiB, after a count_tokens request {counted_rss} KiB (target: < {TARGET_TRANSLATED_RSS_KIB} KiB)"
            );
            if translated_rss > TARGET_TRANSLATED_RSS_KIB || counted_rss > TARGET_TRANSLATED_RSS_KIB
            {
                missed += 1;
            }
            // The same process translating: the in-process rows above, as a separate process.
            let rows = run_cases(
                &client_rt,
                "serve-translated",
                Arc::new(Endpoints {
                    direct: format!("http://{openai_addr}/v1/chat/completions"),
                    gateway: format!("http://{}/v1/messages", served.addr),
                    direct_end: openai_fake::DONE,
                }),
                &translated_bodies,
                &all_cases(),
            )?;
            print_table(
                "Added latency, release `switchyard serve` process (translated to OpenAI Chat Completions):",
                &rows,
            );
            missed += rows
                .iter()
                .filter(|r| r.label.contains("CC-sized") && r.added[0] > TARGET_TRANSLATED_P50_US)
                .count();
            drop(served);
        }
    }
    println!(
        "\ntargets: pass-through p50 added latency < {TARGET_P50_US:.0} µs at concurrency 1, translated CC-sized p50 < {TARGET_TRANSLATED_P50_US:.0} µs at concurrency 1 and 16, a cache hit on the CC-sized body answered in < {TARGET_CACHE_HIT_US:.0} µs (p50), idle RSS < {} MiB (< {} MiB with a translating backend): {}",
        TARGET_RSS_KIB / 1024,
        TARGET_TRANSLATED_RSS_KIB / 1024,
        if missed == 0 {
            "met".to_owned()
        } else {
            format!("{missed} missed")
        }
    );
    drop(fake_rt);
    Ok(())
}
