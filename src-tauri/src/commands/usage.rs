//! Usage screen: history with filters and paging, per-day/model/backend summaries, CSV export.
//!
//! Until `switchyard_core::usage::UsageStore` (SQLite) lands on main, these read the requests the
//! app has seen since it started; the IPC types stay the same when the store is wired in.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

use crate::commands::overview::{RequestRow, RowStatus};
use crate::error::{CmdResult, CommandError};
use crate::state::SharedState;

#[derive(Debug, Clone, Default, Deserialize, Type)]
pub struct UsageFilter {
    /// Inclusive lower bound, Unix ms.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, Unix ms.
    pub until_ms: Option<i64>,
    /// Matched against requested model, upstream model, backend and client.
    pub text: Option<String>,
    pub profile: Option<String>,
    pub backend: Option<String>,
    pub status: Option<RowStatus>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct UsagePage {
    pub rows: Vec<RequestRow>,
    pub total: u32,
    pub page: u32,
    pub page_size: u32,
}

#[derive(Debug, Clone, Default, Serialize, Type)]
pub struct Totals {
    pub requests: u32,
    pub errors: u32,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub cloud_equivalent_usd: f64,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct DayPoint {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct Slice {
    pub label: String,
    pub local: bool,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct UsageSummary {
    pub total: Totals,
    pub local: Totals,
    pub cloud: Totals,
    /// What local requests would have cost on the cloud, minus what they cost.
    pub savings_usd: f64,
    pub per_day: Vec<DayPoint>,
    pub by_model: Vec<Slice>,
    pub by_backend: Vec<Slice>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct ExportResult {
    pub path: String,
    pub rows: u32,
}

fn matches(row: &RequestRow, f: &UsageFilter) -> bool {
    if f.since_ms.is_some_and(|s| row.started_at_ms < s)
        || f.until_ms.is_some_and(|u| row.started_at_ms >= u)
        || f.profile.as_ref().is_some_and(|p| &row.profile != p)
        || f.backend
            .as_ref()
            .is_some_and(|b| row.backend.as_ref() != Some(b))
        || f.status.is_some_and(|s| row.status != s)
    {
        return false;
    }
    match f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => true,
        Some(t) => {
            let t = t.to_lowercase();
            [
                Some(&row.requested_model),
                row.upstream_model.as_ref(),
                row.backend.as_ref(),
                row.client.as_ref(),
            ]
            .into_iter()
            .flatten()
            .any(|s| s.to_lowercase().contains(&t))
        }
    }
}

fn add(t: &mut Totals, r: &RequestRow) {
    t.requests += 1;
    if r.status == RowStatus::Error {
        t.errors += 1;
    }
    t.input_tokens += r.input_tokens;
    t.output_tokens += r.output_tokens;
    t.cost_usd += r.cost_usd.unwrap_or(0.0);
    t.cloud_equivalent_usd += r.cloud_equivalent_usd.or(r.cost_usd).unwrap_or(0.0);
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

pub fn filtered(state: &SharedState, f: &UsageFilter) -> Vec<RequestRow> {
    let cfg = state.engine.config();
    let mut rows: Vec<RequestRow> = state
        .records()
        .iter()
        .map(|r| RequestRow::of(r, &cfg))
        .filter(|r| matches(r, f))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.started_at_ms));
    rows
}

pub fn summarize(rows: &[RequestRow]) -> UsageSummary {
    let mut total = Totals::default();
    let mut local = Totals::default();
    let mut cloud = Totals::default();
    let mut days: BTreeMap<String, Totals> = BTreeMap::new();
    let mut models: BTreeMap<String, (bool, Totals)> = BTreeMap::new();
    let mut backends: BTreeMap<String, (bool, Totals)> = BTreeMap::new();
    for r in rows {
        add(&mut total, r);
        add(if r.local { &mut local } else { &mut cloud }, r);
        add(days.entry(day_string(r.started_at_ms)).or_default(), r);
        let model = r
            .upstream_model
            .clone()
            .unwrap_or_else(|| r.requested_model.clone());
        add(
            &mut models
                .entry(model)
                .or_insert((r.local, Totals::default()))
                .1,
            r,
        );
        let backend = r.backend.clone().unwrap_or_else(|| "(none)".into());
        add(
            &mut backends
                .entry(backend)
                .or_insert((r.local, Totals::default()))
                .1,
            r,
        );
    }
    let slices = |m: BTreeMap<String, (bool, Totals)>| {
        let mut v: Vec<Slice> = m
            .into_iter()
            .map(|(label, (local, totals))| Slice {
                label,
                local,
                totals,
            })
            .collect();
        v.sort_by(|a, b| {
            (b.totals.input_tokens + b.totals.output_tokens)
                .cmp(&(a.totals.input_tokens + a.totals.output_tokens))
        });
        v
    };
    UsageSummary {
        savings_usd: (local.cloud_equivalent_usd - local.cost_usd).max(0.0),
        total,
        local,
        cloud,
        per_day: days
            .into_iter()
            .map(|(day, totals)| DayPoint { day, totals })
            .collect(),
        by_model: slices(models),
        by_backend: slices(backends),
    }
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
    let rows = filtered(&state, &filter);
    let total = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    let rows = rows
        .into_iter()
        .skip(page as usize * page_size as usize)
        .take(page_size as usize)
        .collect();
    Ok(UsagePage {
        rows,
        total,
        page,
        page_size,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn usage_summary(
    state: State<'_, SharedState>,
    filter: UsageFilter,
) -> CmdResult<UsageSummary> {
    Ok(summarize(&filtered(&state, &filter)))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn to_csv(rows: &[RequestRow]) -> String {
    let mut out = String::from(
        "started_at_ms,day,requested_model,profile,backend,upstream_model,stream,status,http_status,error_type,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,ttft_ms,latency_ms,attempts,cost_usd,client\n",
    );
    for r in rows {
        let opt = |o: &Option<String>| csv_field(o.as_deref().unwrap_or(""));
        let fields = [
            r.started_at_ms.to_string(),
            day_string(r.started_at_ms),
            csv_field(&r.requested_model),
            csv_field(&r.profile),
            opt(&r.backend),
            opt(&r.upstream_model),
            r.stream.to_string(),
            format!("{:?}", r.status).to_lowercase(),
            r.http_status.to_string(),
            opt(&r.error_type),
            r.input_tokens.to_string(),
            r.output_tokens.to_string(),
            r.cache_read_tokens.to_string(),
            r.cache_write_tokens.to_string(),
            r.ttft_ms.map(|v| v.to_string()).unwrap_or_default(),
            r.latency_ms.to_string(),
            r.attempts.to_string(),
            r.cost_usd.map(|v| format!("{v:.6}")).unwrap_or_default(),
            opt(&r.client),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn export_dir() -> PathBuf {
    directories::UserDirs::new()
        .and_then(|d| d.download_dir().map(PathBuf::from))
        .or_else(|| directories::UserDirs::new().map(|d| d.home_dir().to_path_buf()))
        .unwrap_or_else(std::env::temp_dir)
}

/// Writes the filtered history as CSV into the Downloads folder and returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn export_usage_csv(
    state: State<'_, SharedState>,
    filter: UsageFilter,
) -> CmdResult<ExportResult> {
    let rows = filtered(&state, &filter);
    let now = crate::commands::overview::start_of_today_ms();
    let dir = export_dir();
    let path = dir.join(format!("switchyard-usage-{}.csv", day_string(now)));
    let csv = to_csv(&rows);
    tokio::fs::create_dir_all(&dir).await?;
    tokio::fs::write(&path, csv).await.map_err(|e| {
        CommandError::new(
            crate::error::ErrorKind::Io,
            format!("Could not write {}: {e}", path.display()),
        )
    })?;
    Ok(ExportResult {
        path: path.display().to_string(),
        rows: u32::try_from(rows.len()).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ms: i64, model: &str, backend: &str, local: bool, status: RowStatus) -> RequestRow {
        RequestRow {
            started_at_ms: ms,
            client: Some("claude-cli/2.1".into()),
            requested_model: model.into(),
            profile: "local".into(),
            backend: Some(backend.into()),
            backend_kind: None,
            upstream_model: None,
            stream: true,
            status,
            http_status: 200,
            error_type: None,
            error_message: None,
            input_tokens: 100,
            output_tokens: 10,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            ttft_ms: Some(5),
            latency_ms: 50,
            attempts: 1,
            cost_usd: Some(if local { 0.0 } else { 0.5 }),
            cloud_equivalent_usd: if local { Some(0.25) } else { None },
            local,
        }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(day_string(0), "1970-01-01");
        assert_eq!(day_string(951_782_400_000), "2000-02-29");
        assert_eq!(day_string(1_795_392_000_000), "2026-11-23");
        assert_eq!(day_string(1_795_392_000_000 - 1), "2026-11-22");
    }

    #[test]
    fn summary_splits_local_and_cloud_and_days() {
        let day = 86_400_000;
        let rows = vec![
            row(0, "claude-sonnet-4-5", "ollama", true, RowStatus::Ok),
            row(10, "claude-sonnet-4-5", "ollama", true, RowStatus::Error),
            row(day, "claude-opus-4-1", "anthropic", false, RowStatus::Ok),
        ];
        let s = summarize(&rows);
        assert_eq!(s.total.requests, 3);
        assert_eq!(s.total.errors, 1);
        assert_eq!(s.local.requests, 2);
        assert_eq!(s.cloud.requests, 1);
        assert_eq!(s.per_day.len(), 2);
        assert_eq!(s.per_day[0].day, "1970-01-01");
        assert!((s.savings_usd - 0.5).abs() < 1e-9);
        assert_eq!(s.by_backend[0].label, "ollama");
    }

    #[test]
    fn text_filter_is_case_insensitive_and_csv_escapes() {
        let mut r = row(0, "Claude-Sonnet", "ollama", true, RowStatus::Ok);
        let f = UsageFilter {
            text: Some("sonnet".into()),
            ..UsageFilter::default()
        };
        assert!(matches(&r, &f));
        let f = UsageFilter {
            status: Some(RowStatus::Error),
            ..UsageFilter::default()
        };
        assert!(!matches(&r, &f));
        r.client = Some("a \"quoted\", client".into());
        let csv = to_csv(&[r]);
        assert!(csv.contains("\"a \"\"quoted\"\", client\""), "{csv}");
        assert_eq!(csv.lines().count(), 2);
    }
}
