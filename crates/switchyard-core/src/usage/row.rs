//! [`RequestRow`]: one request as the store keeps it and as every screen shows it. A request
//! announced live (before the writer stored it) is the same row with no id, so the live row
//! and the stored one compare equal field for field.

use serde::Serialize;

use super::{PricedRecord, RequestStatus};

/// One request, stored or just finished.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RequestRow {
    /// The store's row id; `None` for a request announced live and not yet written.
    pub id: Option<i64>,
    /// Unix time in milliseconds when the request arrived.
    pub started_at_ms: i64,
    /// The client's `user-agent`.
    pub client: Option<String>,
    /// Claude Code's session id.
    pub session_id: Option<String>,
    /// The Claude Code subagent that sent it; `None` for the main agent.
    pub agent_id: Option<String>,
    /// The agent that started that subagent, when nested.
    pub parent_agent_id: Option<String>,
    pub requested_model: String,
    pub profile: String,
    /// The backend that answered (or the last one tried); `None` when none was chosen.
    pub backend: Option<String>,
    pub backend_kind: Option<String>,
    pub upstream_model: Option<String>,
    pub stream: bool,
    pub status: RequestStatus,
    pub http_status: u16,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Time to the first byte of the answer.
    pub ttft_ms: Option<u64>,
    pub latency_ms: u64,
    /// What the request cost (0 for local backends); `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// What it would have cost at the requested (Claude) model's price; `None` when unknown.
    pub cloud_equiv_usd: Option<f64>,
    /// Answered by a backend on this machine or the private network.
    pub local: bool,
    /// Targets tried, the one that answered included (1 = no fallback).
    pub attempts: u32,
    /// The rule that routed it, in words.
    pub rule: Option<String>,
    /// What the gateway changed or noticed on the way (server tools dropped, ...).
    pub notes: Option<String>,
    /// Answered from the response cache (no backend called; cost 0, the original's cost saved).
    pub cache_hit: bool,
    /// Which of the backend's keys it was sent with, by name.
    pub key_name: Option<String>,
    /// The request inspector's capture of it.
    pub capture_id: Option<String>,
}

impl From<PricedRecord> for RequestRow {
    /// A request just finished, priced the way the writer prices it: what the store will
    /// return for it, without the id.
    fn from(p: PricedRecord) -> Self {
        let r = p.record;
        RequestRow {
            id: None,
            started_at_ms: r.started_at_ms,
            client: r.client,
            session_id: r.session_id,
            agent_id: r.agent_id,
            parent_agent_id: r.parent_agent_id,
            requested_model: r.requested_model,
            profile: r.profile,
            backend: r.backend,
            backend_kind: r.backend_kind,
            upstream_model: r.upstream_model,
            stream: r.stream,
            status: r.status,
            http_status: r.http_status,
            error_type: r.error_type,
            error_message: r.error_message,
            input_tokens: r.usage.input_tokens,
            output_tokens: r.usage.output_tokens,
            cache_read_tokens: r.usage.cache_read_input_tokens,
            cache_write_tokens: r.usage.cache_creation_input_tokens,
            ttft_ms: r.ttft_ms,
            latency_ms: r.latency_ms,
            cost_usd: p.cost_usd,
            cloud_equiv_usd: p.cloud_equiv_usd,
            local: p.local,
            attempts: r.attempts,
            rule: r.rule,
            notes: r.notes,
            cache_hit: r.cache_hit,
            key_name: r.key_name,
            capture_id: r.capture_id,
        }
    }
}

/// The columns [`read_row`] expects, in order.
pub(super) const REQUEST_COLUMNS: &str = "id, started_at_ms, client, session_id,
    requested_model, profile, backend, backend_kind, upstream_model, stream, status,
    http_status, error_type, error_message, input_tokens, output_tokens, cache_read_tokens,
    cache_write_tokens, ttft_ms, latency_ms, cost_usd, cloud_equiv_usd, local, attempts,
    agent_id, parent_agent_id, rule, notes, cache_hit, key_name, capture_id";

/// Counts are never negative in the store; a corrupt value reads as 0 rather than wrapping.
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RequestRow> {
    let n = |i: usize| -> rusqlite::Result<u64> { Ok(count(row.get(i)?)) };
    Ok(RequestRow {
        id: Some(row.get(0)?),
        started_at_ms: row.get(1)?,
        client: row.get(2)?,
        session_id: row.get(3)?,
        requested_model: row.get(4)?,
        profile: row.get(5)?,
        backend: row.get(6)?,
        backend_kind: row.get(7)?,
        upstream_model: row.get(8)?,
        stream: row.get(9)?,
        status: RequestStatus::from_stored(&row.get::<_, String>(10)?),
        http_status: row.get(11)?,
        error_type: row.get(12)?,
        error_message: row.get(13)?,
        input_tokens: n(14)?,
        output_tokens: n(15)?,
        cache_read_tokens: n(16)?,
        cache_write_tokens: n(17)?,
        ttft_ms: row.get::<_, Option<i64>>(18)?.map(count),
        latency_ms: n(19)?,
        cost_usd: row.get(20)?,
        cloud_equiv_usd: row.get(21)?,
        local: row.get(22)?,
        attempts: row.get(23)?,
        agent_id: row.get(24)?,
        parent_agent_id: row.get(25)?,
        rule: row.get(26)?,
        notes: row.get(27)?,
        cache_hit: row.get(28)?,
        key_name: row.get(29)?,
        capture_id: row.get(30)?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Filter;
    use super::super::test_support::{NOV23, priced, req};
    use super::*;
    use crate::usage::UsageStore;

    #[test]
    fn stored_rows_map_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let mut store = UsageStore::open(&path).unwrap();
        let mut failed = req(NOV23 + 2_000, "claude-opus-4-1", "kimi");
        failed.status = RequestStatus::Error;
        failed.cost = None;
        failed.equiv = None;
        let mut ok = req(NOV23 + 1_000, "claude-sonnet-4-5", "ollama");
        ok.equiv = Some(0.0042);
        store.insert(&[priced(&ok), priced(&failed)]).unwrap();

        let rows = store.recent(&Filter::default(), 10, 0).unwrap();
        assert_eq!(rows.len(), 2);
        // Newest first.
        let (err, ok) = (&rows[0], &rows[1]);
        assert!(ok.id.is_some() && err.id.is_some() && ok.id != err.id);
        assert_eq!(ok.started_at_ms, NOV23 + 1_000);
        assert_eq!(ok.status, RequestStatus::Ok);
        assert_eq!(ok.client.as_deref(), Some("claude-cli/2.1.30"));
        assert_eq!(ok.session_id.as_deref(), Some("s-1"));
        assert_eq!(ok.backend.as_deref(), Some("ollama"));
        assert_eq!(ok.upstream_model.as_deref(), Some("ollama-upstream"));
        assert_eq!(
            (
                ok.input_tokens,
                ok.output_tokens,
                ok.cache_read_tokens,
                ok.cache_write_tokens
            ),
            (100, 10, 500, 7)
        );
        assert_eq!((ok.ttft_ms, ok.latency_ms, ok.attempts), (Some(5), 50, 1));
        assert!(ok.local);
        assert_eq!(ok.cost_usd, Some(0.0));
        assert_eq!(ok.cloud_equiv_usd, Some(0.0042));

        assert_eq!(err.status, RequestStatus::Error);
        assert_eq!(err.http_status, 529);
        assert_eq!(err.error_type.as_deref(), Some("overloaded_error"));
        assert!(!err.local);
        // Unknown price stays unknown: never 0.
        assert_eq!(err.cost_usd, None);
        assert_eq!(err.cloud_equiv_usd, None);
    }

    #[test]
    fn live_rows_match_what_the_store_will_show() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = UsageStore::open(&dir.path().join("usage.sqlite3")).unwrap();
        let mut r = req(NOV23 + 5_000, "claude-sonnet-4-5", "kimi");
        r.status = RequestStatus::Cancelled;
        r.cost = Some(0.01);
        r.equiv = Some(0.02);
        let live = RequestRow::from(priced(&r));
        store.insert(&[priced(&r)]).unwrap();
        let stored = store.recent(&Filter::default(), 1, 0).unwrap().remove(0);
        assert_eq!(live.id, None);
        assert_eq!(live.status, RequestStatus::Cancelled);
        assert!(stored.id.is_some());
        assert_eq!(RequestRow { id: None, ..stored }, live);
    }

    #[test]
    fn corrupt_negative_counts_read_as_zero_and_unknown_status_as_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = UsageStore::open(&dir.path().join("usage.sqlite3")).unwrap();
        store
            .insert(&[priced(&req(NOV23, "claude-sonnet-4-5", "ollama"))])
            .unwrap();
        store
            .conn
            .execute_batch(
                "UPDATE requests SET input_tokens = -5, latency_ms = -1, ttft_ms = -2,
                 status = 'exploded'",
            )
            .unwrap();
        let row = store.recent(&Filter::default(), 1, 0).unwrap().remove(0);
        assert_eq!(
            (row.input_tokens, row.latency_ms, row.ttft_ms),
            (0, 0, Some(0))
        );
        assert_eq!(row.output_tokens, 10);
        assert_eq!(row.status, RequestStatus::Error);
    }
}
