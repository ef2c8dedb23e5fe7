//! The soak test (`make soak`, scripts/soak.sh): the release `switchyard serve` under minutes
//! of load, with a pass-through backend to the fake Anthropic upstream (crates/fake-upstream,
//! run inside this process).
//!
//! - Phase 1: `SOAK_CLIENTS` (256) streaming clients for `SOAK_SECS` (60 s), each sending one
//!   request after another. Every answer must be whole and well-formed.
//! - Phase 2: the same for `SOAK_FAIL_SECS` (default half of `SOAK_SECS`), but a third of the
//!   requests ask the fake to die mid-stream (`fake_upstream::script::CUT_MARKER`). Each of
//!   those clients must get a well-formed `error` event as the stream's last event, the
//!   others a whole answer.
//! - Then SIGTERM: `serve` must exit cleanly, and every request must be in the usage history
//!   (the SQLite file, read with `UsageStore`) exactly once, as an error exactly when it was
//!   cut.
//!
//! The RSS of the `serve` process (VmRSS in /proc/PID/status) is sampled every 100 ms:
//! before the load, its peak in each phase, and after each phase. Only loopback is used; the
//! child is stopped by its PID (SIGTERM, then killed if it is still there when dropped).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use switchyard_core::sse::SseDecoder;
use switchyard_core::usage::{DB_FILE_NAME, Filter, RequestStatus, UsageStore};

const TOKEN: &str = "sy-soak-token-0123456789abcdef0123456789abcdef";

/// What the run is asked to do (from the environment).
struct Settings {
    clients: usize,
    load: Duration,
    fail_load: Duration,
    bin: PathBuf,
}

fn env_f64(name: &str, default: f64) -> Result<f64> {
    match std::env::var(name) {
        Ok(v) => v
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .with_context(|| format!("{name}={v:?} is not a number of seconds or clients")),
        Err(_) => Ok(default),
    }
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let secs = env_f64("SOAK_SECS", 60.0)?;
        let fail_secs = env_f64("SOAK_FAIL_SECS", secs / 2.0)?;
        let clients = env_f64("SOAK_CLIENTS", 256.0)? as usize;
        if clients == 0 {
            bail!("SOAK_CLIENTS must be at least 1");
        }
        let bin = match std::env::var_os("SWITCHYARD_BIN") {
            Some(bin) => PathBuf::from(bin),
            // target/release/examples/soak → target/release/switchyard
            None => std::env::current_exe()?
                .parent()
                .and_then(Path::parent)
                .map(|dir| dir.join("switchyard"))
                .context("cannot tell where the switchyard binary is: set SWITCHYARD_BIN")?,
        };
        if !bin.is_file() {
            bail!(
                "{} does not exist: build it (cargo build --release -p switchyard-cli) or set SWITCHYARD_BIN",
                bin.display()
            );
        }
        Ok(Settings {
            clients,
            load: Duration::from_secs_f64(secs),
            fail_load: Duration::from_secs_f64(fail_secs),
            bin,
        })
    }
}

/// A `switchyard serve` child; killed by its PID when dropped, if still running.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start_serve(bin: &Path, dir: &Path, upstream: std::net::SocketAddr) -> Result<Served> {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nactive_profile = \"soak\"\n\n[[backends]]\nid = \"fake\"\nkind = \"anthropic\"\nbase_url = \"http://{upstream}\"\napi_key_env = \"SOAK_UPSTREAM_KEY\"\n\n[profiles.soak]\ndefault = {{ backend = \"fake\" }}\n"
        ),
    )?;
    let log = std::fs::File::create(dir.join("serve.log"))?;
    let mut child = Command::new(bin)
        .args(["serve", "--config"])
        .arg(&config)
        .env("SWITCHYARD_DATA_DIR", dir.join("data"))
        .env("SWITCHYARD_TOKEN", TOKEN)
        .env("SOAK_UPSTREAM_KEY", "sk-soak")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let stdout = child.stdout.take().context("no stdout")?;
    // `served` kills the child if anything below fails.
    let mut served = Served {
        child,
        addr: String::new(),
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().context("switchyard serve printed nothing")??;
    // Keep reading (and discarding) so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    served.addr = first
        .strip_prefix("listening on http://")
        .with_context(|| format!("unexpected first line: {first}"))?
        .to_owned();
    Ok(served)
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Samples the RSS every 100 ms; `peak` is the largest since the last `take_peak`.
struct RssSampler {
    current: Arc<AtomicU64>,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let sampler = RssSampler {
            current: Arc::default(),
            peak: Arc::default(),
            stop: Arc::default(),
        };
        let (current, peak, stop) = (
            sampler.current.clone(),
            sampler.peak.clone(),
            sampler.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kib(pid) {
                    current.store(rss, Ordering::Relaxed);
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        sampler
    }

    fn current(&self) -> u64 {
        self.current.load(Ordering::Relaxed)
    }

    fn take_peak(&self) -> u64 {
        self.peak.swap(self.current(), Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What a request must end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A whole answer: `message_start` … `message_stop`.
    Whole,
    /// The upstream dies mid-stream: `message_start` … then an `error` event, last.
    Cut,
}

/// What the client got.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Whole,
    /// The error event's `type: message`.
    ErrorEvent(String),
    Problem(String),
}

/// One finished request.
struct Done {
    session: String,
    expect: Expect,
    seen: Seen,
    took: Duration,
}

/// The stream's events, checked: Anthropic's shape and order, ending in `message_stop` or
/// in one `error` event.
fn judge(events: &[(String, String)]) -> Seen {
    let problem = |what: String| Seen::Problem(what);
    let Some((first, _)) = events.first() else {
        return problem("no event".to_owned());
    };
    if first != "message_start" {
        return problem(format!("first event {first}"));
    }
    let mut open: Option<u64> = None;
    let mut next_index = 0;
    let mut saw_delta = false;
    for (i, (name, data)) in events.iter().enumerate() {
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return problem(format!("event {i} ({name}) is not JSON: {data}"));
        };
        if value["type"] != name.as_str() {
            return problem(format!("event {i} is {name} but says {}", value["type"]));
        }
        let last = i + 1 == events.len();
        match name.as_str() {
            "message_start" if i > 0 => return problem(format!("message_start at {i}")),
            "content_block_start" => {
                let index = value["index"].as_u64();
                if open.is_some() || index != Some(next_index) {
                    return problem(format!(
                        "block {index:?} started at {i}, expected {next_index}"
                    ));
                }
                open = index;
                next_index += 1;
            }
            "content_block_delta" if value["index"].as_u64() != open || open.is_none() => {
                return problem(format!("delta outside its block at {i}"));
            }
            "content_block_stop" => {
                if value["index"].as_u64() != open || open.is_none() {
                    return problem(format!("stop of a block not open at {i}"));
                }
                open = None;
            }
            "message_delta" => {
                if open.is_some() {
                    return problem(format!("message_delta with a block open at {i}"));
                }
                saw_delta = true;
            }
            "message_stop" => {
                return if !last {
                    problem(format!("events after message_stop (at {i})"))
                } else if !saw_delta {
                    problem("message_stop without message_delta".to_owned())
                } else {
                    Seen::Whole
                };
            }
            "error" => {
                let error = &value["error"];
                return if !last {
                    problem(format!("events after the error event (at {i})"))
                } else if !error["type"].is_string() || !error["message"].is_string() {
                    problem(format!("a malformed error event: {data}"))
                } else {
                    Seen::ErrorEvent(format!(
                        "{}: {}",
                        error["type"].as_str().unwrap_or_default(),
                        error["message"].as_str().unwrap_or_default()
                    ))
                };
            }
            _ => {}
        }
    }
    problem("the stream ended without message_stop or error".to_owned())
}

/// One streamed request tagged with `session` (it lands in the usage row), read to its end.
async fn request(client: &reqwest::Client, url: &str, session: &str, expect: Expect) -> Seen {
    let marker = match expect {
        Expect::Whole => "",
        Expect::Cut => fake_upstream::script::CUT_MARKER,
    };
    let body = serde_json::json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": true,
        "messages": [{"role": "user", "content": format!("hello from {session} {marker}")}],
    });
    let sent = client
        .post(url)
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .header("x-claude-code-session-id", session)
        .json(&body)
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(err) => return Seen::Problem(format!("send: {err}")),
    };
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Seen::Problem(format!("status {status}: {}", text.trim()));
    }
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => match decoder.feed(&chunk) {
                Ok(more) => events.extend(more.into_iter().map(|e| (e.event, e.data))),
                Err(err) => return Seen::Problem(format!("SSE: {err}")),
            },
            Ok(None) => break,
            Err(err) => return Seen::Problem(format!("body: {err}")),
        }
    }
    match decoder.finish() {
        Ok(more) => events.extend(more.into_iter().map(|e| (e.event, e.data))),
        Err(err) => return Seen::Problem(format!("SSE: {err}")),
    }
    judge(&events)
}

/// `clients` clients, each sending requests one after the other until `load` has passed;
/// with `cut`, every third request (by client and sequence) asks the upstream to die.
async fn phase(
    client: reqwest::Client,
    url: Arc<str>,
    name: &'static str,
    clients: usize,
    load: Duration,
    cut: bool,
) -> Vec<Done> {
    let deadline = Instant::now() + load;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                let mut i = 0usize;
                while Instant::now() < deadline {
                    let session = format!("soak-{name}-{c}-{i}");
                    let expect = if cut && (c + i).is_multiple_of(3) {
                        Expect::Cut
                    } else {
                        Expect::Whole
                    };
                    let start = Instant::now();
                    let seen = request(&client, &url, &session, expect).await;
                    done.push(Done {
                        session,
                        expect,
                        seen,
                        took: start.elapsed(),
                    });
                    i += 1;
                }
                done
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        match task.await {
            Ok(done) => all.extend(done),
            Err(err) => all.push(Done {
                session: String::new(),
                expect: Expect::Whole,
                seen: Seen::Problem(format!("client task: {err}")),
                took: Duration::ZERO,
            }),
        }
    }
    all
}

fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The phase's line of the summary, and its failures.
fn report(name: &str, done: &[Done], took: Duration, failures: &mut Vec<String>) -> String {
    let mut wrong = 0;
    for d in done {
        let fine = matches!(
            (d.expect, &d.seen),
            (Expect::Whole, Seen::Whole) | (Expect::Cut, Seen::ErrorEvent(_))
        );
        if !fine {
            wrong += 1;
            if failures.len() < 20 {
                failures.push(format!(
                    "{name}: {} expected {:?}, got {:?}",
                    d.session, d.expect, d.seen
                ));
            }
        }
    }
    let cut = done.iter().filter(|d| d.expect == Expect::Cut).count();
    let errors: Vec<&str> = done
        .iter()
        .filter_map(|d| match &d.seen {
            Seen::ErrorEvent(error) => Some(error.as_str()),
            _ => None,
        })
        .collect();
    let mut kinds: Vec<&str> = errors.clone();
    kinds.sort_unstable();
    kinds.dedup();
    let mut times: Vec<Duration> = done.iter().map(|d| d.took).collect();
    times.sort_unstable();
    format!(
        "{name}: {} requests in {:.1} s ({:.0}/s), {cut} cut by the upstream, {} error events received{}, {wrong} wrong; request time p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        done.len(),
        took.as_secs_f64(),
        done.len() as f64 / took.as_secs_f64().max(1e-9),
        errors.len(),
        if kinds.is_empty() {
            String::new()
        } else {
            format!(" ({})", kinds.join(" | "))
        },
        percentile_ms(&times, 0.5),
        percentile_ms(&times, 0.99),
        percentile_ms(&times, 1.0),
    )
}

/// Every row of the usage history, by session id: (status, how many rows).
fn stored_rows(db: &Path) -> Result<HashMap<String, (RequestStatus, u32)>> {
    let store = UsageStore::open(db).with_context(|| format!("open {}", db.display()))?;
    let mut rows: HashMap<String, (RequestStatus, u32)> = HashMap::new();
    let mut before = None;
    loop {
        let page = store.page_by_id(&Filter::default(), before, 10_000)?;
        let Some(last) = page.last() else { break };
        before = last.id;
        for row in page {
            let entry = rows
                .entry(row.session_id.unwrap_or_default())
                .or_insert((row.status, 0));
            entry.0 = row.status;
            entry.1 += 1;
        }
    }
    Ok(rows)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn get_text(client: &reqwest::Client, url: &str) -> Result<String> {
    Ok(client
        .get(url)
        .header("x-api-key", TOKEN)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

fn run() -> Result<bool> {
    let settings = Settings::from_env()?;
    let dir = tempfile::tempdir()?;
    // The upstream and the clients get one worker thread each; `serve` keeps its own
    // defaults. On two cores that is already more threads than CPUs.
    let upstream_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("soak-upstream")
        .enable_all()
        .build()?;
    let listener = upstream_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let upstream = listener.local_addr()?;
    upstream_rt.spawn(fake_upstream::serve(
        listener,
        fake_upstream::Options::default(),
    ));
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("soak-clients")
        .enable_all()
        .build()?;

    let mut served = start_serve(&settings.bin, dir.path(), upstream)?;
    let pid = served.child.id();
    let sampler = RssSampler::start(pid);
    std::thread::sleep(Duration::from_secs(1));
    let rss_before = sampler.take_peak();
    let url: Arc<str> = format!("http://{}/v1/messages", served.addr).into();
    let client = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(settings.clients)
        .timeout(Duration::from_secs(120))
        .build()?;
    println!(
        "switchyard soak: {} streaming clients through {} (pid {pid}), pass-through to fake-upstream; {} CPUs",
        settings.clients,
        settings.bin.display(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let mut failures = Vec::new();
    let mut lines = Vec::new();
    let mut sent: Vec<Done> = Vec::new();
    let mut rss = Vec::new();
    for (name, load, cut) in [
        ("phase 1, whole answers", settings.load, false),
        (
            "phase 2, upstream dies mid-stream for 1 request in 3",
            settings.fail_load,
            true,
        ),
    ] {
        if load.is_zero() {
            continue;
        }
        let tag = if cut { "cut" } else { "whole" };
        let start = Instant::now();
        let done = client_rt.block_on(phase(
            client.clone(),
            url.clone(),
            tag,
            settings.clients,
            load,
            cut,
        ));
        let took = start.elapsed();
        let peak = sampler.take_peak();
        // Idle for two seconds: what the process keeps once the load is gone.
        std::thread::sleep(Duration::from_secs(2));
        let after = sampler.current();
        sampler.take_peak();
        lines.push(report(name, &done, took, &mut failures));
        rss.push((name, peak, after));
        sent.extend(done);
    }
    let hwm = memory_kib(pid).map_or(0, |(_, hwm)| hwm);
    drop(sampler);

    // What the gateway and the fake counted, before the gateway stops.
    let metrics = client_rt
        .block_on(get_text(
            &client,
            &format!("http://{}/metrics", served.addr),
        ))
        .unwrap_or_default();
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("switchyard_usage_rows_dropped_total "))
        .unwrap_or("?")
        .to_owned();
    let stats: Value = client_rt
        .block_on(get_text(
            &client,
            &format!("http://{upstream}/__fake/stats"),
        ))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let cut_sent = sent.iter().filter(|d| d.expect == Expect::Cut).count() as u64;
    if stats["cut_streams"].as_u64() != Some(cut_sent) {
        failures.push(format!(
            "the fake cut {} streams, the clients asked for {cut_sent}",
            stats["cut_streams"]
        ));
    }
    if dropped != "0" {
        failures.push(format!("usage rows dropped: {dropped}"));
    }

    // SIGTERM, by PID: every finished request must be written before `serve` exits.
    let term_start = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    if !killed.success() {
        bail!("kill -TERM {pid} failed");
    }
    let exit = loop {
        if let Some(status) = served.child.try_wait()? {
            break status;
        }
        if term_start.elapsed() > Duration::from_secs(30) {
            bail!("switchyard serve did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let term_took = term_start.elapsed();
    if !exit.success() {
        failures.push(format!("switchyard serve exited with {exit} after SIGTERM"));
    }

    let rows = stored_rows(&dir.path().join("data").join(DB_FILE_NAME))?;
    let stored: u32 = rows.values().map(|(_, n)| n).sum();
    let (mut missing, mut doubled, mut wrong_status) = (0, 0, 0);
    for d in &sent {
        let expected = match d.expect {
            Expect::Whole => RequestStatus::Ok,
            Expect::Cut => RequestStatus::Error,
        };
        match rows.get(&d.session) {
            None => missing += 1,
            Some((_, n)) if *n > 1 => doubled += 1,
            Some((status, _)) if *status != expected => {
                wrong_status += 1;
                if failures.len() < 40 {
                    failures.push(format!(
                        "{} is stored as {status:?}, expected {expected:?}",
                        d.session
                    ));
                }
            }
            Some(_) => {}
        }
    }
    let strangers = stored as usize - sent.len().min(stored as usize);
    if missing + doubled + wrong_status > 0 || stored as usize != sent.len() {
        failures.push(format!(
            "usage history: {stored} rows for {} requests: {missing} missing, {doubled} stored twice, {wrong_status} with the wrong status",
            sent.len()
        ));
    }
    let serve_log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();

    let mut out = String::new();
    for line in &lines {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  usage history after SIGTERM: {stored} rows for {} requests; missing {missing}, stored twice {doubled}, wrong status {wrong_status}, rows of no request {strangers}; rows dropped (/metrics) {dropped}",
        sent.len()
    );
    let _ = writeln!(
        out,
        "  fake upstream: {} messages, {} streams cut mid-answer",
        stats["messages"], stats["cut_streams"]
    );
    let _ = write!(
        out,
        "  RSS of switchyard serve: before the load {}",
        mib(rss_before)
    );
    for (name, peak, after) in &rss {
        let short = name.split(',').next().unwrap_or(name);
        let _ = write!(
            out,
            "; {short}: peak {}, 2 s after {}",
            mib(*peak),
            mib(*after)
        );
    }
    let _ = writeln!(out, "; VmHWM {}", mib(hwm));
    let _ = writeln!(
        out,
        "  SIGTERM: exited in {:.2} s with {exit}; serve's log (RUST_LOG=warn): {} lines",
        term_took.as_secs_f64(),
        serve_log.lines().count()
    );
    println!("\n================ make soak summary ================\n{out}");
    if failures.is_empty() {
        println!("soak: passed");
        Ok(true)
    } else {
        println!("soak: FAILED");
        for f in &failures {
            println!("  - {f}");
        }
        if !serve_log.is_empty() {
            println!("serve's log, last lines:");
            for line in serve_log
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                println!("  {line}");
            }
        }
        Ok(false)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("soak: {err:#}");
            ExitCode::from(2)
        }
    }
}
