use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::{LATENCY_BUCKETS, Metrics};

/// Prometheus label values escape `\`, `"` and newlines.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Counters kept elsewhere (the capture writer, the telemetry exporter), in the same format:
/// (name, help, value).
pub fn counters(items: &[(&str, &str, u64)]) -> String {
    let mut out = String::new();
    for (name, help, value) in items {
        header(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    }
    out
}

pub(super) fn render(metrics: &Metrics) -> String {
    let c = metrics.inner.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = String::new();

    header(
        &mut out,
        "switchyard_requests_total",
        "counter",
        "Finished requests by backend and status.",
    );
    for ((backend, status), n) in &c.requests {
        let _ = writeln!(
            out,
            "switchyard_requests_total{{backend=\"{}\",status=\"{status}\"}} {n}",
            label(backend)
        );
    }

    header(
        &mut out,
        "switchyard_request_errors_total",
        "counter",
        "Failed requests by backend and Anthropic error type.",
    );
    for ((backend, kind), n) in &c.errors {
        let _ = writeln!(
            out,
            "switchyard_request_errors_total{{backend=\"{}\",type=\"{}\"}} {n}",
            label(backend),
            label(kind)
        );
    }

    header(
        &mut out,
        "switchyard_request_duration_seconds",
        "histogram",
        "Request latency, from arrival to the last byte sent.",
    );
    let mut cumulative = 0;
    for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
        cumulative = c
            .latency
            .counts
            .get(i)
            .copied()
            .unwrap_or(0)
            .saturating_add(cumulative);
        let _ = writeln!(
            out,
            "switchyard_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "switchyard_request_duration_seconds_bucket{{le=\"+Inf\"}} {}",
        c.latency.count
    );
    let _ = writeln!(
        out,
        "switchyard_request_duration_seconds_sum {}",
        c.latency.sum
    );
    let _ = writeln!(
        out,
        "switchyard_request_duration_seconds_count {}",
        c.latency.count
    );

    header(
        &mut out,
        "switchyard_tokens_total",
        "counter",
        "Tokens by backend and kind (input excludes cache reads and writes).",
    );
    for ((backend, kind), n) in &c.tokens {
        let _ = writeln!(
            out,
            "switchyard_tokens_total{{backend=\"{}\",kind=\"{kind}\"}} {n}",
            label(backend)
        );
    }

    header(
        &mut out,
        "switchyard_cost_usd_total",
        "counter",
        "Spend in USD by backend (requests with a known price).",
    );
    for (backend, usd) in &c.cost {
        let _ = writeln!(
            out,
            "switchyard_cost_usd_total{{backend=\"{}\"}} {usd}",
            label(backend)
        );
    }

    for (name, help, value) in [
        (
            "switchyard_usage_rows_dropped_total",
            "Usage rows lost because the writer's queue was full.",
            &metrics.dropped_rows,
        ),
        (
            "switchyard_budget_warnings_total",
            "Requests over a soft budget.",
            &metrics.budget_warnings,
        ),
        (
            "switchyard_budget_refusals_total",
            "Requests refused by a hard budget.",
            &metrics.budget_refusals,
        ),
        (
            "switchyard_cache_hits_total",
            "Requests answered from the response cache, without calling a backend (counted in the requests and tokens above too).",
            &metrics.cache_hits,
        ),
    ] {
        header(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
    }
    out
}
