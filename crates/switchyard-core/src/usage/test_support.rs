//! Rows and real database files for the usage module's unit tests.

use crate::anthropic::Usage;

use super::{PricedRecord, RequestStatus, UsageRecord, UsageStore};

pub const DAY: i64 = 86_400_000;
/// 2026-11-23T00:00:00Z
pub const NOV23: i64 = 1_795_392_000_000;

pub struct Req {
    pub ms: i64,
    pub model: &'static str,
    pub backend: &'static str,
    pub status: RequestStatus,
    pub local: bool,
    pub cost: Option<f64>,
    pub equiv: Option<f64>,
}

/// A request at `ms`: `ollama` is local and free, anything else costs $0.50; both are worth
/// $0.50 at the requested model's price.
pub fn req(ms: i64, model: &'static str, backend: &'static str) -> Req {
    let local = backend == "ollama";
    Req {
        ms,
        model,
        backend,
        status: RequestStatus::Ok,
        local,
        cost: Some(if local { 0.0 } else { 0.5 }),
        equiv: Some(0.5),
    }
}

pub fn priced(r: &Req) -> PricedRecord {
    PricedRecord {
        record: UsageRecord {
            started_at_ms: r.ms,
            client: Some("claude-cli/2.1.30".into()),
            session_id: Some("s-1".into()),
            agent_id: None,
            parent_agent_id: None,
            requested_model: r.model.into(),
            profile: if r.local { "local" } else { "cloud" }.into(),
            backend: Some(r.backend.into()),
            backend_kind: Some("ollama".into()),
            upstream_model: Some(format!("{}-upstream", r.backend)),
            stream: true,
            status: r.status,
            http_status: if r.status == RequestStatus::Error {
                529
            } else {
                200
            },
            error_type: (r.status == RequestStatus::Error).then(|| "overloaded_error".into()),
            error_message: (r.status == RequestStatus::Error).then(|| "Overloaded".into()),
            usage: Usage {
                input_tokens: 100,
                output_tokens: 10,
                cache_read_input_tokens: 500,
                cache_creation_input_tokens: 7,
            },
            ttft_ms: Some(5),
            latency_ms: 50,
            attempts: 1,
            rule: None,
            notes: None,
            cache_hit: false,
            key_name: None,
            capture_id: None,
        },
        local: r.local,
        cost_usd: r.cost,
        cloud_equiv_usd: r.equiv,
    }
}

/// A real database file written through `UsageStore::insert`, reopened read-only like the app.
pub fn store_with(reqs: &[Req]) -> (tempfile::TempDir, UsageStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.sqlite3");
    let mut w = UsageStore::open(&path).unwrap();
    w.insert(&reqs.iter().map(priced).collect::<Vec<_>>())
        .unwrap();
    drop(w);
    let r = UsageStore::open_read_only(&path).unwrap();
    (dir, r)
}
