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
        agent_id: None,
        parent_agent_id: None,
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
        rule: None,
        notes: None,
        cache_hit: false,
        key_name: None,
        capture_id: None,
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

/// `--by session`: one line per session, newest first, with its duration, requests, cost,
/// models and subagents, and a line per agent when subagents took part; `--session` narrows
/// the CSV to one session, whose agent column tells the subagent's rows apart.
#[test]
fn usage_by_session_lists_sessions_and_their_agents() {
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
    let h0 = 1_793_491_200_000;
    let in_session = |at: i64, session: &str, agent: Option<&str>, model: &str, input: u64| {
        let mut r = record(at, model, "cloud", input);
        r.session_id = Some(session.into());
        r.agent_id = agent.map(Into::into);
        r
    };
    // Session "early": the main agent, a subagent on haiku, the main agent again (3 min 5 s).
    writer.record(in_session(
        h0,
        "early",
        None,
        "claude-sonnet-4-5",
        1_000_000,
    ));
    writer.record(in_session(
        h0 + 60_000,
        "early",
        Some("agent-9"),
        "claude-haiku-4-5",
        1_000_000,
    ));
    writer.record(in_session(
        h0 + 183_500,
        "early",
        None,
        "claude-sonnet-4-5",
        1_000,
    ));
    // Session "late": one request an hour later.
    writer.record(in_session(
        h0 + 3_600_000,
        "late",
        None,
        "claude-sonnet-4-5",
        10,
    ));
    writer.record(record(h0 + 3_700_000, "claude-sonnet-4-5", "cloud", 10));
    writer.shutdown();

    let text = run(dir.path(), &["--by", "session"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("session") && lines[0].contains("duration"),
        "{text}"
    );
    let late = lines.iter().position(|l| l.contains(" late ")).unwrap();
    let early = lines.iter().position(|l| l.contains(" early ")).unwrap();
    assert!(late < early, "newest first: {text}");
    let row = lines[early];
    // $3.00 + $1.00 + $0.003 for the sonnet/haiku millions; 3m 05s from the first request's
    // start to the last one's end (183.5 s + 1.5 s).
    assert!(row.starts_with("2026-11-01 00:00:00"), "{row}");
    assert!(row.contains("3m 05s") && row.contains("$4.00"), "{row}");
    assert!(
        row.contains("cloud/claude-haiku-4-5, cloud/claude-sonnet-4-5"),
        "{row}"
    );
    // 3 requests, 2.0M tokens in, $4.00, 1 subagent.
    let numbers: Vec<&str> = row.split_whitespace().collect();
    assert!(numbers.windows(2).any(|w| w == ["3", "2.0M"]), "{row}");
    assert!(numbers.windows(2).any(|w| w == ["$4.00", "1"]), "{row}");
    assert!(
        lines[early + 1].contains("main agent") && lines[early + 1].contains("$3.00"),
        "{text}"
    );
    assert!(
        lines[early + 2].contains("agent-9") && lines[early + 2].contains("$1.00"),
        "{text}"
    );
    assert_eq!(
        lines.len(),
        5,
        "header, late, early and its two agents: {text}"
    );

    let csv = run(dir.path(), &["--session", "early", "--csv"]);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let agent = header.iter().position(|h| h == "Agent ID").unwrap();
    let agents: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[agent].to_owned())
        .collect();
    assert_eq!(agents, ["", "agent-9", ""]);
}
