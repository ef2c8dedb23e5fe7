//! The usage store, writer, pricing and queries on a hand-made dataset. Expected figures are
//! worked out by hand in the comments, from the bundled prices (USD per million tokens).
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use switchyard_core::anthropic::Usage;
use switchyard_core::budget::SpendTotals;
use switchyard_core::config::{Config, parse};
use switchyard_core::metrics::Metrics;
use switchyard_core::usage::{
    Bucket, DB_FILE_NAME, Filter, GroupBy, Pricer, RequestStatus, SCHEMA_VERSION, UsageError,
    UsageRecord, UsageSink, UsageStore, UsageWriter, WriterOptions, write_csv,
};

/// 2026-11-01T00:00:00Z.
const H0: i64 = 1_793_491_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

const CONFIG: &str = r#"
active_profile = "cloud"
[[backends]]
id = "anthropic"
kind = "anthropic"
base_url = "https://api.anthropic.com"
[[backends]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
[[backends]]
id = "deepseek"
kind = "openai_chat"
base_url = "https://api.deepseek.com/v1"
[[backends]]
id = "openrouter"
kind = "openai_chat"
base_url = "https://openrouter.ai/api/v1"
[profiles.cloud]
default = { backend = "anthropic" }
[profiles.local]
default = { backend = "ollama" }
"#;

fn config() -> Config {
    parse(CONFIG, Path::new("t.toml")).unwrap()
}

#[expect(clippy::too_many_arguments, reason = "one row of the dataset per call")]
fn record(
    at: i64,
    model: &str,
    profile: &str,
    backend: &str,
    upstream: &str,
    status: RequestStatus,
    (input, output, cache_read, cache_write): (u64, u64, u64, u64),
    latency_ms: u64,
) -> UsageRecord {
    UsageRecord {
        started_at_ms: at,
        client: Some("claude-cli/2.0".into()),
        session_id: Some("s-1".into()),
        agent_id: None,
        parent_agent_id: None,
        requested_model: model.into(),
        profile: profile.into(),
        backend: Some(backend.into()),
        backend_kind: Some("anthropic".into()),
        upstream_model: Some(upstream.into()),
        stream: true,
        status,
        http_status: if status == RequestStatus::Error {
            500
        } else {
            200
        },
        error_type: (status == RequestStatus::Error).then(|| "api_error".into()),
        error_message: (status == RequestStatus::Error).then(|| "boom".into()),
        usage: Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_input_tokens: cache_read,
            cache_creation_input_tokens: cache_write,
        },
        ttft_ms: Some(100),
        latency_ms,
        attempts: 1,
        rule: None,
        notes: None,
        cache_hit: false,
        key_name: None,
        capture_id: None,
    }
}

/// The dataset:
/// 1. Nov 1 00:10, sonnet via anthropic (cloud), 1000 in / 500 out / 2000 cache read / 400
///    cache write: 1000×3 + 500×15 + 2000×0.30 + 400×3.75 = 12600 µ$ = $0.0126 (same
///    cloud-equivalent, saved 0).
/// 2. Nov 1 00:20, sonnet via ollama (local), 10000 in / 1000 out: cost 0, equivalent
///    10000×3 + 1000×15 = $0.045, saved $0.045.
/// 3. Nov 2 00:05, haiku via deepseek-chat (cloud), 1M in / 100k out: cost 0.28 + 0.042 =
///    $0.322; equivalent (haiku) 1.0 + 0.5 = $1.5; saved $1.178.
/// 4. Nov 2 02:00, haiku via openrouter "mystery/model-x" (no price), error, 50 in: cost
///    unknown; equivalent 50×1 = $0.00005; no saving counted.
/// 5. Nov 2 02:01, sonnet via ollama, cancelled, 200 in / 10 out: cost 0, equivalent
///    200×3 + 10×15 = $0.00075, saved $0.00075.
fn dataset() -> Vec<UsageRecord> {
    use RequestStatus::*;
    vec![
        record(
            H0 + 10 * MIN,
            "claude-sonnet-4-5",
            "cloud",
            "anthropic",
            "claude-sonnet-4-5-20250929",
            Ok,
            (1000, 500, 2000, 400),
            1000,
        ),
        record(
            H0 + 20 * MIN,
            "claude-sonnet-4-5",
            "local",
            "ollama",
            "qwen3-coder:30b",
            Ok,
            (10_000, 1000, 0, 0),
            3000,
        ),
        record(
            H0 + DAY + 5 * MIN,
            "claude-haiku-4-5",
            "cloud",
            "deepseek",
            "deepseek-chat",
            Ok,
            (1_000_000, 100_000, 0, 0),
            2000,
        ),
        record(
            H0 + DAY + 2 * HOUR,
            "claude-haiku-4-5",
            "cloud",
            "openrouter",
            "mystery/model-x",
            Error,
            (50, 0, 0, 0),
            500,
        ),
        record(
            H0 + DAY + 2 * HOUR + MIN,
            "claude-sonnet-4-5",
            "local",
            "ollama",
            "qwen3-coder:30b",
            Cancelled,
            (200, 10, 0, 0),
            400,
        ),
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(close(actual, expected), "{what}: {actual} != {expected}");
}

fn writer_for(
    path: &Path,
    options: WriterOptions,
) -> (Arc<UsageWriter>, Arc<Metrics>, Arc<SpendTotals>) {
    let metrics = Arc::new(Metrics::default());
    let spend = Arc::new(SpendTotals::default());
    let writer = UsageWriter::start(
        UsageStore::open(path).unwrap(),
        options,
        Pricer::from_config(&config()),
        metrics.clone(),
        spend.clone(),
    )
    .unwrap();
    (writer, metrics, spend)
}

/// A store holding the dataset, written through the writer (which prices the rows).
fn loaded(dir: &Path) -> UsageStore {
    let path = dir.join(DB_FILE_NAME);
    let (writer, _, _) = writer_for(&path, WriterOptions::default());
    for r in dataset() {
        writer.record(r);
    }
    writer.shutdown();
    UsageStore::open_read_only(&path).unwrap()
}

#[test]
fn rows_are_priced_cloud_local_unknown_and_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path());
    let mut rows = store.recent(&Filter::default(), 10, 0).unwrap();
    rows.reverse();
    assert_eq!(rows.len(), 5);
    // Cloud, cache tokens priced at their own rates.
    assert_close(rows[0].cost_usd.unwrap(), 0.0126, "anthropic cost");
    assert_close(
        rows[0].cloud_equiv_usd.unwrap(),
        0.0126,
        "anthropic equivalent",
    );
    assert!(!rows[0].local);
    // Local: free, priced as the requested Claude model.
    assert!(rows[1].local);
    assert_eq!(rows[1].cost_usd, Some(0.0));
    assert_close(rows[1].cloud_equiv_usd.unwrap(), 0.045, "local equivalent");
    // Another cloud at its own price.
    assert_close(rows[2].cost_usd.unwrap(), 0.322, "deepseek cost");
    assert_close(rows[2].cloud_equiv_usd.unwrap(), 1.5, "haiku equivalent");
    // Unknown price: NULL cost, tokens kept, error kept.
    assert_eq!(rows[3].cost_usd, None);
    assert_eq!(rows[3].input_tokens, 50);
    assert_eq!(rows[3].status, RequestStatus::Error);
    assert_eq!(rows[3].error_type.as_deref(), Some("api_error"));
    assert_eq!(rows[3].http_status, 500);
    assert_eq!(rows[4].status, RequestStatus::Cancelled);
    assert_eq!(rows[4].cache_read_tokens, 0);
    assert_eq!(rows[0].cache_read_tokens, 2000);
    assert_eq!(rows[0].cache_write_tokens, 400);
    assert_eq!(rows[0].session_id.as_deref(), Some("s-1"));
    assert_eq!(
        rows[0].upstream_model.as_deref(),
        Some("claude-sonnet-4-5-20250929")
    );
}

#[test]
fn aggregates_match_the_hand_computed_figures() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path());
    let all = Filter::default();

    let t = store.totals(&all).unwrap();
    assert_eq!(
        (t.requests, t.errors, t.cancelled, t.unpriced),
        (5, 1, 1, 1)
    );
    assert_eq!(t.input_tokens, 1000 + 10_000 + 1_000_000 + 50 + 200);
    assert_eq!(t.output_tokens, 500 + 1000 + 100_000 + 10);
    assert_eq!((t.cache_read_tokens, t.cache_write_tokens), (2000, 400));
    assert_close(t.cost_usd, 0.3346, "total cost");
    assert_close(t.cloud_equiv_usd, 1.5584, "total equivalent");
    assert_close(t.saved_usd, 1.22375, "total saved");
    assert_close(t.avg_latency_ms, 1380.0, "average latency");

    let by_model = store.by(&all, GroupBy::Model).unwrap();
    let keys: Vec<_> = by_model
        .iter()
        .map(|g| (g.key.as_str(), g.totals.requests))
        .collect();
    assert_eq!(keys, [("claude-haiku-4-5", 2), ("claude-sonnet-4-5", 3)]);
    assert_close(by_model[0].totals.cost_usd, 0.322, "haiku cost");
    assert_close(by_model[1].totals.cost_usd, 0.0126, "sonnet cost");

    let by_backend = store.by(&all, GroupBy::Backend).unwrap();
    let keys: Vec<_> = by_backend
        .iter()
        .map(|g| (g.key.as_str(), g.totals.requests))
        .collect();
    assert_eq!(
        keys,
        [
            ("deepseek", 1),
            ("anthropic", 1),
            ("ollama", 2),
            ("openrouter", 1)
        ]
    );

    let by_profile = store.by(&all, GroupBy::Profile).unwrap();
    let keys: Vec<_> = by_profile
        .iter()
        .map(|g| (g.key.as_str(), g.totals.requests))
        .collect();
    assert_eq!(keys, [("cloud", 3), ("local", 2)]);

    let savings = store.savings(&all).unwrap();
    assert_eq!((savings.local.requests, savings.cloud.requests), (2, 3));
    assert_close(savings.local.cloud_equiv_usd, 0.04575, "local equivalent");
    assert_close(savings.cloud.cost_usd, 0.3346, "cloud cost");
    assert_close(savings.saved_usd, 1.22375, "saved");

    let daily = store.series(&all, Bucket::Day, None).unwrap();
    let points: Vec<_> = daily
        .iter()
        .map(|p| (p.start_ms, p.totals.requests))
        .collect();
    assert_eq!(points, [(H0, 2), (H0 + DAY, 3)]);
    assert_close(daily[1].totals.cost_usd, 0.322, "Nov 2 cost");

    let daily_by_model = store
        .series(&all, Bucket::Day, Some(GroupBy::Model))
        .unwrap();
    let points: Vec<_> = daily_by_model
        .iter()
        .map(|p| (p.start_ms, p.key.as_deref().unwrap(), p.totals.requests))
        .collect();
    assert_eq!(
        points,
        [
            (H0, "claude-sonnet-4-5", 2),
            (H0 + DAY, "claude-haiku-4-5", 2),
            (H0 + DAY, "claude-sonnet-4-5", 1)
        ]
    );

    let hourly = store.series(&all, Bucket::Hour, None).unwrap();
    let points: Vec<_> = hourly
        .iter()
        .map(|p| (p.start_ms, p.totals.requests))
        .collect();
    assert_eq!(points, [(H0, 2), (H0 + DAY, 1), (H0 + DAY + 2 * HOUR, 2)]);

    let nov2 = Filter {
        since_ms: Some(H0 + DAY),
        ..Filter::default()
    };
    let t = store.totals(&nov2).unwrap();
    assert_eq!(t.requests, 3);
    assert_close(t.cost_usd, 0.322, "Nov 2 cost");

    // A range with ragged ends: Nov 1 00:15 (its hour 00:00 counts) to Nov 2 02:00
    // (exclusive): rows 1, 2 and 3.
    let ragged = Filter {
        since_ms: Some(H0 + 15 * MIN),
        until_ms: Some(H0 + DAY + 2 * HOUR),
        ..Filter::default()
    };
    let t = store.totals(&ragged).unwrap();
    assert_eq!(t.requests, 3);
    assert_close(t.cost_usd, 0.3346, "ragged range cost");
    // Nov 1 01:00 to Nov 3: hour 00:00 of Nov 1 is out, all of Nov 2 (from the daily rollup)
    // is in.
    let from_1am = Filter {
        since_ms: Some(H0 + HOUR),
        until_ms: Some(H0 + 2 * DAY),
        ..Filter::default()
    };
    assert_eq!(store.totals(&from_1am).unwrap().requests, 3);
    let from_1am_by_model = store.by(&from_1am, GroupBy::Model).unwrap();
    let keys: Vec<_> = from_1am_by_model
        .iter()
        .map(|g| (g.key.as_str(), g.totals.requests))
        .collect();
    assert_eq!(keys, [("claude-haiku-4-5", 2), ("claude-sonnet-4-5", 1)]);

    let ollama = Filter {
        backend: Some("ollama".into()),
        ..Filter::default()
    };
    assert_eq!(store.totals(&ollama).unwrap().requests, 2);
    let errors = Filter {
        status: Some(RequestStatus::Error),
        ..Filter::default()
    };
    assert_eq!(store.totals(&errors).unwrap().requests, 1);
}

#[test]
fn recent_requests_are_paged_and_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path());
    let all = Filter::default();
    let page1 = store.recent(&all, 2, 0).unwrap();
    let page2 = store.recent(&all, 2, 2).unwrap();
    let page3 = store.recent(&all, 2, 4).unwrap();
    let times: Vec<_> = [page1, page2, page3]
        .iter()
        .flatten()
        .map(|r| r.started_at_ms)
        .collect();
    assert_eq!(
        times,
        [
            H0 + DAY + 2 * HOUR + MIN,
            H0 + DAY + 2 * HOUR,
            H0 + DAY + 5 * MIN,
            H0 + 20 * MIN,
            H0 + 10 * MIN
        ]
    );
    let sonnet_on_nov1 = Filter {
        model: Some("claude-sonnet-4-5".into()),
        until_ms: Some(H0 + DAY),
        ..Filter::default()
    };
    let rows = store.recent(&sonnet_on_nov1, 10, 0).unwrap();
    assert_eq!(rows.len(), 2);
    let cancelled = Filter {
        status: Some(RequestStatus::Cancelled),
        ..Filter::default()
    };
    assert_eq!(
        store.recent(&cancelled, 10, 0).unwrap()[0].input_tokens,
        200
    );
}

#[test]
fn csv_export_has_a_header_and_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path());
    let mut out = Vec::new();
    let n = write_csv(&store, &Filter::default(), &mut out).unwrap();
    assert_eq!(n, 5);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(
        lines[0],
        "Request ID,Started (UTC),Started (Unix ms),Client,Session ID,Agent ID,Parent agent ID,\
         Requested model,Profile,Backend,Backend kind,Upstream model,Streamed,Status,\
         HTTP status,Error type,Error message,Input tokens,Output tokens,Cache read tokens,\
         Cache write tokens,Time to first token (ms),Latency (ms),Cost (USD),\
         Cloud equivalent (USD),Local,Attempts,Rule,Notes,Cache hit,Key,Capture ID"
    );
    // Newest first; ISO 8601 UTC times beside Unix ms, status as text, and the unknown cost
    // an empty cell, not 0.
    assert_eq!(
        lines[2],
        "4,2026-11-02T02:00:00.000Z,1793584800000,claude-cli/2.0,s-1,,,claude-haiku-4-5,cloud,\
         openrouter,anthropic,mystery/model-x,yes,error,500,api_error,boom,50,0,0,0,100,500,,\
         0.000050,no,1,,,no,,"
    );
    // Costs rounded to 6 decimals.
    assert!(
        lines[3].starts_with("3,2026-11-02T00:05:00.000Z,1793577900000,"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with(",0.322000,1.500000,no,1,,,no,,"),
        "{}",
        lines[3]
    );

    let empty = tempfile::tempdir().unwrap();
    let (writer, _, _) = writer_for(&empty.path().join(DB_FILE_NAME), WriterOptions::default());
    writer.shutdown();
    let store = UsageStore::open_read_only(&empty.path().join(DB_FILE_NAME)).unwrap();
    let mut out = Vec::new();
    assert_eq!(write_csv(&store, &Filter::default(), &mut out).unwrap(), 0);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .starts_with("Request ID,Started (UTC),")
    );
}

#[test]
fn retention_deletes_old_rows_and_their_hours() {
    let dir = tempfile::tempdir().unwrap();
    drop(loaded(dir.path()));
    let mut store = UsageStore::open(&dir.path().join(DB_FILE_NAME)).unwrap();
    // Keep 1 day as of Nov 2 03:00 (cutoff Nov 1 03:00): Nov 1's two rows (00:10, 00:20) go;
    // Nov 1's daily total is rebuilt from its remaining hours (none).
    let deleted = store.apply_retention(1, H0 + DAY + 3 * HOUR).unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(store.recent(&Filter::default(), 10, 0).unwrap().len(), 3);
    assert_eq!(store.totals(&Filter::default()).unwrap().requests, 3);
    let hourly = store
        .series(&Filter::default(), Bucket::Hour, None)
        .unwrap();
    assert_eq!(hourly.iter().map(|p| p.totals.requests).sum::<u64>(), 3);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn the_writer_applies_retention_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    drop(loaded(dir.path()));
    // The dataset (1-2 November 2026) is more than a day old: it goes; a row from now stays.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (writer, _, _) = writer_for(
        &path,
        WriterOptions {
            retention_days: Some(1),
            ..WriterOptions::default()
        },
    );
    writer.record(record(
        now,
        "m",
        "p",
        "ollama",
        "m",
        RequestStatus::Ok,
        (1, 1, 0, 0),
        1,
    ));
    writer.shutdown();
    let store = UsageStore::open_read_only(&path).unwrap();
    let rows = store.recent(&Filter::default(), 10, 0).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].started_at_ms, now);
}

#[test]
fn writer_updates_spend_totals_and_cost_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let (writer, metrics, spend) = writer_for(&path, WriterOptions::default());
    for r in dataset() {
        writer.record(r);
    }
    writer.flush().unwrap();
    use switchyard_core::budget::{Period, Scope};
    // Nov 2: deepseek's $0.322 (the openrouter request has no price).
    let at = H0 + DAY + 3 * HOUR;
    assert_close(
        spend.spent(Period::Daily, Scope::Profile("cloud"), at),
        0.322,
        "daily cloud",
    );
    assert_close(
        spend.spent(Period::Monthly, Scope::Profile("cloud"), at),
        0.3346,
        "monthly cloud",
    );
    assert_close(
        spend.spent(Period::Monthly, Scope::Backend("anthropic"), at),
        0.0126,
        "monthly anthropic",
    );
    let text = metrics.render();
    assert!(
        text.contains("switchyard_cost_usd_total{backend=\"deepseek\"} 0.322"),
        "{text}"
    );
    writer.shutdown();
}

#[test]
fn spend_totals_are_seeded_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (writer, _, _) = writer_for(&path, WriterOptions::default());
    // 1M input tokens of sonnet on anthropic: $3.
    writer.record(record(
        now,
        "claude-sonnet-4-5",
        "cloud",
        "anthropic",
        "claude-sonnet-4-5",
        RequestStatus::Ok,
        (1_000_000, 0, 0, 0),
        10,
    ));
    writer.shutdown();
    let (writer, _, spend) = writer_for(&path, WriterOptions::default());
    use switchyard_core::budget::{Period, Scope};
    assert_close(
        spend.spent(Period::Daily, Scope::Backend("anthropic"), now),
        3.0,
        "seeded",
    );
    writer.shutdown();
}

#[test]
fn a_full_queue_drops_and_counts_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let (writer, metrics, _) = writer_for(
        &path,
        WriterOptions {
            queue: 4,
            batch_rows: 1,
            batch_interval: Duration::from_millis(10),
            retention_days: None,
        },
    );
    // Another connection holds the write lock: the writer blocks on its first commit.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let row = || {
        record(
            H0,
            "m",
            "p",
            "ollama",
            "m",
            RequestStatus::Ok,
            (1, 1, 0, 0),
            1,
        )
    };
    writer.record(row());
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..50 {
        writer.record(row());
    }
    blocker.execute_batch("COMMIT").unwrap();
    writer.flush().unwrap();
    let stored = UsageStore::open_read_only(&path)
        .unwrap()
        .recent(&Filter::default(), 100, 0)
        .unwrap()
        .len() as u64;
    let dropped = writer.dropped_rows();
    assert_eq!(stored + dropped, 51, "every row is stored or counted");
    assert!(
        dropped >= 45,
        "queue of 4 and one row in hand: {dropped} dropped"
    );
    assert!(
        metrics
            .render()
            .contains(&format!("switchyard_usage_rows_dropped_total {dropped}\n"))
    );
    writer.shutdown();
}

#[test]
fn graceful_shutdown_writes_everything_buffered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let (writer, _, _) = writer_for(
        &path,
        WriterOptions {
            batch_rows: 100_000,
            batch_interval: Duration::from_secs(3600),
            ..WriterOptions::default()
        },
    );
    for i in 0..5000 {
        writer.record(record(
            H0 + i,
            "m",
            "p",
            "ollama",
            "m",
            RequestStatus::Ok,
            (1, 1, 0, 0),
            1,
        ));
    }
    writer.shutdown();
    assert_eq!(writer.committed_rows(), 5000);
    assert_eq!(writer.dropped_rows(), 0);
    let store = UsageStore::open_read_only(&path).unwrap();
    assert_eq!(store.totals(&Filter::default()).unwrap().requests, 5000);
    assert_eq!(
        store.recent(&Filter::default(), 10_000, 0).unwrap().len(),
        5000
    );
    // The CSV export pages through all of them (5000 rows per page: the boundary case).
    let mut csv = Vec::new();
    assert_eq!(
        write_csv(&store, &Filter::default(), &mut csv).unwrap(),
        5000
    );
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 5001);
    // Later rows are counted as dropped, not lost silently.
    writer.record(record(
        H0,
        "m",
        "p",
        "ollama",
        "m",
        RequestStatus::Ok,
        (1, 1, 0, 0),
        1,
    ));
    assert_eq!(writer.dropped_rows(), 1);
}

// --- migrations ---

/// Version 1 of the schema as it shipped, written out by hand.
const V1_SCHEMA: &str = "
CREATE TABLE requests (
    id INTEGER PRIMARY KEY, started_at_ms INTEGER NOT NULL, client TEXT, session_id TEXT,
    requested_model TEXT NOT NULL, profile TEXT NOT NULL, backend TEXT, backend_kind TEXT,
    upstream_model TEXT, stream INTEGER NOT NULL, status TEXT NOT NULL,
    http_status INTEGER NOT NULL, error_type TEXT, error_message TEXT,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL, ttft_ms INTEGER,
    latency_ms INTEGER NOT NULL, cost_usd REAL, attempts INTEGER NOT NULL
);
CREATE INDEX requests_started ON requests(started_at_ms);
INSERT INTO requests VALUES (1, 1793491200000, 'cli', 's', 'claude-sonnet-4-5', 'cloud',
    'anthropic', 'anthropic', 'claude-sonnet-4-5', 1, 'ok', 200, NULL, NULL, 100, 20, 0, 0, 50,
    900, 0.0006, 1);
PRAGMA user_version = 1;
";

fn user_version(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_empty_file_is_created_at_the_current_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir").join(DB_FILE_NAME);
    let store = UsageStore::open(&path).unwrap();
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(user_version(&path), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 6);
    assert_eq!(store.totals(&Filter::default()).unwrap().requests, 0);
    // No backup for a new file.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".bak")), "{names:?}");
}

#[test]
fn a_version_1_file_is_backed_up_then_upgraded_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(V1_SCHEMA)
        .unwrap();
    let store = UsageStore::open(&path).unwrap();
    assert_eq!(user_version(&path), 6);

    let backup = dir.path().join(format!("{DB_FILE_NAME}.v1.bak"));
    assert!(backup.exists(), "backup made before upgrading");
    assert_eq!(user_version(&backup), 1);
    let backed_up: i64 = rusqlite::Connection::open(&backup)
        .unwrap()
        .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(backed_up, 1);

    let rows = store.recent(&Filter::default(), 10, 0).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].input_tokens, 100);
    assert_eq!(rows[0].cost_usd, Some(0.0006));
    assert_eq!(rows[0].cloud_equiv_usd, None);
    assert!(!rows[0].local);
    // Version 3's columns are empty on old rows, and version 4's says no cache hit.
    assert_eq!(rows[0].agent_id, None);
    assert_eq!(rows[0].rule, None);
    assert!(!rows[0].cache_hit);
    // The rollup was built from the old rows.
    let t = store.totals(&Filter::default()).unwrap();
    assert_eq!((t.requests, t.input_tokens, t.output_tokens), (1, 100, 20));
    assert_close(t.cost_usd, 0.0006, "migrated cost");
    drop(store);
    // Opening again does not migrate (or back up) again.
    UsageStore::open(&path).unwrap();
    assert!(!dir.path().join(format!("{DB_FILE_NAME}.v1.bak.1")).exists());
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    for result in [UsageStore::open(&path), UsageStore::open_read_only(&path)] {
        match result {
            Err(
                err @ UsageError::TooNew {
                    found: 99,
                    supported: 6,
                    ..
                },
            ) => {
                let message = err.to_string();
                assert!(
                    message.contains("newer than this Switchyard supports"),
                    "{message}"
                );
                assert!(message.contains("Update Switchyard"), "{message}");
            }
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("a newer database was opened"),
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "file untouched");
    assert!(!dir.path().join(format!("{DB_FILE_NAME}-wal")).exists());
}

#[test]
fn read_only_open_refuses_an_old_version_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(V1_SCHEMA)
        .unwrap();
    match UsageStore::open_read_only(&path) {
        Err(err) => assert!(err.to_string().contains("switchyard serve"), "{err}"),
        Ok(_) => panic!("an old database was opened read-only"),
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn a_new_database_its_wal_shm_and_folder_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data");
    let path = folder.join(DB_FILE_NAME);
    let store = UsageStore::open(&path).unwrap();
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
    // Both exist while a connection in WAL mode is open.
    for suffix in ["-wal", "-shm"] {
        let side = folder.join(format!("{DB_FILE_NAME}{suffix}"));
        assert_eq!(mode(&side), 0o600, "{}", side.display());
    }
    drop(store);
}

#[cfg(unix)]
#[test]
fn an_existing_database_keeps_its_mode_and_its_upgrade_backup_is_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(V1_SCHEMA)
        .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let _store = UsageStore::open(&path).unwrap();
    assert_eq!(mode(&path), 0o640);
    let backup = dir.path().join(format!("{DB_FILE_NAME}.v1.bak"));
    assert_eq!(user_version(&backup), 1, "the backup is a real copy");
    assert_eq!(mode(&backup), 0o600);
}
