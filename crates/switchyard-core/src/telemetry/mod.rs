//! OpenTelemetry export (optional): one span per finished gateway request, sent to an OTLP/HTTP
//! collector as JSON. Off unless `[telemetry] otlp_endpoint` is set.
//!
//! - [`config`]: `[telemetry]` ([`TelemetryConfig`]), the URL spans are posted to, the headers
//!   sent (`env:VAR` values read from the environment when the engine starts).
//! - [`span`]: a finished request ([`RequestSpan`]: a `UsageRecord`, its cost, optional
//!   [`SpanBodies`]) as a span after the GenAI semantic conventions.
//! - [`otlp`]: the OTLP JSON request as typed structs (hex ids, int64s as strings).
//! - [`exporter`]: the exporter, [`TelemetryExporter`] (a bounded queue in front of a task that
//!   batches spans and posts them; never waits on the request path, counts what it drops or
//!   fails to send), and [`TelemetrySink`], the `UsageSink` decorator the engine puts around
//!   its sink: records go on unchanged, a copy becomes a span. A feature that holds a
//!   request's bodies hands them to [`TelemetryExporter::export`] instead.
//!
//! The exporter is built when the engine starts: a change of `[telemetry]` takes effect at
//! the next start (prices follow the live config).

pub mod config;
pub mod exporter;
pub mod otlp;
pub mod span;

use std::sync::Arc;

use crate::usage::UsageSink;

pub use config::{TelemetryConfig, TelemetryConfigError, traces_url};
pub use exporter::{ExporterOptions, TelemetryCounts, TelemetryExporter, TelemetrySink};
pub use span::{RequestSpan, SpanBodies};

/// The exporter `config` asks for: `None` without an OTLP endpoint, or when a telemetry
/// setting cannot be used (an `env:VAR` header whose variable is unset), which is logged:
/// requests flow regardless. Must be called within a Tokio runtime.
pub fn start(config: &crate::config::Config) -> Option<Arc<TelemetryExporter>> {
    match TelemetryExporter::start(config, ExporterOptions::default()) {
        Ok(Some(exporter)) => {
            tracing::info!(
                endpoint = config.telemetry.otlp_endpoint.as_deref().unwrap_or(""),
                include_bodies = config.telemetry.include_bodies,
                "exporting a span per request to the OTLP collector"
            );
            Some(exporter)
        }
        Ok(None) => None,
        Err(err) => {
            tracing::error!(%err, "telemetry is off");
            None
        }
    }
}

/// `sink`, with a [`TelemetrySink`] around it when there is an exporter.
pub fn wrap(
    sink: Arc<dyn UsageSink>,
    exporter: Option<&Arc<TelemetryExporter>>,
) -> Arc<dyn UsageSink> {
    match exporter {
        Some(exporter) => Arc::new(TelemetrySink::new(sink, exporter.clone())),
        None => sink,
    }
}
