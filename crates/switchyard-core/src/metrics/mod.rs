//! Counters for `GET /metrics` (Prometheus text format). Updated once per finished request
//! (cheap: a mutex held for a few map updates) and by the usage writer (cost, dropped rows).

mod render;

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
            *c += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
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
        *c.requests
            .entry((backend.clone(), status_label(record.status)))
            .or_default() += 1;
        if record.status == RequestStatus::Error {
            let kind = record.error_type.clone().unwrap_or_default();
            *c.errors.entry((backend.clone(), kind)).or_default() += 1;
        }
        let usage = &record.usage;
        for (kind, n) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_input_tokens),
            ("cache_write", usage.cache_creation_input_tokens),
        ] {
            if n > 0 {
                *c.tokens.entry((backend.clone(), kind)).or_default() += n;
            }
        }
        c.latency.observe(record.latency_ms as f64 / 1000.0);
    }

    /// Add a priced request's cost (the writer prices requests, off the request path).
    pub fn add_cost(&self, backend: &str, usd: f64) {
        let mut c = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *c.cost.entry(backend.to_owned()).or_default() += usd;
    }

    pub fn add_dropped(&self, rows: u64) {
        self.dropped_rows.fetch_add(rows, Ordering::Relaxed);
    }

    pub fn dropped_rows(&self) -> u64 {
        self.dropped_rows.load(Ordering::Relaxed)
    }

    pub fn budget_warning(&self) {
        self.budget_warnings.fetch_add(1, Ordering::Relaxed);
    }

    pub fn budget_refusal(&self) {
        self.budget_refusals.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        render::render(self)
    }
}
