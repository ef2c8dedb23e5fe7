use std::collections::HashMap;
use std::sync::Mutex;

use super::period::{day_start_ms, month_start_ms};
use super::{Period, Scope};

/// Running spend (USD) for the current UTC day and month, per profile and per backend.
#[derive(Default)]
pub struct SpendTotals {
    inner: Mutex<Totals>,
}

#[derive(Default)]
struct Totals {
    day: i64,
    month: i64,
    day_profile: HashMap<String, f64>,
    day_backend: HashMap<String, f64>,
    month_profile: HashMap<String, f64>,
    month_backend: HashMap<String, f64>,
}

impl Totals {
    /// Forget totals of periods that ended before `ms`.
    fn roll(&mut self, ms: i64) {
        let (day, month) = (day_start_ms(ms), month_start_ms(ms));
        if day > self.day {
            self.day = day;
            self.day_profile.clear();
            self.day_backend.clear();
        }
        if month > self.month {
            self.month = month;
            self.month_profile.clear();
            self.month_backend.clear();
        }
    }
}

impl SpendTotals {
    /// Count `usd` spent by a request that started at `at_ms`.
    pub fn add(&self, at_ms: i64, profile: &str, backend: Option<&str>, usd: f64) {
        let mut t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        t.roll(at_ms);
        if month_start_ms(at_ms) < t.month {
            return;
        }
        let today = day_start_ms(at_ms) == t.day;
        *t.month_profile.entry(profile.to_owned()).or_default() += usd;
        if today {
            *t.day_profile.entry(profile.to_owned()).or_default() += usd;
        }
        if let Some(backend) = backend {
            *t.month_backend.entry(backend.to_owned()).or_default() += usd;
            if today {
                *t.day_backend.entry(backend.to_owned()).or_default() += usd;
            }
        }
    }

    /// Spend so far in the period containing `now_ms`.
    pub fn spent(&self, period: Period, scope: Scope<'_>, now_ms: i64) -> f64 {
        let t = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let current = match period {
            Period::Daily => t.day == day_start_ms(now_ms),
            Period::Monthly => t.month == month_start_ms(now_ms),
        };
        if !current {
            return 0.0;
        }
        let map = match (period, scope) {
            (Period::Daily, Scope::Profile(_)) => &t.day_profile,
            (Period::Daily, Scope::Backend(_)) => &t.day_backend,
            (Period::Monthly, Scope::Profile(_)) => &t.month_profile,
            (Period::Monthly, Scope::Backend(_)) => &t.month_backend,
        };
        let key = match scope {
            Scope::Profile(k) | Scope::Backend(k) => k,
        };
        map.get(key).copied().unwrap_or(0.0)
    }
}
