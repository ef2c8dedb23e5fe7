//! Claude Code sessions in the usage history: rows keep the session, the agent and the rule;
//! `sessions()` groups them with the main agent and each subagent told apart; the history can
//! be narrowed to one session; the CSV carries the new columns.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::Path;

use switchyard_core::anthropic::Usage;
use switchyard_core::usage::{
    Filter, PricedRecord, RequestStatus, UsageFilter, UsageRecord, UsageStore, write_csv,
};

/// 2026-11-01T00:00:00Z.
const H0: i64 = 1_793_491_200_000;
const SEC: i64 = 1000;

fn row(
    at: i64,
    session: Option<&str>,
    agent: Option<&str>,
    backend: &str,
    (input, output): (u64, u64),
    cost: Option<f64>,
) -> PricedRecord {
    PricedRecord {
        record: UsageRecord {
            started_at_ms: at,
            client: Some("claude-cli/2.1.197".into()),
            session_id: session.map(Into::into),
            agent_id: agent.map(Into::into),
            parent_agent_id: None,
            requested_model: "claude-sonnet-4-5".into(),
            profile: "split".into(),
            backend: Some(backend.into()),
            backend_kind: Some("anthropic".into()),
            upstream_model: Some(format!("{backend}-model")),
            stream: true,
            status: RequestStatus::Ok,
            http_status: 200,
            error_type: None,
            error_message: None,
            usage: Usage {
                input_tokens: input,
                output_tokens: output,
                ..Usage::default()
            },
            ttft_ms: Some(50),
            latency_ms: 2000,
            attempts: 1,
            rule: Some(if agent.is_some() {
                "rule 1: * when subagent".into()
            } else {
                "default route".into()
            }),
            notes: None,
            cache_hit: false,
            key_name: None,
            capture_id: None,
        },
        cost_usd: cost,
        cloud_equiv_usd: cost,
        local: false,
    }
}

fn store(dir: &Path) -> UsageStore {
    let mut store = UsageStore::open(&dir.join("usage.sqlite3")).unwrap();
    store
        .insert(&[
            // Session A: main agent, a subagent (two requests), main agent again.
            row(H0, Some("A"), None, "main", (1000, 100), Some(0.01)),
            row(
                H0 + 10 * SEC,
                Some("A"),
                Some("agent-1"),
                "sub",
                (300, 30),
                Some(0.001),
            ),
            row(
                H0 + 20 * SEC,
                Some("A"),
                Some("agent-1"),
                "sub",
                (400, 40),
                None,
            ),
            row(
                H0 + 30 * SEC,
                Some("A"),
                None,
                "main",
                (2000, 200),
                Some(0.02),
            ),
            // Session B, later, main agent only.
            row(
                H0 + 3_600 * SEC,
                Some("B"),
                None,
                "main",
                (10, 1),
                Some(0.5),
            ),
            // A request without a session belongs to none.
            row(H0 + 3_700 * SEC, None, None, "main", (5, 5), Some(0.0)),
        ])
        .unwrap();
    store
}

#[test]
fn sessions_are_newest_first_with_main_agent_and_subagents_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let sessions = store.sessions(&Filter::default(), 50).unwrap();
    let ids: Vec<&str> = sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, ["B", "A"]);

    let a = &sessions[1];
    assert_eq!(a.started_at_ms, H0);
    // The last request started at +30 s and took 2 s.
    assert_eq!(a.ended_at_ms, H0 + 32 * SEC);
    assert_eq!(a.totals.requests, 4);
    assert_eq!(a.totals.input_tokens, 1000 + 300 + 400 + 2000);
    assert_eq!(a.totals.output_tokens, 100 + 30 + 40 + 200);
    assert!(
        (a.totals.cost_usd - 0.031).abs() < 1e-12,
        "{}",
        a.totals.cost_usd
    );
    assert_eq!(a.totals.unpriced, 1);
    assert_eq!(a.models, ["main/main-model", "sub/sub-model"]);
    assert_eq!(a.subagents(), 1);
    assert_eq!(a.agents.len(), 2);
    assert_eq!(a.agents[0].agent_id, None, "the main agent comes first");
    assert_eq!(a.agents[0].totals.requests, 2);
    assert_eq!(a.agents[0].models, ["main/main-model"]);
    assert_eq!(a.agents[1].agent_id.as_deref(), Some("agent-1"));
    assert_eq!(a.agents[1].totals.requests, 2);
    assert_eq!(a.agents[1].started_at_ms, H0 + 10 * SEC);
    assert_eq!(sessions[0].subagents(), 0);

    // The range picks sessions by their requests in it; the limit keeps the newest.
    let since_b = Filter {
        since_ms: Some(H0 + 3_000 * SEC),
        ..Filter::default()
    };
    let ids: Vec<String> = store
        .sessions(&since_b, 50)
        .unwrap()
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    assert_eq!(ids, ["B"]);
    assert_eq!(store.sessions(&Filter::default(), 1).unwrap().len(), 1);
}

#[test]
fn the_history_narrows_to_one_session_and_keeps_agent_and_rule() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let page = store
        .history_page(
            &UsageFilter {
                session_id: Some("A".into()),
                ..UsageFilter::default()
            },
            0,
            50,
        )
        .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(page.rows.len(), 4);
    assert!(
        page.rows
            .iter()
            .all(|r| r.session_id.as_deref() == Some("A"))
    );
    let sub: Vec<_> = page
        .rows
        .iter()
        .filter(|r| r.agent_id.as_deref() == Some("agent-1"))
        .collect();
    assert_eq!(sub.len(), 2);
    assert!(sub.iter().all(|r| r.backend.as_deref() == Some("sub")
        && r.rule.as_deref() == Some("rule 1: * when subagent")));
    // An empty session filter means any.
    let all = store
        .history_page(
            &UsageFilter {
                session_id: Some(String::new()),
                ..UsageFilter::default()
            },
            0,
            50,
        )
        .unwrap();
    assert_eq!(all.total, 6);
}

#[test]
fn the_csv_has_the_agent_and_rule_columns() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path());
    let mut out = Vec::new();
    write_csv(
        &store,
        &Filter {
            session_id: Some("A".into()),
            ..Filter::default()
        },
        &mut out,
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(&out[..]);
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (session, agent, rule) = (col("Session ID"), col("Agent ID"), col("Rule"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(&r[session], "A");
        let is_sub = &r[col("Backend")] == "sub";
        assert_eq!(&r[agent], if is_sub { "agent-1" } else { "" });
        assert_eq!(
            &r[rule],
            if is_sub {
                "rule 1: * when subagent"
            } else {
                "default route"
            }
        );
    }
}
