use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::schema::{self, SCHEMA_VERSION, sqlite};
use super::{PricedRecord, UsageError};

/// The database's file name inside the data directory.
pub const DB_FILE_NAME: &str = "usage.sqlite3";

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

const ROLLUP_UPSERT: &str = "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
     ?14, ?15, ?16)
     ON CONFLICT DO UPDATE SET requests = requests + excluded.requests,
     input_tokens = input_tokens + excluded.input_tokens,
     output_tokens = output_tokens + excluded.output_tokens,
     cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
     cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
     cost_usd = cost_usd + excluded.cost_usd,
     unpriced = unpriced + excluded.unpriced,
     cloud_equiv_usd = cloud_equiv_usd + excluded.cloud_equiv_usd,
     saved_usd = saved_usd + excluded.saved_usd,
     latency_ms = latency_ms + excluded.latency_ms";

/// A synchronous handle on the usage database. The writer owns a read-write one; the CLI can
/// open another (read-only) while `switchyard serve` runs: WAL lets readers and the writer
/// work at once.
pub struct UsageStore {
    pub(super) conn: Connection,
    path: PathBuf,
}

impl UsageStore {
    /// Open (creating it and its directory if needed, owner-only) and upgrade the database.
    pub fn open(path: &Path) -> Result<UsageStore, UsageError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fsmode::create_private_dir_all(dir).map_err(|source| UsageError::Dir {
                path: dir.to_owned(),
                source,
            })?;
        }
        // SQLite would create the file world-readable; its -wal and -shm files copy the
        // database's mode, so creating it private first covers all three.
        crate::fsmode::ensure_private_file(path).map_err(|source| UsageError::Create {
            path: path.to_owned(),
            source,
        })?;
        let mut conn = Connection::open(path).map_err(|source| sqlite(path, source))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|source| sqlite(path, source))?;
        // Refused before any pragma writes to the file.
        schema::check_not_newer(&conn, path)?;
        // NORMAL in WAL mode: a commit survives the process being killed (not a power cut,
        // which can lose the last commits but never corrupts the file).
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(|source| sqlite(path, source))?;
        schema::migrate(&mut conn, path)?;
        Ok(UsageStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// Open an existing database for queries only (the CLI's `switchyard usage`).
    pub fn open_read_only(path: &Path) -> Result<UsageStore, UsageError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| sqlite(path, source))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|source| sqlite(path, source))?;
        let found = schema::check_not_newer(&conn, path)?;
        if found < SCHEMA_VERSION {
            return Err(UsageError::NeedsUpgrade {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(UsageStore {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection, for another part of the engine that keeps its own table in this file
    /// (the response cache): opened, upgraded and configured as every handle is.
    pub(crate) fn into_connection(self) -> Connection {
        self.conn
    }

    pub(super) fn err(&self, source: rusqlite::Error) -> UsageError {
        sqlite(&self.path, source)
    }

    /// Insert rows and update the hourly rollup, in one transaction.
    pub fn insert(&mut self, rows: &[PricedRecord]) -> Result<(), UsageError> {
        let path = self.path.clone();
        let e = |source| sqlite(&path, source);
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO requests (started_at_ms, client, session_id, requested_model,
                     profile, backend, backend_kind, upstream_model, stream, status, http_status,
                     error_type, error_message, input_tokens, output_tokens, cache_read_tokens,
                     cache_write_tokens, ttft_ms, latency_ms, cost_usd, attempts, local,
                     cloud_equiv_usd, agent_id, parent_agent_id, rule, notes, cache_hit, key_name, capture_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                     ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
                )
                .map_err(e)?;
            let mut hourly: HashMap<RollupKey<'_>, RollupSums> = HashMap::new();
            for row in rows {
                let r = &row.record;
                let u = &r.usage;
                insert
                    .execute(params![
                        r.started_at_ms,
                        r.client,
                        r.session_id,
                        r.requested_model,
                        r.profile,
                        r.backend,
                        r.backend_kind,
                        r.upstream_model,
                        r.stream,
                        r.status.as_str(),
                        r.http_status,
                        r.error_type,
                        r.error_message,
                        to_i64(u.input_tokens),
                        to_i64(u.output_tokens),
                        to_i64(u.cache_read_input_tokens),
                        to_i64(u.cache_creation_input_tokens),
                        r.ttft_ms.map(to_i64),
                        to_i64(r.latency_ms),
                        row.cost_usd,
                        r.attempts,
                        row.local,
                        row.cloud_equiv_usd,
                        r.agent_id,
                        r.parent_agent_id,
                        r.rule,
                        r.notes,
                        r.cache_hit,
                        r.key_name,
                        r.capture_id,
                    ])
                    .map_err(e)?;
                let key = RollupKey {
                    start_ms: r.started_at_ms.div_euclid(HOUR_MS) * HOUR_MS,
                    model: &r.requested_model,
                    backend: r.backend.as_deref().unwrap_or(""),
                    profile: &r.profile,
                    status: r.status.as_str(),
                    local: row.local,
                };
                hourly.entry(key).or_default().add(row);
            }
            let mut daily: HashMap<RollupKey<'_>, RollupSums> = HashMap::new();
            for (k, v) in &hourly {
                let day = RollupKey {
                    start_ms: k.start_ms.div_euclid(DAY_MS) * DAY_MS,
                    ..*k
                };
                daily.entry(day).or_default().merge(v);
            }
            for (table, sums) in [("usage_hourly", &hourly), ("usage_daily", &daily)] {
                let mut upsert = tx
                    .prepare_cached(&format!("INSERT INTO {table} {ROLLUP_UPSERT}"))
                    .map_err(e)?;
                for (k, s) in sums {
                    upsert
                        .execute(params![
                            k.start_ms,
                            k.model,
                            k.backend,
                            k.profile,
                            k.status,
                            k.local,
                            s.requests,
                            s.input,
                            s.output,
                            s.cache_read,
                            s.cache_write,
                            s.cost,
                            s.unpriced,
                            s.equiv,
                            s.saved,
                            s.latency,
                        ])
                        .map_err(e)?;
                }
            }
        }
        tx.commit().map_err(e)
    }

    /// Delete requests older than `days` days before `now_ms` (and their rollup hours), then
    /// give the freed pages back to the file system. Returns the requests deleted.
    pub fn apply_retention(&mut self, days: u32, now_ms: i64) -> Result<u64, UsageError> {
        let cutoff = now_ms - i64::from(days) * 24 * HOUR_MS;
        let path = self.path.clone();
        let e = |source| sqlite(&path, source);
        let tx = self.conn.transaction().map_err(e)?;
        let deleted = tx
            .execute("DELETE FROM requests WHERE started_at_ms < ?1", [cutoff])
            .map_err(e)?;
        // Whole hours only: an hour straddling the cutoff keeps its (slightly larger) totals.
        tx.execute(
            "DELETE FROM usage_hourly WHERE hour_ms + ?2 <= ?1",
            [cutoff, HOUR_MS],
        )
        .map_err(e)?;
        // The day straddling the cutoff is rebuilt from its remaining hours.
        let cut_day = cutoff.div_euclid(DAY_MS) * DAY_MS;
        tx.execute("DELETE FROM usage_daily WHERE day_ms <= ?1", [cut_day])
            .map_err(e)?;
        tx.execute(
            "INSERT INTO usage_daily
             SELECT ?1, requested_model, backend, profile, status, local, sum(requests),
                    sum(input_tokens), sum(output_tokens), sum(cache_read_tokens),
                    sum(cache_write_tokens), sum(cost_usd), sum(unpriced), sum(cloud_equiv_usd),
                    sum(saved_usd), sum(latency_ms)
             FROM usage_hourly WHERE hour_ms >= ?1 AND hour_ms < ?1 + ?2
             GROUP BY 2, 3, 4, 5, 6",
            [cut_day, DAY_MS],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        self.conn
            .execute_batch("PRAGMA incremental_vacuum")
            .map_err(e)?;
        Ok(deleted as u64)
    }

    /// The rollup's rows from `since_ms` on: (hour, profile, backend, cost), for seeding
    /// budget totals.
    pub fn costs_since(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(i64, String, String, f64)>, UsageError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT hour_ms, profile, backend, sum(cost_usd) FROM usage_hourly
                 WHERE hour_ms >= ?1 AND local = 0 GROUP BY 1, 2, 3",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([since_ms.div_euclid(HOUR_MS) * HOUR_MS], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        Ok(rows)
    }

    /// `PRAGMA integrity_check`'s verdict (`ok` when healthy).
    pub fn integrity_check(&self) -> Result<String, UsageError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|e| self.err(e))
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct RollupKey<'a> {
    start_ms: i64,
    model: &'a str,
    backend: &'a str,
    profile: &'a str,
    status: &'static str,
    local: bool,
}

#[derive(Default)]
struct RollupSums {
    requests: i64,
    input: i64,
    output: i64,
    cache_read: i64,
    cache_write: i64,
    cost: f64,
    unpriced: i64,
    equiv: f64,
    saved: f64,
    latency: i64,
}

impl RollupSums {
    // Integer sums saturate: a batch of rows with absurd counts (the record path caps them,
    // but the store does not rely on it) must not panic or wrap the writer's thread.
    fn merge(&mut self, o: &RollupSums) {
        self.requests = self.requests.saturating_add(o.requests);
        self.input = self.input.saturating_add(o.input);
        self.output = self.output.saturating_add(o.output);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
        self.cost += o.cost;
        self.unpriced = self.unpriced.saturating_add(o.unpriced);
        self.equiv += o.equiv;
        self.saved += o.saved;
        self.latency = self.latency.saturating_add(o.latency);
    }

    fn add(&mut self, row: &PricedRecord) {
        let u = &row.record.usage;
        self.requests = self.requests.saturating_add(1);
        self.input = self.input.saturating_add(to_i64(u.input_tokens));
        self.output = self.output.saturating_add(to_i64(u.output_tokens));
        self.cache_read = self
            .cache_read
            .saturating_add(to_i64(u.cache_read_input_tokens));
        self.cache_write = self
            .cache_write
            .saturating_add(to_i64(u.cache_creation_input_tokens));
        match row.cost_usd {
            Some(c) => self.cost += c,
            None => self.unpriced = self.unpriced.saturating_add(1),
        }
        self.equiv += row.cloud_equiv_usd.unwrap_or(0.0);
        if let (Some(c), Some(q)) = (row.cost_usd, row.cloud_equiv_usd) {
            self.saved += q - c;
        }
        self.latency = self.latency.saturating_add(to_i64(row.record.latency_ms));
    }
}
