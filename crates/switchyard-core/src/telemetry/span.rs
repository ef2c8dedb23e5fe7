//! One finished request as an OTLP span, after the OpenTelemetry GenAI semantic conventions
//! (inference client span: name `chat {gen_ai.request.model}`, kind CLIENT) plus Switchyard's
//! own `switchyard.*` attributes.
//!
//! Conventions followed (development status in semconv 1.3x; names checked against the
//! registry):
//! - `gen_ai.usage.input_tokens` counts every input token, cached ones included (the
//!   convention says it SHOULD; Anthropic's `input_tokens` leaves cache reads and writes out,
//!   so they are added), and `gen_ai.usage.cache_read.input_tokens` /
//!   `gen_ai.usage.cache_creation.input_tokens` give the cached parts.
//! - `gen_ai.provider.name` is the current attribute and `gen_ai.system` the one it replaced;
//!   both are sent, so older and newer backends each find theirs.
//! - A successful span's status is left unset (instrumentation never sets OK); a failed one is
//!   ERROR with `error.type` (the Anthropic error type the client got, else the HTTP status).
//!   A cancelled request (the client went away) is not an error of the gateway's: its status
//!   stays unset and `switchyard.status` says `cancelled`. The error's status message is the
//!   sentence the app shows for it, cut to 200 characters (it may quote an upstream's error).
//! - Bodies are raw Messages API JSON, not the `gen_ai.input.messages` schema, so they go
//!   under Switchyard's own names rather than mislabel a standard attribute.

use crate::usage::{PricedRecord, Pricer, RequestStatus, UsageRecord};

use super::otlp::{KeyValue, Span, SpanId, SpanKind, Status, StatusCode, TraceId};

/// Attribute names, in one place so the tests and the code agree.
pub mod attr {
    pub const OPERATION_NAME: &str = "gen_ai.operation.name";
    pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// Deprecated in favour of [`PROVIDER_NAME`]; still what many backends read.
    pub const SYSTEM: &str = "gen_ai.system";
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
    pub const INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    pub const OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    pub const CACHE_READ_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    pub const CACHE_CREATION_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    pub const ERROR_TYPE: &str = "error.type";
    pub const HTTP_STATUS: &str = "http.response.status_code";
    pub const PROFILE: &str = "switchyard.profile";
    pub const BACKEND: &str = "switchyard.backend";
    pub const BACKEND_KIND: &str = "switchyard.backend_kind";
    pub const RULE: &str = "switchyard.rule";
    pub const COST_USD: &str = "switchyard.cost_usd";
    pub const SESSION_ID: &str = "switchyard.session_id";
    pub const CACHE_HIT: &str = "switchyard.cache_hit";
    pub const KEY_NAME: &str = "switchyard.key_name";
    pub const STATUS: &str = "switchyard.status";
    pub const STREAM: &str = "switchyard.stream";
    pub const ATTEMPTS: &str = "switchyard.attempts";
    pub const TTFT_MS: &str = "switchyard.ttft_ms";
    pub const REQUEST_BODY: &str = "switchyard.request.body";
    pub const RESPONSE_BODY: &str = "switchyard.response.body";
    pub const REQUEST_BODY_TRUNCATED: &str = "switchyard.request.body_truncated";
    pub const RESPONSE_BODY_TRUNCATED: &str = "switchyard.response.body_truncated";
}

/// The request and response bodies of one request, as a capture feature hands them to the
/// exporter. Exported only with `include_bodies = true`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanBodies {
    pub request: Option<String>,
    pub response: Option<String>,
}

/// What the exporter turns into one span: a finished request's record, its bodies when given
/// (and allowed), and what it cost (priced on the exporter's task, as the usage writer does).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSpan {
    pub record: UsageRecord,
    pub bodies: Option<SpanBodies>,
    /// `None` until priced, or when the model's price is unknown.
    pub cost_usd: Option<f64>,
}

/// The most of one body a span carries: a Claude Code request is ~100 KB, and a batch of 64
/// spans must stay well under the 20 MiB a collector accepts by default.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The most characters of an error message in the span's status.
const MAX_MESSAGE_CHARS: usize = 200;

impl RequestSpan {
    pub fn new(record: UsageRecord, bodies: Option<SpanBodies>) -> Self {
        RequestSpan {
            record,
            bodies,
            cost_usd: None,
        }
    }

    /// The span with its cost, priced the way the usage history prices it.
    pub fn priced(self, pricer: &Pricer) -> Self {
        let PricedRecord {
            record, cost_usd, ..
        } = pricer.price(self.record);
        RequestSpan {
            record,
            bodies: self.bodies,
            cost_usd,
        }
    }

    /// The OTLP span, with new random ids (each request is its own trace).
    pub fn to_otlp(&self) -> Span {
        self.to_otlp_with_ids(TraceId::random(), SpanId::random())
    }

    pub fn to_otlp_with_ids(&self, trace_id: TraceId, span_id: SpanId) -> Span {
        let r = &self.record;
        let start = ms_to_ns(r.started_at_ms);
        let end = start.saturating_add(r.latency_ms.saturating_mul(1_000_000));
        let mut a = Vec::with_capacity(24);
        a.push(KeyValue::new(attr::OPERATION_NAME, "chat"));
        if let Some(provider) = r.backend_kind.as_deref().map(provider_name) {
            a.push(KeyValue::new(attr::PROVIDER_NAME, provider));
            a.push(KeyValue::new(attr::SYSTEM, provider));
        }
        if !r.requested_model.is_empty() {
            a.push(KeyValue::new(
                attr::REQUEST_MODEL,
                r.requested_model.as_str(),
            ));
        }
        if let Some(model) = &r.upstream_model {
            a.push(KeyValue::new(attr::RESPONSE_MODEL, model.as_str()));
        }
        if let Some(session) = &r.session_id {
            a.push(KeyValue::new(attr::CONVERSATION_ID, session.as_str()));
            a.push(KeyValue::new(attr::SESSION_ID, session.as_str()));
        }
        let usage = &r.usage;
        // A failed request has no usage: zeros would read as a real count.
        if r.status == RequestStatus::Ok || usage.prompt_tokens() > 0 || usage.output_tokens > 0 {
            a.push(KeyValue::new(attr::INPUT_TOKENS, usage.prompt_tokens()));
            a.push(KeyValue::new(attr::OUTPUT_TOKENS, usage.output_tokens));
        }
        if usage.cache_read_input_tokens > 0 {
            a.push(KeyValue::new(
                attr::CACHE_READ_TOKENS,
                usage.cache_read_input_tokens,
            ));
        }
        if usage.cache_creation_input_tokens > 0 {
            a.push(KeyValue::new(
                attr::CACHE_CREATION_TOKENS,
                usage.cache_creation_input_tokens,
            ));
        }
        a.push(KeyValue::new(attr::HTTP_STATUS, i64::from(r.http_status)));
        a.push(KeyValue::new(attr::PROFILE, r.profile.as_str()));
        if let Some(backend) = &r.backend {
            a.push(KeyValue::new(attr::BACKEND, backend.as_str()));
        }
        if let Some(kind) = &r.backend_kind {
            a.push(KeyValue::new(attr::BACKEND_KIND, kind.as_str()));
        }
        if let Some(rule) = &r.rule {
            a.push(KeyValue::new(attr::RULE, rule.as_str()));
        }
        if let Some(cost) = self.cost_usd.filter(|c| c.is_finite()) {
            a.push(KeyValue::new(attr::COST_USD, cost));
        }
        a.push(KeyValue::new(attr::CACHE_HIT, r.cache_hit));
        if let Some(key) = &r.key_name {
            a.push(KeyValue::new(attr::KEY_NAME, key.as_str()));
        }
        a.push(KeyValue::new(attr::STATUS, r.status.as_str()));
        a.push(KeyValue::new(attr::STREAM, r.stream));
        a.push(KeyValue::new(attr::ATTEMPTS, i64::from(r.attempts)));
        if let Some(ttft) = r.ttft_ms {
            a.push(KeyValue::new(attr::TTFT_MS, ttft));
        }
        let status = match r.status {
            RequestStatus::Error => {
                a.push(KeyValue::new(attr::ERROR_TYPE, error_type(r)));
                Status {
                    code: StatusCode::Error,
                    message: r
                        .error_message
                        .as_deref()
                        .map(|m| m.chars().take(MAX_MESSAGE_CHARS).collect())
                        .unwrap_or_default(),
                }
            }
            RequestStatus::Ok | RequestStatus::Cancelled => Status {
                code: StatusCode::Unset,
                message: String::new(),
            },
        };
        if let Some(bodies) = &self.bodies {
            for (text, name, truncated) in [
                (
                    &bodies.request,
                    attr::REQUEST_BODY,
                    attr::REQUEST_BODY_TRUNCATED,
                ),
                (
                    &bodies.response,
                    attr::RESPONSE_BODY,
                    attr::RESPONSE_BODY_TRUNCATED,
                ),
            ] {
                if let Some(text) = text {
                    let kept = cut(text, MAX_BODY_BYTES);
                    if kept.len() < text.len() {
                        a.push(KeyValue::new(truncated, true));
                    }
                    a.push(KeyValue::new(name, kept));
                }
            }
        }
        Span {
            trace_id,
            span_id,
            // `{operation} {model}`, or the operation alone when the request named no model
            // (refused before it was read).
            name: if r.requested_model.is_empty() {
                "chat".to_owned()
            } else {
                format!("chat {}", r.requested_model)
            },
            kind: SpanKind::Client,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes: a,
            status,
        }
    }
}

/// The `gen_ai.provider.name` of a backend kind: the API family Switchyard speaks to it (an
/// `openai_chat` backend may be any OpenAI-compatible server; its id is in
/// `switchyard.backend`).
pub fn provider_name(kind: &str) -> &str {
    match kind {
        "anthropic" => "anthropic",
        "openai_chat" => "openai",
        "ollama" => "ollama",
        other => other,
    }
}

/// `error.type`: low-cardinality, as the convention asks: the Anthropic error type, else the
/// HTTP status, else `_OTHER` (the convention's fallback).
fn error_type(r: &UsageRecord) -> String {
    match &r.error_type {
        Some(kind) if !kind.is_empty() => kind.clone(),
        _ if r.http_status >= 400 => r.http_status.to_string(),
        _ => "_OTHER".to_owned(),
    }
}

fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::anthropic::Usage;
    use serde_json::{Value, json};

    pub(crate) fn record() -> UsageRecord {
        UsageRecord {
            started_at_ms: 1_718_000_000_123,
            client: Some("claude-cli/2.0".into()),
            session_id: Some("sess-1".into()),
            agent_id: None,
            parent_agent_id: None,
            requested_model: "claude-sonnet-4-5".into(),
            profile: "main".into(),
            backend: Some("b0".into()),
            backend_kind: Some("openai_chat".into()),
            upstream_model: Some("qwen3-coder".into()),
            stream: true,
            status: RequestStatus::Ok,
            http_status: 200,
            error_type: None,
            error_message: None,
            usage: Usage {
                input_tokens: 10,
                output_tokens: 5,
                cache_creation_input_tokens: 7,
                cache_read_input_tokens: 100,
            },
            ttft_ms: Some(40),
            latency_ms: 1_500,
            attempts: 1,
            rule: Some("rule 1: *sonnet*".into()),
            notes: None,
            cache_hit: false,
            key_name: Some("personal".into()),
            capture_id: None,
        }
    }

    /// The span's attributes as a map of key → the JSON of its value.
    fn attributes(span: &Span) -> serde_json::Map<String, Value> {
        let json = serde_json::to_value(span).unwrap();
        json["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
            .collect()
    }

    #[test]
    fn a_successful_request_follows_the_genai_conventions() {
        let mut span = RequestSpan::new(record(), None);
        span.cost_usd = Some(0.0125);
        let otlp = span.to_otlp_with_ids(TraceId([1; 16]), SpanId([2; 8]));
        let json = serde_json::to_value(&otlp).unwrap();
        assert_eq!(json["name"], "chat claude-sonnet-4-5");
        assert_eq!(json["kind"], 3);
        assert_eq!(json["traceId"], "01010101010101010101010101010101");
        assert_eq!(json["spanId"], "0202020202020202");
        assert_eq!(json["startTimeUnixNano"], "1718000000123000000");
        assert_eq!(json["endTimeUnixNano"], "1718000001623000000");
        assert_eq!(json["status"], json!({"code": 0}));
        let a = attributes(&otlp);
        let s = |v: &str| json!({"stringValue": v});
        let i = |v: &str| json!({"intValue": v});
        assert_eq!(a["gen_ai.operation.name"], s("chat"));
        assert_eq!(a["gen_ai.provider.name"], s("openai"));
        assert_eq!(a["gen_ai.system"], s("openai"));
        assert_eq!(a["gen_ai.request.model"], s("claude-sonnet-4-5"));
        assert_eq!(a["gen_ai.response.model"], s("qwen3-coder"));
        assert_eq!(a["gen_ai.conversation.id"], s("sess-1"));
        // 10 uncached + 7 written + 100 read.
        assert_eq!(a["gen_ai.usage.input_tokens"], i("117"));
        assert_eq!(a["gen_ai.usage.output_tokens"], i("5"));
        assert_eq!(a["gen_ai.usage.cache_read.input_tokens"], i("100"));
        assert_eq!(a["gen_ai.usage.cache_creation.input_tokens"], i("7"));
        assert_eq!(a["http.response.status_code"], i("200"));
        assert_eq!(a["switchyard.profile"], s("main"));
        assert_eq!(a["switchyard.backend"], s("b0"));
        assert_eq!(a["switchyard.rule"], s("rule 1: *sonnet*"));
        assert_eq!(a["switchyard.cost_usd"], json!({"doubleValue": 0.0125}));
        assert_eq!(a["switchyard.session_id"], s("sess-1"));
        assert_eq!(a["switchyard.cache_hit"], json!({"boolValue": false}));
        assert_eq!(a["switchyard.key_name"], s("personal"));
        assert_eq!(a["switchyard.ttft_ms"], i("40"));
        assert!(!a.contains_key("error.type"));
        assert!(!a.keys().any(|k| k.contains("body")), "{a:?}");
        // Each key once.
        assert_eq!(a.len(), otlp.attributes.len());
    }

    #[test]
    fn a_failed_request_is_an_error_span_with_its_type() {
        let mut r = record();
        r.status = RequestStatus::Error;
        r.http_status = 502;
        r.error_type = Some("api_error".into());
        r.error_message = Some(format!("backend \"b0\" is unreachable{}", "!".repeat(500)));
        r.usage = Usage::default();
        r.upstream_model = None;
        let otlp = RequestSpan::new(r.clone(), None).to_otlp();
        assert_eq!(otlp.status.code, StatusCode::Error);
        assert!(
            otlp.status
                .message
                .starts_with("backend \"b0\" is unreachable")
        );
        assert_eq!(otlp.status.message.chars().count(), MAX_MESSAGE_CHARS);
        let a = attributes(&otlp);
        assert_eq!(a["error.type"], json!({"stringValue": "api_error"}));
        assert_eq!(a["http.response.status_code"], json!({"intValue": "502"}));
        assert!(!a.contains_key("gen_ai.usage.input_tokens"), "{a:?}");
        assert!(!a.contains_key("gen_ai.response.model"));
        assert!(!a.contains_key("switchyard.cost_usd"));

        r.error_type = None;
        let a = attributes(&RequestSpan::new(r.clone(), None).to_otlp());
        assert_eq!(a["error.type"], json!({"stringValue": "502"}));

        // Refused before the model was read.
        r.requested_model = String::new();
        let otlp = RequestSpan::new(r, None).to_otlp();
        assert_eq!(otlp.name, "chat");
        assert!(!attributes(&otlp).contains_key("gen_ai.request.model"));
    }

    #[test]
    fn a_cancelled_request_is_not_an_error() {
        let mut r = record();
        r.status = RequestStatus::Cancelled;
        r.http_status = 200;
        let otlp = RequestSpan::new(r, None).to_otlp();
        assert_eq!(otlp.status.code, StatusCode::Unset);
        let a = attributes(&otlp);
        assert_eq!(a["switchyard.status"], json!({"stringValue": "cancelled"}));
        assert!(!a.contains_key("error.type"));
    }

    #[test]
    fn bodies_are_carried_when_given_and_cut_at_a_character() {
        let long = format!("{}é", "a".repeat(MAX_BODY_BYTES - 1));
        let bodies = SpanBodies {
            request: Some(r#"{"messages":[]}"#.into()),
            response: Some(long),
        };
        let a = attributes(&RequestSpan::new(record(), Some(bodies)).to_otlp());
        assert_eq!(
            a["switchyard.request.body"],
            json!({"stringValue": r#"{"messages":[]}"#})
        );
        assert!(!a.contains_key("switchyard.request.body_truncated"));
        let kept = a["switchyard.response.body"]["stringValue"]
            .as_str()
            .unwrap();
        assert_eq!(kept.len(), MAX_BODY_BYTES - 1);
        assert_eq!(
            a["switchyard.response.body_truncated"],
            json!({"boolValue": true})
        );
    }

    #[test]
    fn pricing_uses_the_usage_history_prices() {
        let config = crate::config::parse(
            "active_profile = \"main\"\n[[backends]]\nid = \"b0\"\nkind = \"openai_chat\"\nbase_url = \"https://api.example.com/v1\"\n[profiles.main]\ndefault = { backend = \"b0\" }\n[pricing.\"qwen3-coder\"]\ninput = 1.0\noutput = 2.0\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let pricer = Pricer::from_config(&config);
        let span = RequestSpan::new(record(), None).priced(&pricer);
        let expected = pricer.price(record()).cost_usd;
        assert!(expected.is_some_and(|c| c > 0.0), "{expected:?}");
        assert_eq!(span.cost_usd, expected);
    }
}
