//! Typed queries for the CLI and the GUI. Aggregates read the daily rollup for the whole days
//! of their range and the hourly one for its ragged ends, so their time range is applied by
//! whole hours (an hour is in when it starts at or after `since_ms`, or contains it); `recent`
//! reads the request rows themselves.

use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

use super::row::{REQUEST_COLUMNS, RequestRow, read_row};
use super::{RequestStatus, UsageError, UsageStore};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

const ROLLUP_COLUMNS: &str = "requested_model, backend, profile, status, local, requests,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, unpriced,
    cloud_equiv_usd, saved_usd, latency_ms";

/// The rollup rows an aggregate reads, as a subquery with the bucket start in `t`.
fn rollup_source(filter: &Filter, hourly: bool) -> (String, Vec<Value>) {
    let since = filter.since_ms.map(|s| s.div_euclid(HOUR_MS) * HOUR_MS);
    let until = filter.until_ms;
    let hours_only = |values: Vec<Value>| {
        (
            format!(
                "(SELECT hour_ms AS t, {ROLLUP_COLUMNS} FROM usage_hourly
                  WHERE hour_ms >= ? AND hour_ms < ?)"
            ),
            values,
        )
    };
    let (lo, hi) = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
    if hourly {
        return hours_only(vec![Value::Integer(lo), Value::Integer(hi)]);
    }
    // Whole days inside [since, until) come from the daily rollup, the rest from hours.
    let first_day = since.map_or(i64::MIN, |s| (s + DAY_MS - 1).div_euclid(DAY_MS) * DAY_MS);
    let last_day = until.map_or(i64::MAX, |u| u.div_euclid(DAY_MS) * DAY_MS);
    if first_day >= last_day {
        return hours_only(vec![Value::Integer(lo), Value::Integer(hi)]);
    }
    (
        format!(
            "(SELECT day_ms AS t, {ROLLUP_COLUMNS} FROM usage_daily
              WHERE day_ms >= ? AND day_ms < ?
              UNION ALL
              SELECT hour_ms AS t, {ROLLUP_COLUMNS} FROM usage_hourly
              WHERE (hour_ms >= ? AND hour_ms < ?) OR (hour_ms >= ? AND hour_ms < ?))"
        ),
        [first_day, last_day, lo, first_day, last_day, hi]
            .into_iter()
            .map(Value::Integer)
            .collect(),
    )
}

/// Aggregate SQL: `SELECT <select> FROM <rollup> WHERE <filters> <tail>`.
fn aggregate(filter: &Filter, hourly: bool, select: &str, tail: &str) -> (String, Vec<Value>) {
    let (source, mut values) = rollup_source(filter, hourly);
    let attributes = Filter {
        since_ms: None,
        until_ms: None,
        session_id: None,
        ..filter.clone()
    };
    let (clause, more) = where_clause(&attributes, "t");
    values.extend(more);
    (
        format!("SELECT {select} FROM {source} {clause} {tail}"),
        values,
    )
}

/// Which requests a query is about; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Filter {
    /// From this Unix time (ms), inclusive.
    pub since_ms: Option<i64>,
    /// Until this Unix time (ms), exclusive.
    pub until_ms: Option<i64>,
    /// The requested model.
    pub model: Option<String>,
    pub backend: Option<String>,
    pub profile: Option<String>,
    pub status: Option<RequestStatus>,
    /// One Claude Code session. The rollups do not keep sessions: aggregates ignore it, and
    /// only queries of the request rows (`recent`, `page_by_id`, `count`) apply it.
    pub session_id: Option<String>,
}

/// Sums over a set of requests. Counts read as 0 if the store holds a corrupt negative.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub cancelled: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Spend on requests with a known price.
    pub cost_usd: f64,
    /// Requests whose cost is unknown (no price for the model).
    pub unpriced: u64,
    /// What the requests would have cost at the requested models' prices.
    pub cloud_equiv_usd: f64,
    /// Cloud-equivalent minus actual cost, over requests where both are known.
    pub saved_usd: f64,
    pub avg_latency_ms: f64,
}

impl Totals {
    /// Adds another set's sums (counts saturate), the average latency weighted by requests.
    pub fn add(&mut self, o: &Totals) {
        let latency =
            self.avg_latency_ms * self.requests as f64 + o.avg_latency_ms * o.requests as f64;
        self.requests = self.requests.saturating_add(o.requests);
        self.errors = self.errors.saturating_add(o.errors);
        self.cancelled = self.cancelled.saturating_add(o.cancelled);
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_add(o.cache_write_tokens);
        self.cost_usd += o.cost_usd;
        self.unpriced = self.unpriced.saturating_add(o.unpriced);
        self.cloud_equiv_usd += o.cloud_equiv_usd;
        self.saved_usd += o.saved_usd;
        self.avg_latency_ms = if self.requests > 0 {
            latency / self.requests as f64
        } else {
            0.0
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Hour,
    Day,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Model,
    Backend,
    Profile,
    /// `local` or `cloud`.
    Locality,
}

/// Totals of one group (a model, a backend...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    pub totals: Totals,
}

/// Totals of one time bucket (UTC hour or day), optionally of one group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesGroup {
    pub start_ms: i64,
    pub key: Option<String>,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Savings {
    pub local: Totals,
    pub cloud: Totals,
    pub saved_usd: f64,
}

/// `WHERE` clause and parameters for `filter`; `time` is the time column.
pub(super) fn where_clause(filter: &Filter, time: &str) -> (String, Vec<Value>) {
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    if let Some(since) = filter.since_ms {
        clauses.push(format!("{time} >= ?"));
        values.push(Value::Integer(since));
    }
    if let Some(until) = filter.until_ms {
        clauses.push(format!("{time} < ?"));
        values.push(Value::Integer(until));
    }
    for (column, value) in [
        ("requested_model", &filter.model),
        ("backend", &filter.backend),
        ("profile", &filter.profile),
        ("session_id", &filter.session_id),
    ] {
        if let Some(v) = value {
            clauses.push(format!("{column} = ?"));
            values.push(Value::Text(v.clone()));
        }
    }
    if let Some(status) = filter.status {
        clauses.push("status = ?".to_owned());
        values.push(Value::Text(status.as_str().to_owned()));
    }
    if clauses.is_empty() {
        (String::new(), values)
    } else {
        (format!("WHERE {}", clauses.join(" AND ")), values)
    }
}

/// `total()`, not `sum()`: SQLite's `sum()` of integers fails the whole query with "integer
/// overflow" past `i64::MAX`, and rows written before counts were capped can get there
/// (`total()` is a float: exact to 2^53, then approximate, never an error).
pub(super) const SUMS: &str =
    "total(requests), total(CASE WHEN status = 'error' THEN requests ELSE 0 END),
    total(CASE WHEN status = 'cancelled' THEN requests ELSE 0 END), total(input_tokens),
    total(output_tokens), total(cache_read_tokens), total(cache_write_tokens), total(cost_usd),
    total(unpriced), total(cloud_equiv_usd), total(saved_usd), total(latency_ms)";

/// Reads the 12 `SUMS` columns starting at `at`.
pub(super) fn totals_at(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Totals> {
    let real = |i: usize| -> rusqlite::Result<f64> {
        Ok(row.get::<_, Option<f64>>(at + i)?.unwrap_or(0.0))
    };
    let int = |i: usize| -> rusqlite::Result<u64> { Ok(float_count(real(i)?)) };
    let requests = int(0)?;
    let latency = int(11)?;
    Ok(Totals {
        requests,
        errors: int(1)?,
        cancelled: int(2)?,
        input_tokens: int(3)?,
        output_tokens: int(4)?,
        cache_read_tokens: int(5)?,
        cache_write_tokens: int(6)?,
        cost_usd: real(7)?,
        unpriced: int(8)?,
        cloud_equiv_usd: real(9)?,
        saved_usd: real(10)?,
        avg_latency_ms: if requests > 0 {
            latency as f64 / requests as f64
        } else {
            0.0
        },
    })
}

/// A float sum as a count: `as` saturates (a negative, from a corrupt row, or NaN reads as 0).
fn float_count(n: f64) -> u64 {
    n.round() as u64
}

fn group_expr(group: GroupBy) -> &'static str {
    match group {
        GroupBy::Model => "requested_model",
        GroupBy::Backend => "backend",
        GroupBy::Profile => "profile",
        GroupBy::Locality => "CASE local WHEN 1 THEN 'local' ELSE 'cloud' END",
    }
}

impl UsageStore {
    /// The most recent requests first, `limit` at a time from `offset`.
    pub fn recent(
        &self,
        filter: &Filter,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<RequestRow>, UsageError> {
        let (clause, mut values) = where_clause(filter, "started_at_ms");
        values.push(Value::Integer(i64::from(limit)));
        values.push(Value::Integer(i64::from(offset)));
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests {clause}
             ORDER BY started_at_ms DESC, id DESC LIMIT ? OFFSET ?"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(values), read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// Requests with an id below `before_id` (all when `None`), highest id first: stable
    /// paging while the writer keeps adding rows.
    pub fn page_by_id(
        &self,
        filter: &Filter,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<RequestRow>, UsageError> {
        let (clause, mut values) = where_clause(filter, "started_at_ms");
        let clause = match before_id {
            Some(id) => {
                values.push(Value::Integer(id));
                if clause.is_empty() {
                    "WHERE id < ?".to_owned()
                } else {
                    format!("{clause} AND id < ?")
                }
            }
            None => clause,
        };
        values.push(Value::Integer(i64::from(limit)));
        let sql =
            format!("SELECT {REQUEST_COLUMNS} FROM requests {clause} ORDER BY id DESC LIMIT ?");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(values), read_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.err(e))
    }

    /// How many request rows the filter selects, counted row by row (for filters the rollups
    /// cannot answer, such as a session).
    pub fn count(&self, filter: &Filter) -> Result<u64, UsageError> {
        let (clause, values) = where_clause(filter, "started_at_ms");
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM requests {clause}"),
                rusqlite::params_from_iter(values),
                |row| row.get::<_, i64>(0),
            )
            .map(super::row::count)
            .map_err(|e| self.err(e))
    }

    /// Totals over every request the filter selects.
    pub fn totals(&self, filter: &Filter) -> Result<Totals, UsageError> {
        let (sql, values) = aggregate(filter, false, SUMS, "");
        self.conn
            .query_row(&sql, rusqlite::params_from_iter(values), |row| {
                totals_at(row, 0)
            })
            .map_err(|e| self.err(e))
    }

    /// Totals per group, largest spend first (then most requests).
    pub fn by(&self, filter: &Filter, group: GroupBy) -> Result<Vec<Group>, UsageError> {
        let (sql, values) = aggregate(
            filter,
            false,
            &format!("{} AS k, {SUMS}", group_expr(group)),
            "GROUP BY k ORDER BY sum(cost_usd) DESC, sum(requests) DESC, k",
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(values), |row| {
            Ok(Group {
                key: row.get(0)?,
                totals: totals_at(row, 1)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// A time series (UTC hours or days, oldest first), optionally split by a group
    /// (e.g. daily totals by model).
    pub fn series(
        &self,
        filter: &Filter,
        bucket: Bucket,
        group: Option<GroupBy>,
    ) -> Result<Vec<SeriesGroup>, UsageError> {
        let start = match bucket {
            Bucket::Hour => "t",
            Bucket::Day => "(t / 86400000) * 86400000",
        };
        let key = group.map_or("NULL", group_expr);
        let (sql, values) = aggregate(
            filter,
            bucket == Bucket::Hour,
            &format!("{start} AS b, {key} AS k, {SUMS}"),
            "GROUP BY b, k ORDER BY b, k",
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        stmt.query_map(rusqlite::params_from_iter(values), |row| {
            Ok(SeriesGroup {
                start_ms: row.get(0)?,
                key: row.get(1)?,
                totals: totals_at(row, 2)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.err(e))
    }

    /// Local versus cloud, and what routing saved against the requested models' prices.
    pub fn savings(&self, filter: &Filter) -> Result<Savings, UsageError> {
        let mut savings = Savings {
            local: Totals::default(),
            cloud: Totals::default(),
            saved_usd: 0.0,
        };
        for group in self.by(filter, GroupBy::Locality)? {
            savings.saved_usd += group.totals.saved_usd;
            if group.key == "local" {
                savings.local = group.totals;
            } else {
                savings.cloud = group.totals;
            }
        }
        Ok(savings)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{NOV23, priced, req};
    use super::super::{UsageFilter, UsageStore};
    use super::*;

    /// Rows with counts the record path no longer lets through (a database written before
    /// the cap), kept at `i64::MAX` each: their sums pass `i64::MAX` in Rust (within one
    /// batch) and in SQLite (across batches), and every report still answers.
    #[test]
    fn sums_past_the_64_bit_range_saturate_instead_of_failing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let mut store = UsageStore::open(&path).unwrap();
        let huge = |ms| {
            let mut row = priced(&req(ms, "claude-sonnet-4-5", "anthropic"));
            row.record.usage.input_tokens = u64::MAX;
            row.record.usage.output_tokens = u64::MAX - 1;
            row.record.latency_ms = u64::MAX;
            row
        };
        store
            .insert(&[huge(NOV23 + 1_000), huge(NOV23 + 2_000)])
            .unwrap();
        store.insert(&[huge(NOV23 + 3_000)]).unwrap();
        drop(store);
        let store = UsageStore::open_read_only(&path).unwrap();

        let totals = store.totals(&Filter::default()).unwrap();
        assert_eq!(totals.requests, 3);
        assert_eq!(totals.input_tokens, u64::MAX);
        assert_eq!(totals.output_tokens, u64::MAX);
        assert_eq!(totals.cache_read_tokens, 1_500, "small sums stay exact");
        let today = store.today_at(NOV23 + 5_000).unwrap();
        assert_eq!(today.totals.input_tokens, u64::MAX);
        let config = crate::config::parse(
            "active_profile = \"p\"\n[profiles.p]\ndefault = { backend = \"anthropic\" }\n\
             [[backends]]\nid = \"anthropic\"\nkind = \"anthropic\"\n\
             base_url = \"https://api.anthropic.com\"\n",
            std::path::Path::new("config.toml"),
        )
        .unwrap();
        let summary = store
            .summary_at(&UsageFilter::default(), &config, NOV23 + 5_000)
            .unwrap();
        assert_eq!(summary.total.output_tokens, u64::MAX);
        assert_eq!(summary.per_day[0].totals.input_tokens, u64::MAX);
        assert_eq!(summary.by_model[0].totals.requests, 3);
        let rows = store.recent(&Filter::default(), 10, 0).unwrap();
        assert_eq!(rows[0].input_tokens, i64::MAX as u64);
    }
}
