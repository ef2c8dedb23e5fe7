//! Counters for `GET /metrics` (Prometheus text format). Updated once per finished request
//! (cheap: a mutex held for a few map updates) and by the usage writer (cost, dropped rows).

mod render;

pub use render::counters;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::usage::{RequestStatus, UsageRecord};

/// Upper bounds (seconds) of the request latency histogram.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Counters>,
    dropped_rows: AtomicU64,
    budget_warnings: AtomicU64,
    budget_refusals: AtomicU64,
    cache_hits: AtomicU64,
}

#[derive(Default)]
struct Counters {
    /// (backend, status) → requests.
    requests: BTreeMap<(String, &'static str), u64>,
    /// (backend, error type) → errors.
    errors: BTreeMap<(String, String), u64>,
    /// (backend, kind) → tokens.
    tokens: BTreeMap<(String, &'static str), u64>,
    /// backend → USD (priced requests only).
    cost: BTreeMap<String, f64>,
    latency: Histogram,
}

#[derive(Default)]
struct Histogram {
    /// Non-cumulative counts per bucket; the last slot is `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; LATENCY_BUCKETS.len() + 1];
        }
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(c) = self.counts.get_mut(slot) {
            *c = c.saturating_add(1);
        }
        self.sum += seconds;
        self.count = self.count.saturating_add(1);
    }
}

/// Counters stop at `u64::MAX` rather than wrap: a wrapped counter reads as a reset to
/// Prometheus, and a huge figure is less wrong than a small one.
fn bump(counter: &mut u64, n: u64) {
    *counter = counter.saturating_add(n);
}

fn add_saturating(counter: &AtomicU64, n: u64) {
    // The closure always returns `Some`, so the update cannot fail.
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_add(n))
    });
}

fn status_label(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Ok => "ok",
        RequestStatus::Error => "error",
        RequestStatus::Cancelled => "cancelled",
    }
}

impl Metrics {
    /// Count one finished request.
    pub fn observe(&self, record: &UsageRecord) {
        let backend = record.backend.clone().unwrap_or_default();
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        bump(
            c.requests
                .entry((backend.clone(), status_label(record.status)))
                .or_default(),
            1,
        );
        if record.status == RequestStatus::Error {
            let kind = record.error_type.clone().unwrap_or_default();
            bump(c.errors.entry((backend.clone(), kind)).or_default(), 1);
        }
        let usage = &record.usage;
        for (kind, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_input_tokens),
            ("cache_write", usage.cache_creation_input_tokens),
        ] {
            if n > 0 {
                bump(c.tokens.entry((backend.clone(), kind)).or_default(), n);
            }
        }
        c.latency.observe(record.latency_ms as f64 / 1000.0);
        drop(c);
        if record.cache_hit {
            add_saturating(&self.cache_hits, 1);
        }
    }

    /// Add a priced request's cost (the writer prices requests, off the request path).
    pub fn add_cost(&self, backend: &str, usd: f64) {
        // One NaN or infinity would stick in the counter for the life of the process.
        if !usd.is_finite() {
            return;
        }
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *c.cost.entry(backend.to_owned()).or_default() += usd;
    }

    pub fn add_dropped(&self, rows: u64) {
        add_saturating(&self.dropped_rows, rows);
    }

    pub fn dropped_rows(&self) -> u64 {
        self.dropped_rows.load(Ordering::Relaxed)
    }

    pub fn budget_warning(&self) {
        add_saturating(&self.budget_warnings, 1);
    }

    pub fn budget_refusal(&self) {
        add_saturating(&self.budget_refusals, 1);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        render::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anthropic::Usage;

    fn record(backend: &str, status: RequestStatus, latency_ms: u64) -> UsageRecord {
        UsageRecord {
            started_at_ms: 0,
            client: None,
            session_id: None,
            agent_id: None,
            parent_agent_id: None,
            requested_model: "m".into(),
            profile: "p".into(),
            backend: Some(backend.into()),
            backend_kind: None,
            upstream_model: None,
            stream: false,
            status,
            http_status: 200,
            error_type: (status == RequestStatus::Error).then(|| "overloaded_error".into()),
            error_message: None,
            usage: Usage {
                input_tokens: 10,
                output_tokens: 2,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 0,
            },
            ttft_ms: None,
            latency_ms,
            attempts: 1,
            rule: None,
            notes: None,
            cache_hit: false,
            key_name: None,
            capture_id: None,
        }
    }

    #[test]
    fn counters_histogram_and_label_escaping() {
        let m = Metrics::default();
        m.observe(&record("a", RequestStatus::Ok, 50));
        m.observe(&record("a", RequestStatus::Ok, 3000));
        m.observe(&record("we\"ird", RequestStatus::Error, 700));
        m.add_dropped(4);
        let text = m.render();
        for line in [
            "switchyard_requests_total{backend=\"a\",status=\"ok\"} 2\n",
            "switchyard_requests_total{backend=\"we\\\"ird\",status=\"error\"} 1\n",
            "switchyard_request_errors_total{backend=\"we\\\"ird\",type=\"overloaded_error\"} 1\n",
            "switchyard_request_duration_seconds_bucket{le=\"0.1\"} 1\n",
            "switchyard_request_duration_seconds_bucket{le=\"0.5\"} 1\n",
            "switchyard_request_duration_seconds_bucket{le=\"1\"} 2\n",
            "switchyard_request_duration_seconds_bucket{le=\"2.5\"} 2\n",
            "switchyard_request_duration_seconds_bucket{le=\"5\"} 3\n",
            "switchyard_request_duration_seconds_bucket{le=\"+Inf\"} 3\n",
            "switchyard_request_duration_seconds_sum 3.75\n",
            "switchyard_request_duration_seconds_count 3\n",
            "switchyard_tokens_total{backend=\"a\",kind=\"input\"} 20\n",
            "switchyard_tokens_total{backend=\"a\",kind=\"output\"} 4\n",
            "switchyard_usage_rows_dropped_total 4\n",
            "# TYPE switchyard_request_duration_seconds histogram\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let m = Metrics::default();
        let mut huge = record("a", RequestStatus::Ok, 10);
        huge.usage.input_tokens = u64::MAX - 1;
        m.observe(&huge);
        m.observe(&huge);
        m.add_dropped(u64::MAX);
        m.add_dropped(2);
        m.add_cost("a", 1.5);
        m.add_cost("a", f64::NAN);
        let text = m.render();
        for line in [
            format!(
                "switchyard_tokens_total{{backend=\"a\",kind=\"input\"}} {}\n",
                u64::MAX
            ),
            format!("switchyard_usage_rows_dropped_total {}\n", u64::MAX),
            "switchyard_cost_usd_total{backend=\"a\"} 1.5\n".to_owned(),
        ] {
            assert!(text.contains(&line), "missing {line:?} in\n{text}");
        }
    }
}
