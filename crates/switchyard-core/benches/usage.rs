//! Usage history speed: sustained writer throughput with batching, and the GUI's queries over
//! 1,000,000 rows. Run: `cargo bench -p switchyard-core --bench usage`.
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_core::anthropic::Usage;
use switchyard_core::budget::SpendTotals;
use switchyard_core::metrics::Metrics;
use switchyard_core::pricing::PriceTable;
use switchyard_core::usage::{
    Bucket, DB_FILE_NAME, Filter, GroupBy, PricedRecord, Pricer, RequestStatus, UsageRecord,
    UsageSink, UsageStore, UsageWriter, WriterOptions,
};

const MODELS: &[&str] = &[
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-5-20251101",
    "claude-haiku-4-5-20251001",
    "claude-sonnet-4-20250514",
    "claude-opus-4-1-20250805",
    "claude-3-5-haiku-20241022",
    "claude-sonnet-4-6",
    "claude-opus-4-6",
];
const BACKENDS: &[&str] = &["anthropic", "ollama", "deepseek", "openrouter", "vllm"];
const PROFILES: &[&str] = &["local", "cloud", "mixed"];

fn record(i: u64, at_ms: i64) -> UsageRecord {
    let n = i as usize;
    let failed = i.is_multiple_of(50);
    UsageRecord {
        started_at_ms: at_ms,
        client: Some("claude-cli/2.0.31 (external, cli)".into()),
        session_id: Some(format!("session-{}", i / 50)),
        agent_id: None,
        parent_agent_id: None,
        requested_model: MODELS[n % MODELS.len()].into(),
        profile: PROFILES[n % PROFILES.len()].into(),
        backend: Some(BACKENDS[n % BACKENDS.len()].into()),
        backend_kind: Some("openai_chat".into()),
        upstream_model: Some("qwen3-coder:30b".into()),
        stream: true,
        status: if failed {
            RequestStatus::Error
        } else {
            RequestStatus::Ok
        },
        http_status: if failed { 500 } else { 200 },
        error_type: failed.then(|| "api_error".into()),
        error_message: failed.then(|| "upstream went away".into()),
        usage: Usage {
            input_tokens: 1000 + i % 5000,
            output_tokens: 200 + i % 800,
            cache_creation_input_tokens: i % 300,
            cache_read_input_tokens: 20_000 + i % 10_000,
        },
        ttft_ms: Some(300 + i % 700),
        latency_ms: 2000 + i % 9000,
        attempts: 1,
        rule: None,
        notes: None,
        cache_hit: false,
        key_name: None,
        capture_id: None,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn writer_throughput(dir: &std::path::Path) {
    let rows: u64 = 300_000;
    let options = WriterOptions::default();
    let half_queue = (options.queue / 2) as u64;
    let writer = UsageWriter::start(
        UsageStore::open(&dir.join("writer.sqlite3")).unwrap(),
        options.clone(),
        Pricer::new(
            PriceTable::with_overrides(&Default::default()),
            BACKENDS
                .iter()
                .map(|b| ((*b).to_owned(), *b == "ollama"))
                .collect(),
        ),
        Arc::new(Metrics::default()),
        Arc::new(SpendTotals::default()),
    )
    .unwrap();
    let now = now_ms();
    let started = Instant::now();
    let mut sent = 0;
    while sent < rows {
        // Sustained load: keep the queue half full rather than overflowing it.
        if sent - writer.committed_rows() < half_queue {
            writer.record(record(sent, now + sent as i64));
            sent += 1;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    writer.shutdown();
    let elapsed = started.elapsed();
    println!(
        "writer: {rows} rows in {:.2} s = {:.0} rows/s (batch ≤ {} rows / {} ms, queue {}), dropped {}",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        options.batch_rows,
        options.batch_interval.as_millis(),
        options.queue,
        writer.dropped_rows()
    );
}

fn fill(store: &mut UsageStore, rows: u64, pricer: &Pricer) -> i64 {
    // 1M requests over the last 90 days.
    let now = now_ms();
    let span = 90 * 86_400_000i64;
    let step = span / rows as i64;
    let start = now - span;
    let started = Instant::now();
    let mut batch: Vec<PricedRecord> = Vec::with_capacity(10_000);
    for i in 0..rows {
        batch.push(pricer.price(record(i, start + i as i64 * step)));
        if batch.len() == 10_000 {
            store.insert(&batch).unwrap();
            batch.clear();
        }
    }
    store.insert(&batch).unwrap();
    println!(
        "filled {rows} rows (direct batched inserts of 10,000) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    now
}

fn time<T>(label: &str, runs: usize, mut f: impl FnMut() -> T) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{label:<52} median {:>7.2} ms   max {:>7.2} ms   ({runs} runs)",
        times[runs / 2].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3
    );
}

fn queries(dir: &std::path::Path) {
    let path = dir.join(DB_FILE_NAME);
    let pricer = Pricer::new(
        PriceTable::with_overrides(&Default::default()),
        BACKENDS
            .iter()
            .map(|b| ((*b).to_owned(), *b == "ollama"))
            .collect(),
    );
    let mut store = UsageStore::open(&path).unwrap();
    let now = fill(&mut store, 1_000_000, &pricer);
    drop(store);
    let store = UsageStore::open_read_only(&path).unwrap();
    let last_30_days = Filter {
        since_ms: Some(now - 30 * 86_400_000),
        ..Filter::default()
    };
    let all = Filter::default();
    let runs = 21;
    time("daily totals by model, last 30 days", runs, || {
        store
            .series(&last_30_days, Bucket::Day, Some(GroupBy::Model))
            .unwrap()
    });
    time("daily totals by model, all 90 days", runs, || {
        store
            .series(&all, Bucket::Day, Some(GroupBy::Model))
            .unwrap()
    });
    time("hourly totals, last 30 days", runs, || {
        store.series(&last_30_days, Bucket::Hour, None).unwrap()
    });
    time("totals by backend, all", runs, || {
        store.by(&all, GroupBy::Backend).unwrap()
    });
    time("local vs cloud savings, all", runs, || {
        store.savings(&all).unwrap()
    });
    time("last 100 requests", runs, || {
        store.recent(&all, 100, 0).unwrap()
    });
    let one_model = Filter {
        model: Some(MODELS[2].into()),
        ..Filter::default()
    };
    time("last 100 requests of one model", runs, || {
        store.recent(&one_model, 100, 0).unwrap()
    });
    let errors = Filter {
        status: Some(RequestStatus::Error),
        ..Filter::default()
    };
    time("last 100 errors", runs, || {
        store.recent(&errors, 100, 0).unwrap()
    });
    time("requests 10,000-10,100 (page 101)", runs, || {
        store.recent(&all, 100, 10_000).unwrap()
    });
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "database: {:.0} MiB for 1,000,000 rows",
        size as f64 / 1048576.0
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let dir = tempfile::tempdir().unwrap();
    writer_throughput(dir.path());
    queries(dir.path());
}
