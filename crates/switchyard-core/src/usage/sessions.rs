//! Claude Code sessions: the requests that share a session id, with the main agent and each
//! subagent told apart. Read from the request rows (the rollups do not keep sessions), for
//! `switchyard usage --by session` and the Usage screen's Sessions view.

use std::collections::BTreeSet;

use rusqlite::types::Value;
use serde::Serialize;

use super::query::{Filter, SUMS, Totals, totals_at, where_clause};
use super::{UsageError, UsageStore};

/// The largest number of sessions one query returns.
pub const MAX_SESSIONS: u32 = 500;

/// One session: when, how much, on which models, and by which agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionSummary {
    pub session_id: String,
    /// When its first request arrived, Unix ms.
    pub started_at_ms: i64,
    /// When its last request ended, Unix ms.
    pub ended_at_ms: i64,
    pub totals: Totals,
    /// The models that answered (`backend/model`), sorted.
    pub models: Vec<String>,
    /// The main agent first (its `agent_id` is `None`), then each subagent by its first request.
    pub agents: Vec<AgentSummary>,
}

impl SessionSummary {
    /// How many subagents took part.
    pub fn subagents(&self) -> usize {
        self.agents.iter().filter(|a| a.agent_id.is_some()).count()
    }
}

/// The requests of one agent of a session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AgentSummary {
    /// `None`: the main agent.
    pub agent_id: Option<String>,
    /// The agent that started this one, when Claude Code said (nested subagents).
    pub parent_agent_id: Option<String>,
    pub started_at_ms: i64,
    pub totals: Totals,
    pub models: Vec<String>,
}

/// Per-request sums in the shape of the rollups' `SUMS` (one row counts one request).
const ROW_SUMS_SOURCE: &str = "SELECT session_id, agent_id, parent_agent_id, started_at_ms,
    started_at_ms + latency_ms AS ended_at_ms, 1 AS requests, status, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, COALESCE(cost_usd, 0) AS cost_usd,
    cost_usd IS NULL AS unpriced, COALESCE(cloud_equiv_usd, 0) AS cloud_equiv_usd,
    CASE WHEN cost_usd IS NOT NULL AND cloud_equiv_usd IS NOT NULL
         THEN cloud_equiv_usd - cost_usd ELSE 0 END AS saved_usd,
    latency_ms, COALESCE(backend || '/' || upstream_model, backend, requested_model) AS model
    FROM requests";

impl UsageStore {
    /// The sessions with a request in the filter's range, newest first, at most `limit`
    /// (capped at [`MAX_SESSIONS`]); each with all its requests, those outside the range too.
    pub fn sessions(&self, filter: &Filter, limit: u32) -> Result<Vec<SessionSummary>, UsageError> {
        let (clause, mut values) = where_clause(filter, "started_at_ms");
        let has = if clause.is_empty() { "WHERE" } else { "AND" };
        values.push(Value::Integer(i64::from(limit.clamp(1, MAX_SESSIONS))));
        // The chosen sessions, then one row per (session, agent) and one per (…, model).
        let chosen = format!(
            "SELECT session_id FROM requests {clause} {has} session_id IS NOT NULL
             GROUP BY session_id ORDER BY max(started_at_ms) DESC LIMIT ?"
        );
        let sql = format!(
            "WITH chosen AS ({chosen}),
                  rows AS ({ROW_SUMS_SOURCE} WHERE session_id IN (SELECT session_id FROM chosen))
             SELECT session_id, agent_id, max(parent_agent_id), min(started_at_ms),
                    max(ended_at_ms), group_concat(model, char(31)), {SUMS}
             FROM rows GROUP BY session_id, agent_id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let agents = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                let models: Option<String> = row.get(5)?;
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(4)?,
                    AgentSummary {
                        agent_id: row.get(1)?,
                        parent_agent_id: row.get(2)?,
                        started_at_ms: row.get(3)?,
                        totals: totals_at(row, 6)?,
                        models: distinct(models.as_deref()),
                    },
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(fold(agents))
    }
}

fn distinct(joined: Option<&str>) -> Vec<String> {
    joined
        .unwrap_or_default()
        .split('\u{1f}')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Agents (any order) into sessions, newest first.
fn fold(agents: Vec<(String, i64, AgentSummary)>) -> Vec<SessionSummary> {
    let mut sessions: Vec<SessionSummary> = Vec::new();
    for (session_id, ended_at_ms, agent) in agents {
        let at = match sessions.iter().position(|s| s.session_id == session_id) {
            Some(at) => at,
            None => {
                sessions.push(SessionSummary {
                    session_id,
                    started_at_ms: agent.started_at_ms,
                    ended_at_ms,
                    totals: Totals::default(),
                    models: Vec::new(),
                    agents: Vec::new(),
                });
                sessions.len() - 1
            }
        };
        let session = &mut sessions[at];
        session.started_at_ms = session.started_at_ms.min(agent.started_at_ms);
        session.ended_at_ms = session.ended_at_ms.max(ended_at_ms);
        session.totals.add(&agent.totals);
        session.models.extend(agent.models.iter().cloned());
        session.agents.push(agent);
    }
    for session in &mut sessions {
        session.models.sort();
        session.models.dedup();
        // The main agent (no id) first, then subagents in the order they started.
        session
            .agents
            .sort_by_key(|a| (a.agent_id.is_some(), a.started_at_ms));
    }
    sessions.sort_by_key(|s| std::cmp::Reverse(s.ended_at_ms));
    sessions
}
