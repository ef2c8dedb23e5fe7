//! Usage screen: history with filters and pages, totals, per-day series, by model and backend,
//! local versus cloud, savings, CSV export. Everything is read from the engine's usage database,
//! so requests from earlier runs and from `switchyard serve` on the same data dir show too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::config::Config;
use switchyard_core::usage::{self, Bucket, Filter, GroupBy, UsageError, UsageStore};
use tauri::State;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::history::{RequestRow, RowStatus, UsageReader};
use crate::state::SharedState;

/// Store rows read per query while searching the history for a text.
const SCAN_CHUNK: u32 = 2000;

#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct UsageFilter {
    /// Inclusive lower bound, Unix ms.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, Unix ms.
    pub until_ms: Option<i64>,
    /// History table only: matched, ignoring case, against requested model, upstream model,
    /// backend and client. Totals, charts and the CSV export read the store's per-hour rollups,
    /// which do not keep those columns, so they ignore it.
    pub text: Option<String>,
    pub profile: Option<String>,
    pub backend: Option<String>,
    pub status: Option<RowStatus>,
}

impl UsageFilter {
    pub fn store_filter(&self) -> Filter {
        Filter {
            since_ms: self.since_ms,
            until_ms: self.until_ms,
            model: None,
            backend: self.backend.clone().filter(|b| !b.is_empty()),
            profile: self.profile.clone().filter(|p| !p.is_empty()),
            status: self.status.map(Into::into),
        }
    }

    fn needle(&self) -> Option<String> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
    }
}

fn text_matches(row: &usage::RequestRow, needle: &str) -> bool {
    [
        Some(&row.requested_model),
        row.upstream_model.as_ref(),
        row.backend.as_ref(),
        row.client.as_ref(),
    ]
    .into_iter()
    .flatten()
    .any(|s| s.to_lowercase().contains(needle))
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct UsagePage {
    pub rows: Vec<RequestRow>,
    /// Requests matching the filter. Without a text search it comes from the per-hour
    /// rollups, so a range starting inside an hour counts that whole hour.
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// Sums over a set of requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Type)]
pub struct Totals {
    pub requests: u64,
    pub errors: u64,
    pub cancelled: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Spend on the requests whose price is known.
    pub cost_usd: f64,
    /// Requests whose cost is unknown (no price for the model): `cost_usd` leaves them out.
    pub unpriced: u64,
    /// What the requests would have cost at the requested (Claude) models' prices.
    pub cloud_equivalent_usd: f64,
    /// Cloud-equivalent minus actual cost, over requests where both are known.
    pub saved_usd: f64,
    pub avg_latency_ms: f64,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl From<usage::Totals> for Totals {
    fn from(t: usage::Totals) -> Self {
        Self {
            requests: count(t.requests),
            errors: count(t.errors),
            cancelled: count(t.cancelled),
            input_tokens: count(t.input_tokens),
            output_tokens: count(t.output_tokens),
            cache_read_tokens: count(t.cache_read_tokens),
            cache_write_tokens: count(t.cache_write_tokens),
            cost_usd: t.cost_usd,
            unpriced: count(t.unpriced),
            cloud_equivalent_usd: t.cloud_equiv_usd,
            saved_usd: t.saved_usd,
            avg_latency_ms: t.avg_latency_ms,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct DayPoint {
    /// Start of the UTC day, Unix ms.
    pub start_ms: i64,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct Slice {
    pub label: String,
    /// For backends: whether it runs on this machine or the private network; `None` for models
    /// (a requested model may be served either way) and for backends no longer configured.
    pub local: Option<bool>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct UsageSummary {
    pub total: Totals,
    pub local: Totals,
    pub cloud: Totals,
    /// What routing saved against the requested models' prices (where both prices are known).
    pub saved_usd: f64,
    pub per_day: Vec<DayPoint>,
    /// By requested model, largest spend first.
    pub by_model: Vec<Slice>,
    /// By backend, largest spend first.
    pub by_backend: Vec<Slice>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ExportResult {
    pub path: String,
    pub rows: u64,
    /// The filter had a text search, which the export does not apply.
    pub text_ignored: bool,
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm), to avoid a date crate.
pub(crate) fn day_string(ms: i64) -> String {
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// One page of the history, newest first.
pub fn history_page(
    store: &UsageStore,
    f: &UsageFilter,
    page: u32,
    page_size: u32,
) -> Result<UsagePage, UsageError> {
    let filter = f.store_filter();
    let offset = page.saturating_mul(page_size);
    let (rows, total) = match f.needle() {
        None => {
            let rows: Vec<RequestRow> = store
                .recent(&filter, page_size, offset)?
                .into_iter()
                .map(RequestRow::from)
                .collect();
            let seen = u64::from(offset) + rows.len() as u64;
            (rows, count(store.totals(&filter)?.requests).max(seen))
        }
        Some(needle) => {
            let mut rows = Vec::new();
            let mut total = 0u64;
            let mut at = 0u32;
            loop {
                let chunk = store.recent(&filter, SCAN_CHUNK, at)?;
                let n = chunk.len();
                for r in chunk.into_iter().filter(|r| text_matches(r, &needle)) {
                    if total >= u64::from(offset) && rows.len() < page_size as usize {
                        rows.push(RequestRow::from(r));
                    }
                    total += 1;
                }
                if n < SCAN_CHUNK as usize {
                    break;
                }
                at = at.saturating_add(SCAN_CHUNK);
            }
            (rows, total)
        }
    };
    Ok(UsagePage {
        rows,
        total,
        page,
        page_size,
    })
}

/// Totals, series and breakdowns for the filter; `config` says which backends are local.
pub fn summary(
    store: &UsageStore,
    config: &Config,
    f: &UsageFilter,
) -> Result<UsageSummary, UsageError> {
    let filter = f.store_filter();
    let savings = store.savings(&filter)?;
    let per_day = store
        .series(&filter, Bucket::Day, None)?
        .into_iter()
        .map(|p| DayPoint {
            start_ms: p.start_ms,
            day: day_string(p.start_ms),
            totals: p.totals.into(),
        })
        .collect();
    let by_model = store
        .by(&filter, GroupBy::Model)?
        .into_iter()
        .map(|g| Slice {
            label: g.key,
            local: None,
            totals: g.totals.into(),
        })
        .collect();
    let by_backend = store
        .by(&filter, GroupBy::Backend)?
        .into_iter()
        .map(|g| Slice {
            local: config.backend(&g.key).map(|b| b.is_local()),
            // Requests refused before any backend was chosen (no route, paused...).
            label: if g.key.is_empty() {
                "(none)".into()
            } else {
                g.key
            },
            totals: g.totals.into(),
        })
        .collect();
    Ok(UsageSummary {
        total: store.totals(&filter)?.into(),
        local: savings.local.into(),
        cloud: savings.cloud.into(),
        saved_usd: savings.saved_usd,
        per_day,
        by_model,
        by_backend,
    })
}

fn reader(state: &SharedState) -> CmdResult<Arc<UsageReader>> {
    state.usage.clone().ok_or_else(|| {
        CommandError::new(
            ErrorKind::Unavailable,
            "This engine keeps no usage history (it was started without a usage database)",
        )
    })
}

#[tauri::command]
#[specta::specta]
pub async fn query_usage(
    state: State<'_, SharedState>,
    filter: UsageFilter,
    page: u32,
    page_size: u32,
) -> CmdResult<UsagePage> {
    if page_size == 0 || page_size > 500 {
        return Err(CommandError::invalid("page_size must be between 1 and 500"));
    }
    reader(&state)?
        .query(move |s| history_page(s, &filter, page, page_size))
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn usage_summary(
    state: State<'_, SharedState>,
    filter: UsageFilter,
) -> CmdResult<UsageSummary> {
    let config = state.engine.config();
    reader(&state)?
        .query(move |s| summary(s, &config, &filter))
        .await
}

fn export_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|d| d.download_dir().map(PathBuf::from))
        .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().to_path_buf()))
        .unwrap_or_else(std::env::temp_dir)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `switchyard-usage-2026-11-24-0930.csv` (UTC), so exports on the same day do not collide.
fn export_name(now_ms: i64) -> String {
    let minutes = now_ms.rem_euclid(86_400_000) / 60_000;
    format!(
        "switchyard-usage-{}-{:02}{:02}.csv",
        day_string(now_ms),
        minutes / 60,
        minutes % 60
    )
}

/// Write the CSV next to `path` first and rename it into place, so a failed export leaves no
/// half-written file behind.
pub fn export_to(db: &Path, filter: &Filter, path: &Path) -> CmdResult<u64> {
    let io_err = |e: std::io::Error| {
        CommandError::new(
            ErrorKind::Io,
            format!("Could not write {}: {e}", path.display()),
        )
    };
    let store = UsageStore::open_read_only(db)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let part = path.with_extension("csv.part");
    let written = (|| -> CmdResult<u64> {
        let file = std::fs::File::create(&part).map_err(io_err)?;
        let mut out = std::io::BufWriter::new(file);
        let rows = usage::write_csv(&store, filter, &mut out).map_err(|e| match e {
            UsageError::Csv(e) => CommandError::new(
                ErrorKind::Io,
                format!("Could not write {}: {e}", path.display()),
            ),
            other => other.into(),
        })?;
        out.flush().map_err(io_err)?;
        out.get_ref().sync_all().map_err(io_err)?;
        Ok(rows)
    })();
    match written {
        Ok(rows) => {
            std::fs::rename(&part, path).map_err(io_err)?;
            Ok(rows)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Writes the history the filter selects (newest first) as CSV into the Downloads folder and
/// returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn export_usage_csv(
    state: State<'_, SharedState>,
    filter: UsageFilter,
) -> CmdResult<ExportResult> {
    // Its own connection: a long export must not hold up the other screens' queries.
    let db = reader(&state)?.path().to_owned();
    let path = export_dir().join(export_name(now_ms()));
    let text_ignored = filter.needle().is_some();
    let store_filter = filter.store_filter();
    let target = path.clone();
    let rows = tokio::task::spawn_blocking(move || export_to(&db, &store_filter, &target))
        .await
        .map_err(|e| CommandError::new(ErrorKind::Engine, format!("export failed: {e}")))??;
    Ok(ExportResult {
        path: path.display().to_string(),
        rows,
        text_ignored,
    })
}

#[cfg(test)]
mod tests {
    use switchyard_core::anthropic::Usage;
    use switchyard_core::usage::{PricedRecord, RequestStatus, UsageRecord};

    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-11-23T00:00:00Z
    const NOV23: i64 = 1_795_392_000_000;

    struct Req {
        ms: i64,
        model: &'static str,
        backend: &'static str,
        status: RequestStatus,
        local: bool,
        cost: Option<f64>,
        equiv: Option<f64>,
    }

    fn req(ms: i64, model: &'static str, backend: &'static str) -> Req {
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

    fn priced(r: &Req) -> PricedRecord {
        PricedRecord {
            record: UsageRecord {
                started_at_ms: r.ms,
                client: Some("claude-cli/2.1.30".into()),
                session_id: None,
                requested_model: r.model.into(),
                profile: if r.local { "local" } else { "cloud" }.into(),
                backend: Some(r.backend.into()),
                backend_kind: None,
                upstream_model: Some(format!("{}-upstream", r.backend)),
                stream: true,
                status: r.status,
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
            },
            local: r.local,
            cost_usd: r.cost,
            cloud_equiv_usd: r.equiv,
        }
    }

    /// A real database written through `UsageStore::insert`, read back read-only like the app.
    fn store_with(reqs: &[Req]) -> (tempfile::TempDir, UsageStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.sqlite3");
        let mut w = UsageStore::open(&path).unwrap();
        w.insert(&reqs.iter().map(priced).collect::<Vec<_>>())
            .unwrap();
        let r = UsageStore::open_read_only(&path).unwrap();
        (dir, r)
    }

    fn config() -> Config {
        switchyard_core::config::parse(
            r#"
active_profile = "local"
[[backends]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
[[backends]]
id = "anthropic"
kind = "anthropic"
base_url = "https://api.anthropic.com"
[profiles.local]
default = { backend = "ollama", model = "qwen" }
"#,
            Path::new("config.toml"),
        )
        .unwrap()
    }

    #[test]
    fn civil_dates_and_export_names() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(951_782_400_000), "2000-02-29");
        assert_eq!(day_string(NOV23), "2026-11-23");
        assert_eq!(day_string(NOV23 - 1), "2026-11-22");
        assert_eq!(
            export_name(NOV23 + 9 * 3_600_000 + 5 * 60_000 + 59_000),
            "switchyard-usage-2026-11-23-0905.csv"
        );
    }

    #[test]
    fn summary_splits_local_and_cloud_days_models_backends() {
        let mut unknown = req(NOV23 + DAY + 60_000, "claude-opus-4-1", "kimi");
        unknown.cost = None;
        unknown.equiv = None;
        let mut failed = req(NOV23 + 2_000, "claude-sonnet-4-5", "ollama");
        failed.status = RequestStatus::Error;
        let (_dir, store) = store_with(&[
            req(NOV23 + 1_000, "claude-sonnet-4-5", "ollama"),
            failed,
            req(NOV23 + DAY, "claude-opus-4-1", "anthropic"),
            unknown,
        ]);
        let s = summary(&store, &config(), &UsageFilter::default()).unwrap();
        assert_eq!(s.total.requests, 4);
        assert_eq!(s.total.errors, 1);
        assert_eq!(s.total.input_tokens, 400);
        // The kimi request has no price: left out of the cost and counted as unpriced.
        assert_eq!(s.total.unpriced, 1);
        assert!((s.total.cost_usd - 0.5).abs() < 1e-9);
        assert_eq!((s.local.requests, s.cloud.requests), (2, 2));
        assert!((s.saved_usd - 1.0).abs() < 1e-9, "{}", s.saved_usd);
        let days: Vec<_> = s
            .per_day
            .iter()
            .map(|d| (d.day.as_str(), d.totals.requests))
            .collect();
        assert_eq!(days, [("2026-11-23", 2), ("2026-11-24", 2)]);
        assert_eq!(s.per_day[0].start_ms, NOV23);
        let backends: Vec<_> = s
            .by_backend
            .iter()
            .map(|b| (b.label.as_str(), b.local, b.totals.requests))
            .collect();
        // Largest spend first; kimi is not in the config, so its locality is unknown.
        assert_eq!(
            backends,
            [
                ("anthropic", Some(false), 1),
                ("ollama", Some(true), 2),
                ("kimi", None, 1)
            ]
        );
        let models: Vec<_> = s
            .by_model
            .iter()
            .map(|m| (m.label.as_str(), m.local))
            .collect();
        assert_eq!(
            models,
            [("claude-opus-4-1", None), ("claude-sonnet-4-5", None)]
        );

        let only_ollama = UsageFilter {
            backend: Some("ollama".into()),
            ..UsageFilter::default()
        };
        let s = summary(&store, &config(), &only_ollama).unwrap();
        assert_eq!((s.total.requests, s.cloud.requests), (2, 0));
    }

    #[test]
    fn history_pages_newest_first_with_filters_and_text() {
        let reqs: Vec<Req> = (0..7)
            .map(|i| {
                let model = if i % 2 == 0 {
                    "claude-sonnet-4-5"
                } else {
                    "claude-Haiku-4-5"
                };
                let backend = if i == 6 { "anthropic" } else { "ollama" };
                req(NOV23 + i * 60_000, model, backend)
            })
            .collect();
        let (_dir, store) = store_with(&reqs);

        let all = UsageFilter::default();
        let p0 = history_page(&store, &all, 0, 3).unwrap();
        let p2 = history_page(&store, &all, 2, 3).unwrap();
        assert_eq!(p0.total, 7);
        let times: Vec<_> = p0.rows.iter().map(|r| r.started_at_ms - NOV23).collect();
        assert_eq!(times, [360_000, 300_000, 240_000]);
        assert_eq!(p2.rows.len(), 1);
        assert_eq!(p2.rows[0].started_at_ms, NOV23);

        let haiku = UsageFilter {
            text: Some("  HAIKU ".into()),
            ..UsageFilter::default()
        };
        let p = history_page(&store, &haiku, 0, 2).unwrap();
        assert_eq!(p.total, 3);
        assert_eq!(p.rows.len(), 2);
        assert!(
            p.rows
                .iter()
                .all(|r| r.requested_model == "claude-Haiku-4-5")
        );
        let p = history_page(&store, &haiku, 1, 2).unwrap();
        assert_eq!((p.total, p.rows.len()), (3, 1));

        // Text also matches backend, upstream model and client.
        let upstream = UsageFilter {
            text: Some("anthropic-upstream".into()),
            ..UsageFilter::default()
        };
        assert_eq!(history_page(&store, &upstream, 0, 10).unwrap().total, 1);

        let cloud_errors = UsageFilter {
            backend: Some("anthropic".into()),
            status: Some(RowStatus::Error),
            ..UsageFilter::default()
        };
        let p = history_page(&store, &cloud_errors, 0, 10).unwrap();
        assert_eq!((p.total, p.rows.len()), (0, 0));

        let since = UsageFilter {
            since_ms: Some(NOV23 + 300_000),
            ..UsageFilter::default()
        };
        assert_eq!(history_page(&store, &since, 0, 10).unwrap().rows.len(), 2);
    }

    /// What the desktop is for: requests recorded by an earlier engine (an earlier run of the
    /// app, or `switchyard serve` on the same data dir) show in a later one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_from_an_earlier_engine_run_show_up() {
        use switchyard_core::engine::{Engine, EngineOptions};
        use switchyard_core::secrets::{MemoryStore, SecretString};
        use switchyard_core::usage::{DB_FILE_NAME, UsageSink};

        let dir = tempfile::tempdir().unwrap();
        let start = || {
            Engine::start(
                EngineOptions {
                    config_path: Some(dir.path().join("config.toml")),
                    data_dir: Some(dir.path().join("data")),
                    listen: Some("127.0.0.1:0".parse().unwrap()),
                    token: Some(SecretString::from("sy-test-token".to_owned())),
                    ..EngineOptions::default()
                },
                Arc::new(MemoryStore::default()),
            )
        };
        let first = start().await.unwrap();
        let writer = first.usage_writer().unwrap().clone();
        // The default config's `ollama` backend is on 127.0.0.1: local, free.
        writer.record(priced(&req(now_ms() - 60_000, "claude-sonnet-4-5", "ollama")).record);
        first.shutdown().await;

        let second = start().await.unwrap();
        let reader = Arc::new(UsageReader::new(dir.path().join("data").join(DB_FILE_NAME)));
        let page = reader
            .query(|s| history_page(s, &UsageFilter::default(), 0, 10))
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let row = &page.rows[0];
        assert_eq!(row.backend.as_deref(), Some("ollama"));
        assert!(row.local);
        assert_eq!(row.cost_usd, Some(0.0));
        // Priced by the engine's writer at the bundled Claude Sonnet price.
        assert!(row.cloud_equivalent_usd.is_some_and(|c| c > 0.0), "{row:?}");
        let config = second.config();
        let s = reader
            .query(move |s| summary(s, &config, &UsageFilter::default()))
            .await
            .unwrap();
        assert_eq!((s.total.requests, s.local.requests), (1, 1));
        assert_eq!(s.by_backend[0].local, Some(true));
        assert!(s.saved_usd > 0.0);
        second.shutdown().await;
    }

    #[test]
    fn export_writes_every_filtered_row_and_fails_readably() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usage.sqlite3");
        let mut w = UsageStore::open(&db).unwrap();
        w.insert(&[
            priced(&req(NOV23, "claude-sonnet-4-5", "ollama")),
            priced(&req(NOV23 + 1, "claude-opus-4-1", "anthropic")),
        ])
        .unwrap();
        let out = dir.path().join("out").join("export.csv");
        let filter = UsageFilter {
            backend: Some("anthropic".into()),
            ..UsageFilter::default()
        };
        assert_eq!(export_to(&db, &filter.store_filter(), &out).unwrap(), 1);
        let csv = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[0].starts_with("id,started_at_ms,"), "{csv}");
        assert!(lines[1].contains("claude-opus-4-1"), "{csv}");
        assert!(!out.with_extension("csv.part").exists());

        // A directory where the file should go: the error names the path.
        let blocked = dir.path().join("blocked.csv");
        std::fs::create_dir(blocked.with_extension("csv.part")).unwrap();
        let err = export_to(&db, &Filter::default(), &blocked).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(err.message.contains("blocked.csv"), "{}", err.message);
        assert!(!blocked.exists());
    }
}
