use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use crate::anthropic::{ApiError, Usage};
use crate::capture::Trace;
use crate::gateway::{Gateway, ROUTE_TEST_HEADER};
use crate::routing::Ticket;
use crate::usage::{RequestStatus, UsageRecord};

/// Builds the usage record of one request as it goes, and reports it exactly once.
pub struct Recorder {
    gateway: Arc<Gateway>,
    record: UsageRecord,
    started: Instant,
    /// The id of a route test (the app's "Test" button), whose waiter gets this record.
    route_test: Option<String>,
    /// The request's place in its backend's rate-limit window, corrected with the real usage.
    ticket: Option<Ticket>,
    /// The backend this request is in flight on (counted for `least_busy`).
    busy: Option<String>,
    /// The capture in the making, when the request is captured (`capture/`).
    trace: Option<Box<Trace>>,
}

impl Recorder {
    pub fn new(gateway: Arc<Gateway>, headers: &HeaderMap) -> Self {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|s| !s.is_empty())
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
                agent_id: header("x-claude-code-agent-id"),
                parent_agent_id: header("x-claude-code-parent-agent-id"),
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
                rule: None,
                notes: None,
                cache_hit: false,
                key_name: None,
                capture_id: None,
            },
            started: Instant::now(),
            route_test: header(ROUTE_TEST_HEADER),
            ticket: None,
            busy: None,
            trace: None,
        }
    }

    /// Capture this request (its `path` and query, headers and body as they arrived).
    pub fn capture(&mut self, path: &str, headers: &HeaderMap, body: &bytes::Bytes) {
        self.trace = Some(Box::new(Trace::new(self.started, path, headers, body)));
    }

    /// The capture in the making, if the request is captured.
    pub fn trace(&mut self) -> Option<&mut Trace> {
        self.trace.as_deref_mut()
    }

    /// Lend the capture to the stream relay, which adds the chunks; given back by
    /// [`Recorder::restore_trace`] before the request is recorded.
    pub fn take_trace(&mut self) -> Option<Box<Trace>> {
        self.trace.take()
    }

    pub fn restore_trace(&mut self, trace: Option<Box<Trace>>) {
        if trace.is_some() {
            self.trace = trace;
        }
    }

    pub fn request(&mut self, model: &str, profile: &str, stream: bool) {
        self.record.requested_model = model.to_owned();
        self.record.profile = profile.to_owned();
        self.record.stream = stream;
    }

    /// Whether the session is still unknown (no `x-claude-code-session-id` header).
    pub fn lacks_session(&self) -> bool {
        self.record.session_id.is_none()
    }

    /// The session named in the body's `metadata.user_id`, for a client without the header.
    pub fn session(&mut self, session_id: String) {
        self.record.session_id = Some(session_id.chars().take(200).collect());
    }

    pub fn rule(&mut self, rule: String) {
        self.record.rule = Some(rule);
    }

    /// Something the gateway changed or noticed, kept with the request (`; `-separated).
    pub fn note(&mut self, note: &str) {
        match &mut self.record.notes {
            Some(notes) if !notes.contains(note) => {
                notes.push_str("; ");
                notes.push_str(note);
            }
            Some(_) => {}
            None => self.record.notes = Some(note.to_owned()),
        }
    }

    /// The key the attempt is sent with (a pool's key by name).
    pub fn key(&mut self, name: Option<&str>) {
        self.record.key_name = name.map(str::to_owned);
    }

    pub fn attempt(&mut self, backend: &str, kind: &str, upstream_model: &str) {
        let load = &self.gateway.load;
        if let Some(previous) = self.busy.replace(backend.to_owned()) {
            load.end(&previous);
        }
        load.begin(backend);
        if let Some(trace) = &mut self.trace {
            trace.attempt(
                backend,
                kind,
                upstream_model,
                self.record.key_name.as_deref(),
            );
        }
        self.record.attempts += 1;
        self.record.backend = Some(backend.to_owned());
        self.record.backend_kind = Some(kind.to_owned());
        self.record.upstream_model = Some(upstream_model.to_owned());
    }

    /// The rate-limit ticket of the attempt being sent; a previous attempt's (a retry's)
    /// used no tokens.
    pub fn ticket(&mut self, ticket: Option<Ticket>) {
        if let Some(old) = std::mem::replace(&mut self.ticket, ticket) {
            self.gateway.rate_limits.settle(&old, 0);
        }
    }

    /// The answer came from the response cache: what `backend` answered for `upstream_model`
    /// earlier. The row names them, but the backend did no work now: no load, and nothing for
    /// the balancing strategies' latency and token figures or for a rate limit (an earlier
    /// attempt's slot and ticket are given back as unused).
    pub fn cache_hit(&mut self, backend: &str, kind: &str, upstream_model: &str) {
        if let Some(previous) = self.busy.take() {
            self.gateway.load.end(&previous);
        }
        if let Some(old) = self.ticket.take() {
            self.gateway.rate_limits.settle(&old, 0);
        }
        self.record.attempts += 1;
        self.record.backend = Some(backend.to_owned());
        self.record.backend_kind = Some(kind.to_owned());
        self.record.upstream_model = Some(upstream_model.to_owned());
        self.record.cache_hit = true;
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
        let u = &self.record.usage;
        let used = [
            u.input_tokens,
            u.output_tokens,
            u.cache_read_input_tokens,
            u.cache_creation_input_tokens,
        ]
        .into_iter()
        .fold(0u64, u64::saturating_add);
        if let Some(ticket) = self.ticket.take() {
            self.gateway.rate_limits.settle(&ticket, used);
        }
        if let Some(backend) = self.busy.take() {
            self.gateway.load.end(&backend);
            if status == RequestStatus::Ok
                && let Some(model) = &self.record.upstream_model
            {
                // A whole answer's first byte is its last: its latency is its time to it.
                let ttft = self
                    .record
                    .ttft_ms
                    .or((!self.record.stream).then(|| elapsed_ms(self.started)));
                self.gateway.load.answered(&backend, model, ttft, used);
            }
        }
        self.record.latency_ms = elapsed_ms(self.started);
        if let Some(error) = error {
            self.record.error_type = Some(error.kind.as_str().to_owned());
            self.record.error_message = Some(error.message.chars().take(500).collect());
        }
        if let Some(trace) = self.trace.take()
            && let Some(captures) = self.gateway.captures()
        {
            let id = crate::capture::new_id(self.record.started_at_ms);
            let capture = trace.finish(id.clone(), &self.record);
            // Spans carry bodies only of captured requests, and only when asked to.
            let bodies = self
                .gateway
                .telemetry()
                .filter(|t| t.wants_bodies())
                .map(|t| {
                    let (request, response) = capture.client_texts();
                    (
                        t,
                        crate::telemetry::SpanBodies {
                            request: Some(request),
                            response: Some(response),
                        },
                    )
                });
            if captures.submit(capture) {
                self.record.capture_id = Some(id.clone());
                if let Some((telemetry, bodies)) = bodies {
                    telemetry.stash_bodies(id, bodies);
                }
            }
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

/// The session in Claude Code's `metadata.user_id`: a JSON object with `session_id` (2.x), or
/// `user_<hash>_account_<uuid>_session_<uuid>` (1.x).
pub fn session_of_user_id(user_id: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct UserId {
        session_id: Option<String>,
    }
    let session = match serde_json::from_str::<UserId>(user_id) {
        Ok(parsed) => parsed.session_id?,
        Err(_) => user_id.rsplit_once("_session_")?.1.to_owned(),
    };
    let session = session.trim();
    (!session.is_empty()).then(|| session.to_owned())
}

#[cfg(test)]
mod tests {
    use super::session_of_user_id;

    #[test]
    fn the_session_is_found_in_both_user_id_forms() {
        let json = r#"{"device_id":"d1","account_uuid":"","session_id":"4f1c-77"}"#;
        assert_eq!(session_of_user_id(json).as_deref(), Some("4f1c-77"));
        assert_eq!(
            session_of_user_id("user_abc123_account_9e7f_session_2b8d-11").as_deref(),
            Some("2b8d-11")
        );
        for none in [
            "",
            "someone",
            r#"{"device_id":"d1"}"#,
            r#"{"session_id":" "}"#,
            "user_x_session_",
        ] {
            assert_eq!(session_of_user_id(none), None, "{none}");
        }
    }
}
