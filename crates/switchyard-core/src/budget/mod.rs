//! Spend limits: daily or monthly USD budgets per profile or per backend, soft (warn) or hard
//! (refuse with a 429). Spend so far comes from in-memory running totals the usage writer
//! keeps up to date (seeded from the database at start), so the request path never touches
//! SQLite. Periods are UTC days and months.

mod period;
mod spend;

use serde::{Deserialize, Serialize};

use crate::anthropic::{ApiError, ErrorType};
use crate::metrics::Metrics;

pub use period::{
    Period, day_start_ms, format_utc_ms, month_start_ms, next_reset_ms, utc_midnight_ms,
};
pub use spend::SpendTotals;

/// `[[budgets]]` in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Shown in warnings and refusals.
    pub name: String,
    /// Applies to requests made with this profile...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// ...or to requests answered by this backend (exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    pub period: Period,
    pub limit_usd: f64,
    #[serde(default)]
    pub mode: BudgetMode,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetMode {
    /// Log a warning and let the request through.
    #[default]
    Soft,
    /// Refuse requests (429) until the period resets.
    Hard,
}

/// What a budget check decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allow,
    Warn(String),
    Refuse(ApiError),
}

/// Which requests a check is about: a profile (before routing) or a backend (before an
/// attempt).
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Profile(&'a str),
    Backend(&'a str),
}

/// Check the budgets that apply to `scope` at `now_ms`. A hard budget that is spent refuses;
/// else a spent soft budget warns.
pub fn check(
    budgets: &[BudgetConfig],
    spend: &SpendTotals,
    scope: Scope<'_>,
    now_ms: i64,
) -> Decision {
    let mut warning = None;
    for budget in budgets {
        let applies = match scope {
            Scope::Profile(p) => budget.profile.as_deref() == Some(p),
            Scope::Backend(b) => budget.backend.as_deref() == Some(b),
        };
        if !applies {
            continue;
        }
        let spent = spend.spent(budget.period, scope, now_ms);
        if spent < budget.limit_usd {
            continue;
        }
        let target = match scope {
            Scope::Profile(p) => format!("profile {p:?}"),
            Scope::Backend(b) => format!("backend {b:?}"),
        };
        let message = format!(
            "budget {:?} is spent: ${spent:.2} of ${:.2} {} for {target}",
            budget.name,
            budget.limit_usd,
            budget.period.as_str()
        );
        match budget.mode {
            BudgetMode::Hard => {
                let reset = next_reset_ms(budget.period, now_ms);
                let seconds = u64::try_from((reset - now_ms).max(0) / 1000 + 1).unwrap_or(1);
                return Decision::Refuse(
                    ApiError::new(
                        ErrorType::RateLimitError,
                        format!(
                            "{message}; it resets in {} (raise limit_usd in the config or switch profile to continue)",
                            human_duration(seconds)
                        ),
                    )
                    .with_retry_after(Some(seconds)),
                );
            }
            BudgetMode::Soft => {
                if warning.is_none() {
                    warning = Some(message);
                }
            }
        }
    }
    warning.map_or(Decision::Allow, Decision::Warn)
}

/// The request path's budget check: `Some(refusal)` for a spent hard budget; a spent soft
/// budget is logged and counted.
pub fn gate(
    budgets: &[BudgetConfig],
    spend: &SpendTotals,
    metrics: &Metrics,
    scope: Scope<'_>,
) -> Option<ApiError> {
    if budgets.is_empty() {
        return None;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    match check(budgets, spend, scope, now_ms) {
        Decision::Allow => None,
        Decision::Warn(message) => {
            metrics.budget_warning();
            tracing::warn!(%message, "over a soft budget");
            None
        }
        Decision::Refuse(error) => {
            metrics.budget_refusal();
            Some(error)
        }
    }
}

fn human_duration(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}m {}s", s / 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(mode: BudgetMode, period: Period, limit: f64) -> BudgetConfig {
        BudgetConfig {
            name: "team".into(),
            profile: Some("cloud".into()),
            backend: None,
            period,
            limit_usd: limit,
            mode,
        }
    }

    // 2026-11-23T12:00:00Z
    const NOON: i64 = 1_795_435_200_000;

    #[test]
    fn hard_refuses_with_the_seconds_until_midnight() {
        let spend = SpendTotals::default();
        spend.add(NOON - 1000, "cloud", Some("anthropic"), 5.0);
        let b = [budget(BudgetMode::Hard, Period::Daily, 5.0)];
        match check(&b, &spend, Scope::Profile("cloud"), NOON) {
            Decision::Refuse(err) => {
                assert_eq!(err.status(), 429);
                assert_eq!(err.kind, ErrorType::RateLimitError);
                assert!(err.message.contains("\"team\""), "{}", err.message);
                assert_eq!(err.retry_after, Some(12 * 3600 + 1));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another profile, and the next day, are not affected.
        assert_eq!(
            check(&b, &spend, Scope::Profile("local"), NOON),
            Decision::Allow
        );
        let tomorrow = NOON + 24 * 3600 * 1000;
        assert_eq!(
            check(&b, &spend, Scope::Profile("cloud"), tomorrow),
            Decision::Allow
        );
    }

    #[test]
    fn under_the_limit_allows_and_soft_warns() {
        let spend = SpendTotals::default();
        spend.add(NOON, "cloud", None, 4.0);
        let hard = [budget(BudgetMode::Hard, Period::Monthly, 5.0)];
        assert_eq!(
            check(&hard, &spend, Scope::Profile("cloud"), NOON),
            Decision::Allow
        );
        let soft = [budget(BudgetMode::Soft, Period::Monthly, 3.0)];
        assert!(matches!(
            check(&soft, &spend, Scope::Profile("cloud"), NOON),
            Decision::Warn(m) if m.contains("team")
        ));
    }
}
