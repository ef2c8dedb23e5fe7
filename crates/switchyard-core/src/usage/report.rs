//! Usage reports as the screens show them: a page of history with a text search, a summary
//! (totals, local versus cloud, savings, by model, by backend, one point per UTC day of the
//! range, zeros included), and today's totals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::pricing::is_local_url;

use super::calendar::{date_start_ms, now_ms, utc_date, utc_day_start_ms};
use super::{Bucket, Filter, GroupBy, RequestRow, RequestStatus, Totals, UsageError, UsageStore};

/// Store rows read per query while searching the history for a text.
const SCAN_CHUNK: u32 = 2000;

/// The largest page of history one query returns.
pub const MAX_PAGE_SIZE: u32 = 500;

/// At most this many days in a daily series (ten years): a range starting in 1970 must not
/// make the window draw twenty thousand empty days.
const MAX_DAYS: usize = 3660;

/// What the Usage screen asks about; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsageFilter {
    /// Inclusive lower bound, Unix ms.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, Unix ms.
    pub until_ms: Option<i64>,
    /// History only: matched, ignoring case, against requested model, upstream model, backend
    /// and client. Totals, charts and the CSV export read the per-hour rollups, which do not
    /// keep those columns, so they ignore it.
    pub text: Option<String>,
    pub profile: Option<String>,
    pub backend: Option<String>,
    pub status: Option<RequestStatus>,
    /// History only: one Claude Code session's requests (the Sessions view's drill-down).
    #[serde(default)]
    pub session_id: Option<String>,
}

impl UsageFilter {
    /// The store filter (without the text search); empty strings mean "any".
    pub fn store_filter(&self) -> Filter {
        let some = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        Filter {
            since_ms: self.since_ms,
            until_ms: self.until_ms,
            model: None,
            backend: some(&self.backend),
            profile: some(&self.profile),
            status: self.status,
            session_id: some(&self.session_id),
        }
    }

    /// The text search, trimmed and lowercased; `None` when there is none.
    pub fn needle(&self) -> Option<String> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_lowercase)
    }
}

fn text_matches(row: &RequestRow, needle: &str) -> bool {
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

/// One page of the history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct HistoryPage {
    pub rows: Vec<RequestRow>,
    /// Requests matching the filter. Without a text search it comes from the per-hour
    /// rollups, so a range starting inside an hour counts that whole hour.
    pub total: u64,
    pub page: u32,
    pub page_size: u32,
}

/// One UTC day of a daily series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DayPoint {
    /// Start of the UTC day, Unix ms.
    pub start_ms: i64,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub totals: Totals,
}

/// The totals of one model or backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Slice {
    /// The model or backend; empty for requests refused before any backend was chosen.
    pub label: String,
    /// For backends: whether it runs on this machine or the private network; `None` for models
    /// (a requested model may be served either way) and for backends no longer configured.
    pub local: Option<bool>,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UsageSummary {
    pub total: Totals,
    pub local: Totals,
    pub cloud: Totals,
    /// What routing saved against the requested models' prices (where both prices are known).
    pub saved_usd: f64,
    /// Every UTC day of the range, oldest first, days without requests included (zeros).
    pub per_day: Vec<DayPoint>,
    /// By requested model, largest spend first.
    pub by_model: Vec<Slice>,
    /// By backend, largest spend first.
    pub by_backend: Vec<Slice>,
}

/// Today's (UTC) totals.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Today {
    /// Start of the UTC day these totals are for, Unix ms.
    pub day_start_ms: i64,
    pub totals: Totals,
}

impl Today {
    /// Whether these totals are still today's at `now_ms` (cached ones go stale at midnight).
    pub fn is_current(&self, now_ms: i64) -> bool {
        self.day_start_ms == utc_day_start_ms(now_ms)
    }
}

impl UsageStore {
    /// One page of the history (newest first), with the filter's text search applied.
    /// `page_size` is kept within 1..=[`MAX_PAGE_SIZE`].
    pub fn history_page(
        &self,
        filter: &UsageFilter,
        page: u32,
        page_size: u32,
    ) -> Result<HistoryPage, UsageError> {
        let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        let store_filter = filter.store_filter();
        let offset = page.saturating_mul(page_size);
        let (rows, total) = match filter.needle() {
            None => {
                let rows = self.recent(&store_filter, page_size, offset)?;
                let seen = u64::from(offset) + rows.len() as u64;
                let total = if store_filter.session_id.is_some() {
                    self.count(&store_filter)?
                } else {
                    self.totals(&store_filter)?.requests
                };
                (rows, total.max(seen))
            }
            Some(needle) => {
                let mut rows = Vec::new();
                let mut total = 0u64;
                let mut at = 0u32;
                loop {
                    let chunk = self.recent(&store_filter, SCAN_CHUNK, at)?;
                    let n = chunk.len();
                    for r in chunk.into_iter().filter(|r| text_matches(r, &needle)) {
                        if total >= u64::from(offset) && rows.len() < page_size as usize {
                            rows.push(r);
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
        Ok(HistoryPage {
            rows,
            total,
            page,
            page_size,
        })
    }

    /// One point per UTC day from the day `since_ms` falls in (or the first day with data)
    /// to the day before `until_ms` (or today at `now_ms`), zeros included.
    pub fn per_day(&self, filter: &Filter, now_ms: i64) -> Result<Vec<DayPoint>, UsageError> {
        let series = self.series(filter, Bucket::Day, None)?;
        let first = match filter.since_ms {
            Some(since) => utc_date(since),
            None => series.first().and_then(|p| utc_date(p.start_ms)),
        };
        let end_ms = filter.until_ms.map_or(now_ms, |u| u.saturating_sub(1));
        let last = utc_date(end_ms).max(series.last().and_then(|p| utc_date(p.start_ms)));
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(Vec::new());
        };
        let mut by_day: HashMap<i64, Totals> =
            series.into_iter().map(|p| (p.start_ms, p.totals)).collect();
        let mut days = Vec::new();
        let mut day = first;
        while day <= last {
            let Some(start_ms) = date_start_ms(day) else {
                break;
            };
            days.push(DayPoint {
                start_ms,
                day: day.to_string(),
                totals: by_day.remove(&start_ms).unwrap_or_default(),
            });
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        // The most recent days matter most when the range is absurdly long.
        if days.len() > MAX_DAYS {
            days.drain(..days.len() - MAX_DAYS);
        }
        Ok(days)
    }

    /// Totals, daily series and breakdowns for the filter, with today as the end of an
    /// open range; `config` says which backends are local.
    pub fn summary(
        &self,
        filter: &UsageFilter,
        config: &Config,
    ) -> Result<UsageSummary, UsageError> {
        self.summary_at(filter, config, now_ms())
    }

    /// [`UsageStore::summary`] as of `now_ms`.
    pub fn summary_at(
        &self,
        filter: &UsageFilter,
        config: &Config,
        now_ms: i64,
    ) -> Result<UsageSummary, UsageError> {
        let filter = filter.store_filter();
        let savings = self.savings(&filter)?;
        let by_model = self
            .by(&filter, GroupBy::Model)?
            .into_iter()
            .map(|g| Slice {
                label: g.key,
                local: None,
                totals: g.totals,
            })
            .collect();
        let by_backend = self
            .by(&filter, GroupBy::Backend)?
            .into_iter()
            .map(|g| Slice {
                local: config.backend(&g.key).map(|b| is_local_url(&b.base_url)),
                label: g.key,
                totals: g.totals,
            })
            .collect();
        Ok(UsageSummary {
            total: self.totals(&filter)?,
            local: savings.local,
            cloud: savings.cloud,
            saved_usd: savings.saved_usd,
            per_day: self.per_day(&filter, now_ms)?,
            by_model,
            by_backend,
        })
    }

    /// Today's (UTC) totals.
    pub fn today(&self) -> Result<Today, UsageError> {
        self.today_at(now_ms())
    }

    /// The totals of the UTC day `now_ms` falls in.
    pub fn today_at(&self, now_ms: i64) -> Result<Today, UsageError> {
        let day_start_ms = utc_day_start_ms(now_ms);
        let totals = self.totals(&Filter {
            since_ms: Some(day_start_ms),
            ..Filter::default()
        })?;
        Ok(Today {
            day_start_ms,
            totals,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::test_support::{DAY, NOV23, Req, req, store_with};
    use super::*;

    fn config() -> Config {
        crate::config::parse(
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

    fn days(points: &[DayPoint]) -> Vec<(&str, u64)> {
        points
            .iter()
            .map(|d| (d.day.as_str(), d.totals.requests))
            .collect()
    }

    #[test]
    fn a_seven_day_range_has_seven_days_gaps_included() {
        let (_dir, store) = store_with(&[
            req(NOV23 + 3_600_000, "claude-sonnet-4-5", "ollama"),
            req(NOV23 + 2 * DAY, "claude-sonnet-4-5", "anthropic"),
            req(NOV23 + 2 * DAY + 60_000, "claude-sonnet-4-5", "anthropic"),
        ]);
        // Seven days ending today (Nov 27, noon).
        let now = NOV23 + 4 * DAY + 12 * 3_600_000;
        let filter = Filter {
            since_ms: Some(NOV23 - 2 * DAY),
            ..Filter::default()
        };
        let points = store.per_day(&filter, now).unwrap();
        assert_eq!(
            days(&points),
            [
                ("2026-11-21", 0),
                ("2026-11-22", 0),
                ("2026-11-23", 1),
                ("2026-11-24", 0),
                ("2026-11-25", 2),
                ("2026-11-26", 0),
                ("2026-11-27", 0),
            ]
        );
        assert_eq!(points[2].start_ms, NOV23);
        assert_eq!(points[3].start_ms, NOV23 + DAY);
        // The gap day is a real zero, not a missing point.
        assert_eq!(points[3].totals, Totals::default());
        assert!((points[4].totals.cost_usd - 1.0).abs() < 1e-9);
    }

    #[test]
    fn days_split_at_utc_midnight_and_the_end_is_exclusive() {
        let (_dir, store) = store_with(&[
            req(NOV23 + DAY - 1, "claude-sonnet-4-5", "ollama"),
            req(NOV23 + DAY, "claude-sonnet-4-5", "ollama"),
        ]);
        let both = Filter {
            since_ms: Some(NOV23),
            until_ms: Some(NOV23 + 2 * DAY),
            ..Filter::default()
        };
        assert_eq!(
            days(&store.per_day(&both, 0).unwrap()),
            [("2026-11-23", 1), ("2026-11-24", 1)]
        );
        // Until Nov 24 00:00 (exclusive): Nov 23 only.
        let first = Filter {
            until_ms: Some(NOV23 + DAY),
            ..both
        };
        assert_eq!(
            days(&store.per_day(&first, 0).unwrap()),
            [("2026-11-23", 1)]
        );
    }

    #[test]
    fn an_open_range_starts_at_the_first_day_with_data() {
        let (_dir, store) = store_with(&[req(NOV23 + 5_000, "claude-sonnet-4-5", "ollama")]);
        let now = NOV23 + 2 * DAY + 1;
        assert_eq!(
            days(&store.per_day(&Filter::default(), now).unwrap()),
            [("2026-11-23", 1), ("2026-11-24", 0), ("2026-11-25", 0)]
        );
        let (_dir, empty) = store_with(&[]);
        assert_eq!(empty.per_day(&Filter::default(), now).unwrap(), []);
    }

    #[test]
    fn today_counts_the_current_utc_day_only() {
        let mut failed = req(NOV23 + DAY + 10, "claude-sonnet-4-5", "anthropic");
        failed.status = RequestStatus::Error;
        let (_dir, store) = store_with(&[
            req(NOV23 + DAY - 1, "claude-sonnet-4-5", "anthropic"),
            req(NOV23 + DAY + 5, "claude-sonnet-4-5", "anthropic"),
            failed,
        ]);
        let today = store.today_at(NOV23 + DAY + 3_600_000).unwrap();
        assert_eq!(today.day_start_ms, NOV23 + DAY);
        assert_eq!((today.totals.requests, today.totals.errors), (2, 1));
        assert_eq!(today.totals.input_tokens, 200);
        assert!(today.is_current(NOV23 + 2 * DAY - 1));
        assert!(!today.is_current(NOV23 + 2 * DAY));
    }

    #[test]
    fn summary_splits_local_and_cloud_models_backends() {
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
        let all = UsageFilter {
            until_ms: Some(NOV23 + 2 * DAY),
            ..UsageFilter::default()
        };
        let s = store.summary(&all, &config()).unwrap();
        assert_eq!(s.total.requests, 4);
        assert_eq!(s.total.errors, 1);
        assert_eq!(s.total.input_tokens, 400);
        // The kimi request has no price: left out of the cost and counted as unpriced.
        assert_eq!(s.total.unpriced, 1);
        assert!((s.total.cost_usd - 0.5).abs() < 1e-9);
        assert_eq!((s.local.requests, s.cloud.requests), (2, 2));
        assert!((s.saved_usd - 1.0).abs() < 1e-9, "{}", s.saved_usd);
        assert_eq!(days(&s.per_day), [("2026-11-23", 2), ("2026-11-24", 2)]);
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
            ..all
        };
        let s = store.summary(&only_ollama, &config()).unwrap();
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
        let p0 = store.history_page(&all, 0, 3).unwrap();
        let p2 = store.history_page(&all, 2, 3).unwrap();
        // A page size of 0 would show nothing: it reads as 1.
        assert_eq!(store.history_page(&all, 0, 0).unwrap().rows.len(), 1);
        assert_eq!(p0.total, 7);
        let times: Vec<_> = p0.rows.iter().map(|r| r.started_at_ms - NOV23).collect();
        assert_eq!(times, [360_000, 300_000, 240_000]);
        assert_eq!(p2.rows.len(), 1);
        assert_eq!(p2.rows[0].started_at_ms, NOV23);

        let haiku = UsageFilter {
            text: Some("  HAIKU ".into()),
            ..UsageFilter::default()
        };
        let p = store.history_page(&haiku, 0, 2).unwrap();
        assert_eq!((p.total, p.rows.len()), (3, 2));
        assert!(
            p.rows
                .iter()
                .all(|r| r.requested_model == "claude-Haiku-4-5")
        );
        let p = store.history_page(&haiku, 1, 2).unwrap();
        assert_eq!((p.total, p.rows.len()), (3, 1));

        // Text also matches backend, upstream model and client.
        let upstream = UsageFilter {
            text: Some("anthropic-upstream".into()),
            ..UsageFilter::default()
        };
        assert_eq!(store.history_page(&upstream, 0, 10).unwrap().total, 1);

        let cloud_errors = UsageFilter {
            backend: Some("anthropic".into()),
            status: Some(RequestStatus::Error),
            ..UsageFilter::default()
        };
        let p = store.history_page(&cloud_errors, 0, 10).unwrap();
        assert_eq!((p.total, p.rows.len()), (0, 0));

        let since = UsageFilter {
            since_ms: Some(NOV23 + 300_000),
            ..UsageFilter::default()
        };
        assert_eq!(store.history_page(&since, 0, 10).unwrap().rows.len(), 2);
    }
}
