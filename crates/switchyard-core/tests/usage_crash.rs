//! Crash safety: a child process (this test binary, re-executed) writes rows through the
//! writer under load and is killed with SIGKILL; the database must pass `integrity_check` and
//! hold every row the child saw committed.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use switchyard_core::anthropic::Usage;
use switchyard_core::budget::SpendTotals;
use switchyard_core::metrics::Metrics;
use switchyard_core::usage::{
    DB_FILE_NAME, Filter, Pricer, RequestStatus, UsageRecord, UsageSink, UsageStore, UsageWriter,
    WriterOptions,
};

const CHILD_ENV: &str = "SWITCHYARD_USAGE_CRASH_CHILD_DB";

fn row(seq: i64) -> UsageRecord {
    UsageRecord {
        started_at_ms: seq,
        client: Some("load".into()),
        session_id: None,
        agent_id: None,
        parent_agent_id: None,
        requested_model: "claude-sonnet-4-5".into(),
        profile: "p".into(),
        backend: Some("b".into()),
        backend_kind: Some("anthropic".into()),
        upstream_model: Some("claude-sonnet-4-5".into()),
        stream: true,
        status: RequestStatus::Ok,
        http_status: 200,
        error_type: None,
        error_message: None,
        usage: Usage {
            input_tokens: 100,
            output_tokens: 10,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
        },
        ttft_ms: Some(5),
        latency_ms: 50,
        attempts: 1,
        rule: None,
        notes: None,
        cache_hit: false,
        key_name: None,
        capture_id: None,
    }
}

/// The child's side: only does something when re-executed by the parent test.
#[test]
fn child_writes_until_killed() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let writer = UsageWriter::start(
        UsageStore::open(Path::new(&path)).unwrap(),
        WriterOptions::default(),
        Pricer::default(),
        Arc::new(Metrics::default()),
        Arc::new(SpendTotals::default()),
    )
    .unwrap();
    let mut stdout = std::io::stdout();
    let mut sent: i64 = 0;
    let mut reported = 0;
    let started = Instant::now();
    // Bounded: the parent kills us long before this.
    while started.elapsed() < Duration::from_secs(60) {
        // Keep the queue busy without overflowing it, so acknowledged rows are contiguous.
        if sent - (writer.committed_rows() as i64) < 8000 {
            for _ in 0..200 {
                writer.record(row(sent));
                sent += 1;
            }
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
        let committed = writer.committed_rows();
        if committed != reported {
            reported = committed;
            writeln!(stdout, "ACK {committed} {}", writer.dropped_rows()).unwrap();
            stdout.flush().unwrap();
        }
    }
}

#[test]
fn sigkill_mid_write_leaves_a_sound_database_with_every_acknowledged_row() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE_NAME);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_writes_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(rest) = line.strip_prefix("ACK ") {
                let mut parts = rest.split(' ');
                let committed: u64 = parts.next().unwrap().parse().unwrap();
                let dropped: u64 = parts.next().unwrap().parse().unwrap();
                if tx.send((committed, dropped)).is_err() {
                    return;
                }
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut acked = (0, 0);
    let mut commits = 0;
    while Instant::now() < deadline && (commits < 5 || acked.0 < 20_000) {
        if let Ok(ack) = rx.recv_timeout(Duration::from_millis(100)) {
            acked = ack;
            commits += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Acknowledgements already in the pipe were printed before the kill.
    while let Ok(ack) = rx.recv_timeout(Duration::from_millis(200)) {
        acked = ack;
    }
    let (committed, dropped) = acked;
    assert!(
        commits >= 5 && committed >= 20_000,
        "the child wrote too little: {acked:?}"
    );
    assert_eq!(dropped, 0);

    let store = UsageStore::open(&path).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let present: i64 = conn
        .query_row(
            "SELECT count(DISTINCT started_at_ms) FROM requests WHERE started_at_ms < ?1",
            [committed as i64],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(present, committed as i64, "every acknowledged row survived");
    let total = store.totals(&Filter::default()).unwrap().requests;
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        i64::try_from(total).ok(),
        Some(rows),
        "the rollup committed with its rows"
    );
}
