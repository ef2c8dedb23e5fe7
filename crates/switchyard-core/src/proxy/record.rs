use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use crate::anthropic::{ApiError, Usage};
use crate::gateway::{Gateway, ROUTE_TEST_HEADER};
use crate::usage::{RequestStatus, UsageRecord};

/// Builds the usage record of one request as it goes, and reports it exactly once.
pub struct Recorder {
    gateway: Arc<Gateway>,
    record: UsageRecord,
    started: Instant,
    /// The id of a route test (the app's "Test" button), whose waiter gets this record.
    route_test: Option<String>,
}

impl Recorder {
    pub fn new(gateway: Arc<Gateway>, headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect::<String>())
        };
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Recorder {
            gateway,
            record: UsageRecord {
                started_at_ms,
                client: header("user-agent"),
                session_id: header("x-claude-code-session-id"),
                requested_model: String::new(),
                profile: String::new(),
                backend: None,
                backend_kind: None,
                upstream_model: None,
                stream: false,
                status: RequestStatus::Error,
                http_status: 0,
                error_type: None,
                error_message: None,
                usage: Usage::default(),
                ttft_ms: None,
                latency_ms: 0,
                attempts: 0,
            },
            started: Instant::now(),
            route_test: header(ROUTE_TEST_HEADER),
        }
    }

    pub fn request(&mut self, model: &str, profile: &str, stream: bool) {
        self.record.requested_model = model.to_owned();
        self.record.profile = profile.to_owned();
        self.record.stream = stream;
    }

    pub fn attempt(&mut self, backend: &str, kind: &str, upstream_model: &str) {
        self.record.attempts += 1;
        self.record.backend = Some(backend.to_owned());
        self.record.backend_kind = Some(kind.to_owned());
        self.record.upstream_model = Some(upstream_model.to_owned());
    }

    pub fn first_byte(&mut self) {
        if self.record.ttft_ms.is_none() {
            self.record.ttft_ms = Some(elapsed_ms(self.started));
        }
    }

    pub fn elapsed(&self) -> std::time::Duration {
        self.started.elapsed()
    }

    pub fn ok(self, http_status: u16, usage: Usage) {
        self.finish(RequestStatus::Ok, http_status, usage, None);
    }

    pub fn failed(self, http_status: u16, usage: Usage, error: &ApiError) {
        self.finish(RequestStatus::Error, http_status, usage, Some(error));
    }

    pub fn cancelled(self, http_status: u16, usage: Usage) {
        self.finish(RequestStatus::Cancelled, http_status, usage, None);
    }

    fn finish(
        mut self,
        status: RequestStatus,
        http_status: u16,
        usage: Usage,
        error: Option<&ApiError>,
    ) {
        self.record.status = status;
        self.record.http_status = http_status;
        // Every request's figures pass here on their way to the metrics, the store and the
        // app: one cap keeps an upstream's absurd count from overflowing any sum downstream.
        self.record.usage = usage.clamped();
        self.record.latency_ms = elapsed_ms(self.started);
        if let Some(error) = error {
            self.record.error_type = Some(error.kind.as_str().to_owned());
            self.record.error_message = Some(error.message.chars().take(500).collect());
        }
        if let Some(id) = &self.route_test {
            self.gateway.finish_route_test(id, &self.record);
        }
        self.gateway.record(self.record);
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
