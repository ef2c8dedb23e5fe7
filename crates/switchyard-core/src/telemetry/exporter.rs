//! The exporter ([`TelemetryExporter`]: a bounded queue in front of a task that batches spans
//! and posts them to the collector) and [`TelemetrySink`], the [`UsageSink`] decorator that
//! forwards every record to the sink it wraps and hands the exporter a copy.
//!
//! The request path only ever does a `try_reserve` on a bounded channel: a full queue (a slow
//! or unreachable collector) drops the span and counts it, it never waits. The task sends at
//! most [`ExporterOptions::batch_spans`] spans per POST, or what gathered within
//! [`ExporterOptions::batch_interval`], with a timeout, following no redirect and reading at
//! most 64 KiB of the answer; a failed POST is tried once more when OTLP calls it retryable
//! (429, 502, 503, 504, no answer), then its spans are counted as failed and dropped.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use http::HeaderMap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::usage::{Pricer, UsageRecord, UsageSink};

use super::config::{TelemetryConfig, TelemetryConfigError, resolve_headers, traces_url};
use super::otlp::{
    ExportTraceServiceRequest, InstrumentationScope, KeyValue, Resource, ResourceSpans, ScopeSpans,
    Span,
};
use super::span::{RequestSpan, SpanBodies};

#[derive(Debug, Clone)]
pub struct ExporterOptions {
    /// Spans queued at most; beyond, new spans are dropped and counted.
    pub queue: usize,
    /// Spans per POST at most.
    pub batch_spans: usize,
    /// Longest a queued span waits before its batch is sent.
    pub batch_interval: Duration,
    /// Longest one POST may take, answer included.
    pub timeout: Duration,
    /// The pause before the one retry of a retryable failure (a collector's `retry-after` is
    /// honoured up to [`MAX_RETRY_AFTER`]).
    pub retry_delay: Duration,
    /// How long shutdown waits for queued spans to be sent.
    pub shutdown_grace: Duration,
}

impl Default for ExporterOptions {
    fn default() -> Self {
        ExporterOptions {
            queue: 4096,
            batch_spans: 64,
            batch_interval: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            retry_delay: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// The longest `retry-after` followed: the queue keeps filling meanwhile.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The most of a collector's answer read (its `partialSuccess`, or an error's text).
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// How often each kind of trouble (full queue, failed export) is logged.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// What the exporter did so far (for `/metrics` and the app).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TelemetryCounts {
    /// Spans the collector accepted.
    pub exported: u64,
    /// Spans dropped before sending: the queue was full (or the exporter had stopped).
    pub dropped: u64,
    /// Spans sent but not accepted: the collector failed, refused them or could not be
    /// reached (after the one retry).
    pub failed: u64,
}

#[derive(Default)]
struct Stats {
    exported: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        // The closure always returns `Some`: the update cannot fail. Saturating: a wrapped
        // counter would read as a reset.
        let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_add(n))
        });
    }

    fn counts(&self) -> TelemetryCounts {
        TelemetryCounts {
            exported: self.exported.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// A log line at most once per [`LOG_EVERY`], with how many were held back meanwhile.
#[derive(Default)]
struct Every {
    last: Mutex<Option<Instant>>,
    held: AtomicU64,
}

impl Every {
    /// `Some(n)` when it is time to log (`n`: occurrences since the last line, this one
    /// included).
    fn due(&self) -> Option<u64> {
        let held = self.held.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < LOG_EVERY) {
            return None;
        }
        *last = Some(Instant::now());
        self.held.fetch_sub(held, Ordering::Relaxed);
        Some(held)
    }
}

enum Msg {
    Span(Box<RequestSpan>),
    /// Send everything queued before it, then answer.
    Flush(oneshot::Sender<()>),
}

/// Where the exporter reads prices from: the gateway's live config once attached.
type ConfigSource = OnceLock<Weak<Gateway>>;

/// The running exporter of an engine with `[telemetry] otlp_endpoint` set. The request path
/// reaches it through [`TelemetrySink`]; a feature that has a request's bodies calls
/// [`TelemetryExporter::export`] with them.
pub struct TelemetryExporter {
    tx: mpsc::Sender<Msg>,
    include_bodies: bool,
    stats: Arc<Stats>,
    drops: Every,
    source: Arc<ConfigSource>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    shutdown_grace: Duration,
    /// Bodies of captured requests, by capture id, waiting for their record to reach the
    /// sink (the recorder stashes them just before it reports the record).
    stash: Mutex<std::collections::HashMap<String, SpanBodies>>,
}

/// More stashed bodies than this means records are not reaching the sink: start over.
const STASH_LIMIT: usize = 256;

/// What the background task needs.
struct Task {
    client: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    service_name: String,
    options: ExporterOptions,
    stats: Arc<Stats>,
    failures: Every,
    /// Prices of the config the exporter started with, until a gateway is attached.
    start_pricer: Pricer,
    source: Arc<ConfigSource>,
    /// The last config seen and its prices (built again only when the config changes).
    priced_with: Option<(Arc<Config>, Pricer)>,
}

impl TelemetryExporter {
    /// Start exporting, with header values read from the process environment. `None` when
    /// `[telemetry]` sets no endpoint. Must be called within a Tokio runtime.
    pub fn start(
        config: &Config,
        options: ExporterOptions,
    ) -> Result<Option<Arc<TelemetryExporter>>, TelemetryConfigError> {
        Self::start_with_env(config, options, &|var| std::env::var(var).ok())
    }

    /// [`TelemetryExporter::start`] with `env` looking up the `env:VAR` header values.
    pub fn start_with_env(
        config: &Config,
        options: ExporterOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Arc<TelemetryExporter>>, TelemetryConfigError> {
        let telemetry: &TelemetryConfig = &config.telemetry;
        let Some(endpoint) = &telemetry.otlp_endpoint else {
            return Ok(None);
        };
        let url = traces_url(endpoint)?;
        let headers = resolve_headers(&telemetry.headers, env)?;
        let client = crate::net::client(
            reqwest::Client::builder()
                .timeout(options.timeout)
                .connect_timeout(options.timeout.min(Duration::from_secs(5)))
                .pool_max_idle_per_host(2),
        );
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let stats = Arc::new(Stats::default());
        let source = Arc::new(ConfigSource::new());
        let task = Task {
            client,
            url,
            headers,
            service_name: telemetry.service_name.clone(),
            options: options.clone(),
            stats: stats.clone(),
            failures: Every::default(),
            start_pricer: Pricer::from_config(config),
            source: source.clone(),
            priced_with: None,
        };
        let handle = tokio::spawn(task.run(rx, stop_rx));
        Ok(Some(Arc::new(TelemetryExporter {
            stash: Mutex::new(std::collections::HashMap::new()),
            tx,
            include_bodies: telemetry.include_bodies,
            stats,
            drops: Every::default(),
            source,
            stop: Mutex::new(Some(stop_tx)),
            task: Mutex::new(Some(handle)),
            shutdown_grace: options.shutdown_grace,
        })))
    }

    /// Price spans with `gateway`'s live config from now on (the engine attaches its
    /// gateway once built; the sink exists before it).
    pub fn attach(&self, gateway: &Arc<Gateway>) {
        let _ = self.source.set(Arc::downgrade(gateway));
    }

    /// Queue the span of a finished request, with `bodies` when the config allows them
    /// (`include_bodies`; otherwise they are dropped here, never queued). Never waits: with a
    /// full queue the span is dropped and counted.
    pub fn export(&self, record: &UsageRecord, bodies: Option<SpanBodies>) {
        // Reserve first: with a full queue the record is not even cloned.
        match self.tx.try_reserve() {
            Ok(permit) => {
                let bodies = bodies.filter(|_| self.include_bodies);
                let span = RequestSpan::new(record.clone(), bodies);
                permit.send(Msg::Span(Box::new(span)));
            }
            Err(_) => self.dropped(),
        }
    }

    /// Whether spans carry bodies (`include_bodies`): only then are they worth stashing.
    pub fn wants_bodies(&self) -> bool {
        self.include_bodies
    }

    /// Keep a captured request's bodies until its record reaches the sink
    /// ([`TelemetrySink`] takes them by the record's `capture_id`).
    pub fn stash_bodies(&self, capture_id: String, bodies: SpanBodies) {
        if !self.include_bodies {
            return;
        }
        let mut stash = self.stash.lock().unwrap_or_else(|e| e.into_inner());
        if stash.len() >= STASH_LIMIT {
            stash.clear();
        }
        stash.insert(capture_id, bodies);
    }

    fn take_bodies(&self, capture_id: Option<&String>) -> Option<SpanBodies> {
        let id = capture_id?;
        self.stash
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// What the exporter did so far.
    pub fn counts(&self) -> TelemetryCounts {
        self.stats.counts()
    }

    /// Wait until every span queued before this call was sent (or failed). Returns at once
    /// when the exporter has stopped.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Msg::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Send what is queued (for at most the options' `shutdown_grace`), then stop the task.
    /// Spans of later requests are dropped (and counted).
    pub async fn shutdown(&self) {
        let stop = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut task) = task
            && tokio::time::timeout(self.shutdown_grace, &mut task)
                .await
                .is_err()
        {
            task.abort();
            tracing::warn!("telemetry: the collector did not take the last spans in time");
        }
    }

    fn dropped(&self) {
        Stats::add(&self.stats.dropped, 1);
        if let Some(n) = self.drops.due() {
            tracing::warn!(
                spans = n,
                total = self.stats.dropped.load(Ordering::Relaxed),
                "telemetry spans dropped: the OTLP collector does not keep up (or cannot be reached)"
            );
        }
    }
}

/// The usage sink of an engine that exports: every record goes on to the wrapped sink
/// unchanged, and a copy to the exporter.
pub struct TelemetrySink {
    inner: Arc<dyn UsageSink>,
    exporter: Arc<TelemetryExporter>,
}

impl TelemetrySink {
    pub fn new(inner: Arc<dyn UsageSink>, exporter: Arc<TelemetryExporter>) -> Self {
        TelemetrySink { inner, exporter }
    }
}

impl UsageSink for TelemetrySink {
    fn record(&self, record: UsageRecord) {
        let bodies = self.exporter.take_bodies(record.capture_id.as_ref());
        self.exporter.export(&record, bodies);
        self.inner.record(record);
    }

    fn problem(&self) -> Option<String> {
        self.inner.problem()
    }
}

/// How one POST ended.
enum Outcome {
    /// 2xx: the spans the collector rejected in its `partialSuccess` (usually 0).
    Accepted { rejected: u64 },
    /// Worth one more try, after this long.
    Retry { after: Duration, why: String },
    /// Not worth another try.
    Failed { why: String },
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>, mut stop: oneshot::Receiver<()>) {
        let mut batch: Vec<RequestSpan> = Vec::with_capacity(self.options.batch_spans);
        loop {
            // Idle until the first span of the next batch.
            let first = tokio::select! {
                biased;
                _ = &mut stop => return self.finish(&mut rx, batch).await,
                msg = rx.recv() => msg,
            };
            match first {
                None => return self.finish(&mut rx, batch).await,
                Some(Msg::Flush(ack)) => {
                    let _ = ack.send(());
                    continue;
                }
                Some(Msg::Span(span)) => batch.push(*span),
            }
            // Gather the rest of the batch: full, or the interval is up.
            let deadline = tokio::time::Instant::now() + self.options.batch_interval;
            while batch.len() < self.options.batch_spans {
                let msg = tokio::select! {
                    biased;
                    _ = &mut stop => return self.finish(&mut rx, batch).await,
                    _ = tokio::time::sleep_until(deadline) => break,
                    msg = rx.recv() => msg,
                };
                match msg {
                    None => return self.finish(&mut rx, batch).await,
                    Some(Msg::Span(span)) => batch.push(*span),
                    Some(Msg::Flush(ack)) => {
                        self.export(std::mem::take(&mut batch)).await;
                        let _ = ack.send(());
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                self.export(std::mem::take(&mut batch)).await;
            }
        }
    }

    /// After a stop: what is queued is sent too, in batches (the caller bounds the time).
    async fn finish(mut self, rx: &mut mpsc::Receiver<Msg>, mut batch: Vec<RequestSpan>) {
        rx.close();
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Span(span) => batch.push(*span),
                Msg::Flush(ack) => {
                    let _ = ack.send(());
                }
            }
            if batch.len() >= self.options.batch_spans {
                self.export(std::mem::take(&mut batch)).await;
            }
        }
        if !batch.is_empty() {
            self.export(batch).await;
        }
    }

    /// The prices of the live config (built again only when it changed).
    fn pricer(&mut self) -> &Pricer {
        let live = self
            .source
            .get()
            .and_then(Weak::upgrade)
            .map(|gateway| gateway.config());
        match live {
            Some(config) => {
                let stale = self
                    .priced_with
                    .as_ref()
                    .is_none_or(|(seen, _)| !Arc::ptr_eq(seen, &config));
                if stale {
                    let pricer = Pricer::from_config(&config);
                    self.priced_with = Some((config, pricer));
                }
                match &self.priced_with {
                    Some((_, pricer)) => pricer,
                    None => &self.start_pricer,
                }
            }
            None => &self.start_pricer,
        }
    }

    async fn export(&mut self, batch: Vec<RequestSpan>) {
        let n = batch.len() as u64;
        let spans: Vec<Span> = {
            let pricer = self.pricer();
            batch
                .into_iter()
                .map(|span| span.priced(pricer).to_otlp())
                .collect()
        };
        let body = match serde_json::to_vec(&self.request(spans)) {
            Ok(body) => body,
            Err(err) => return self.failed(n, &format!("cannot encode the spans: {err}")),
        };
        let mut retried = false;
        loop {
            match self.post(body.clone()).await {
                Outcome::Accepted { rejected } => {
                    let rejected = rejected.min(n);
                    Stats::add(&self.stats.exported, n - rejected);
                    if rejected > 0 {
                        self.failed(rejected, "the collector rejected some spans");
                    }
                    return;
                }
                Outcome::Retry { after, why } if !retried => {
                    retried = true;
                    tracing::debug!(%why, "telemetry export failed; trying once more");
                    tokio::time::sleep(after).await;
                }
                Outcome::Retry { why, .. } | Outcome::Failed { why } => {
                    return self.failed(n, &why);
                }
            }
        }
    }

    fn failed(&self, n: u64, why: &str) {
        Stats::add(&self.stats.failed, n);
        if let Some(times) = self.failures.due() {
            tracing::warn!(
                spans = n,
                times,
                total = self.stats.failed.load(Ordering::Relaxed),
                url = %self.url,
                "telemetry export failed: {why}"
            );
        }
    }

    fn request(&self, spans: Vec<Span>) -> ExportTraceServiceRequest {
        let version = env!("CARGO_PKG_VERSION");
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Resource {
                    attributes: vec![
                        KeyValue::new("service.name", self.service_name.as_str()),
                        KeyValue::new("service.version", version),
                    ],
                },
                scope_spans: vec![ScopeSpans {
                    scope: InstrumentationScope {
                        name: "switchyard".to_owned(),
                        version: version.to_owned(),
                    },
                    spans,
                }],
            }],
        }
    }

    async fn post(&self, body: Vec<u8>) -> Outcome {
        let sent = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            // No answer (refused, reset, timed out): OTLP says try again.
            Err(err) => {
                return Outcome::Retry {
                    after: self.options.retry_delay,
                    why: format!("the collector could not be reached: {err}"),
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
        let location = crate::net::location(response.headers());
        let answer = crate::net::read_bounded(response, MAX_ANSWER_BYTES)
            .await
            .unwrap_or_default();
        if status.is_success() {
            return Outcome::Accepted {
                rejected: rejected_spans(&answer),
            };
        }
        let text = crate::log_text::clip(&String::from_utf8_lossy(&answer));
        if status.is_redirection() {
            let to = location.map_or_else(|| "elsewhere".to_owned(), |l| format!("to {l}"));
            return Outcome::Failed {
                why: format!(
                    "the collector redirects {to} (HTTP {status}); Switchyard follows no redirect: set otlp_endpoint to the final address"
                ),
            };
        }
        let why = format!("the collector answered HTTP {status}: {text}");
        match status.as_u16() {
            429 | 502 | 503 | 504 => Outcome::Retry {
                after: retry_after.unwrap_or(self.options.retry_delay),
                why,
            },
            _ => Outcome::Failed { why },
        }
    }
}

/// `partialSuccess.rejectedSpans` of an OTLP JSON answer (an int64, so a string or a number);
/// 0 when absent or unreadable (a full success has no body to speak of).
fn rejected_spans(answer: &[u8]) -> u64 {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(answer) else {
        return 0;
    };
    let field = &value["partialSuccess"]["rejectedSpans"];
    field
        .as_u64()
        .or_else(|| field.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
