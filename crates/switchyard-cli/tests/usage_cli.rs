//! `switchyard usage` against a database written through the real writer.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;
use std::sync::Arc;

use switchyard_core::anthropic::Usage;
use switchyard_core::budget::SpendTotals;
use switchyard_core::metrics::Metrics;
use switchyard_core::pricing::PriceTable;
use switchyard_core::usage::{
    DB_FILE_NAME, Pricer, RequestStatus, UsageRecord, UsageSink, UsageStore, UsageWriter,
    WriterOptions,
};

fn record(at: i64, model: &str, backend: &str, input: u64) -> UsageRecord {
    UsageRecord {
        started_at_ms: at,
        client: None,
        session_id: None,
        requested_model: model.into(),
        profile: "main".into(),
        backend: Some(backend.into()),
        backend_kind: Some("anthropic".into()),
        upstream_model: Some(model.into()),
        stream: true,
        status: RequestStatus::Ok,
        http_status: 200,
        error_type: None,
        error_message: None,
        usage: Usage {
            input_tokens: input,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
        },
        ttft_ms: Some(10),
        latency_ms: 1500,
        attempts: 1,
    }
}

fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("usage")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn usage_prints_requests_totals_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let writer = UsageWriter::start(
        UsageStore::open(&dir.path().join(DB_FILE_NAME)).unwrap(),
        WriterOptions::default(),
        Pricer::new(
            PriceTable::with_overrides(&Default::default()),
            [("cloud".to_owned(), false)].into(),
        ),
        Arc::new(Metrics::default()),
        Arc::new(SpendTotals::default()),
    )
    .unwrap();
    // 2026-11-01T00:00:00Z; 1M sonnet input tokens = $3.00, 2M haiku = $2.00.
    let h0 = 1_793_491_200_000;
    writer.record(record(h0, "claude-sonnet-4-5", "cloud", 1_000_000));
    writer.record(record(h0 + 60_000, "claude-haiku-4-5", "cloud", 2_000_000));
    writer.shutdown();

    let text = run(dir.path(), &[]);
    assert!(
        text.contains("2026-11-01 00:00:00  claude-sonnet-4-5"),
        "{text}"
    );
    assert!(
        text.contains("2026-11-01 00:01:00  claude-haiku-4-5"),
        "{text}"
    );
    assert!(text.contains("$3.00"), "{text}");
    let total = text.lines().find(|l| l.starts_with("total")).unwrap();
    assert!(
        total.contains("2 req") && total.contains("$5.00"),
        "{total}"
    );

    let only_haiku = run(dir.path(), &["--model", "claude-haiku-4-5", "--csv"]);
    let lines: Vec<_> = only_haiku.lines().collect();
    assert_eq!(lines.len(), 2, "{only_haiku}");
    assert!(lines[0].starts_with("Request ID,Started (UTC),Started (Unix ms),"));
    // ISO 8601 UTC beside Unix ms, and the cost to 6 decimals.
    assert!(
        lines[1].starts_with("2,2026-11-01T00:01:00.000Z,1793491260000,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",claude-haiku-4-5,main,cloud,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].contains(",2.000000,"), "{}", lines[1]);

    let since = run(dir.path(), &["--since", "2026-11-02"]);
    assert!(!since.contains("claude-sonnet-4-5"), "{since}");
}
