//! The OTLP/HTTP JSON request for traces, as our own typed structs: the part of
//! `ExportTraceServiceRequest` (opentelemetry-proto, `collector/trace/v1`) that one span per
//! request needs. The `opentelemetry-proto` crate would bring the OpenTelemetry SDK and prost
//! for these dozen fields.
//!
//! Field names are the proto's in lowerCamelCase, and the encoding follows OTLP's JSON rules
//! (the OTLP specification, "JSON Protobuf Encoding"), which differ from plain proto3 JSON:
//! - `traceId` and `spanId` are hex strings (not base64);
//! - enums (`kind`, `status.code`) are integers, never names;
//! - 64-bit integers (`startTimeUnixNano`, `intValue`) are decimal strings.
//!
//! Serialize only: Switchyard sends these, it never reads them back.

use serde::{Serialize, Serializer};

/// `ExportTraceServiceRequest`: the body of `POST /v1/traces`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportTraceServiceRequest {
    pub resource_spans: Vec<ResourceSpans>,
}

/// The spans of one resource (the process that made them: `service.name`, ...).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSpans {
    pub resource: Resource,
    pub scope_spans: Vec<ScopeSpans>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    pub attributes: Vec<KeyValue>,
}

/// The spans one instrumentation scope (here: Switchyard's gateway) produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSpans {
    pub scope: InstrumentationScope,
    pub spans: Vec<Span>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstrumentationScope {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub name: String,
    pub kind: SpanKind,
    #[serde(serialize_with = "u64_as_string")]
    pub start_time_unix_nano: u64,
    #[serde(serialize_with = "u64_as_string")]
    pub end_time_unix_nano: u64,
    pub attributes: Vec<KeyValue>,
    pub status: Status,
}

/// A 16-byte trace id, written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id, written as 16 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanId(pub [u8; 8]);

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

impl Serialize for TraceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl TraceId {
    /// A random id; all-zero is invalid in OTLP, so it is never returned.
    pub fn random() -> Self {
        loop {
            let id: [u8; 16] = rand::random();
            if id != [0; 16] {
                return TraceId(id);
            }
        }
    }
}

impl SpanId {
    /// A random id, never all-zero (invalid in OTLP).
    pub fn random() -> Self {
        loop {
            let id: [u8; 8] = rand::random();
            if id != [0; 8] {
                return SpanId(id);
            }
        }
    }
}

/// `Span.SpanKind`, written as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
}

impl Serialize for SpanKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(*self as i32)
    }
}

/// `Status`: `code` as its number; `message` only with an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub code: StatusCode,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `Status.StatusCode`, written as its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusCode {
    /// The default: instrumentation leaves a successful span's status unset (the
    /// OpenTelemetry API's advice; `Ok` is for an operator overriding an error).
    Unset = 0,
    Ok = 1,
    Error = 2,
}

impl Serialize for StatusCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(*self as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

impl KeyValue {
    pub fn new(key: impl Into<String>, value: impl Into<AnyValue>) -> Self {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// `AnyValue`, the kinds a span of ours uses: `{"stringValue": "..."}`, `{"intValue": "12"}`
/// (a string: it is an int64), `{"boolValue": true}`, `{"doubleValue": 0.5}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AnyValue {
    StringValue(String),
    BoolValue(bool),
    IntValue(#[serde(serialize_with = "i64_as_string")] i64),
    /// Finite values only: JSON has no NaN or infinity (callers leave such an attribute out).
    DoubleValue(f64),
}

impl From<String> for AnyValue {
    fn from(v: String) -> Self {
        AnyValue::StringValue(v)
    }
}

impl From<&str> for AnyValue {
    fn from(v: &str) -> Self {
        AnyValue::StringValue(v.to_owned())
    }
}

impl From<bool> for AnyValue {
    fn from(v: bool) -> Self {
        AnyValue::BoolValue(v)
    }
}

impl From<i64> for AnyValue {
    fn from(v: i64) -> Self {
        AnyValue::IntValue(v)
    }
}

impl From<u64> for AnyValue {
    /// Counts above `i64::MAX` (none real: token counts are capped at 10^9) stop there.
    fn from(v: u64) -> Self {
        AnyValue::IntValue(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<f64> for AnyValue {
    fn from(v: f64) -> Self {
        AnyValue::DoubleValue(v)
    }
}

fn u64_as_string<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn i64_as_string<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_lowercase_hex_enums_numbers_and_int64s_strings() {
        let span = Span {
            trace_id: TraceId([
                0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f,
                0xc6, 0x0c,
            ]),
            span_id: SpanId([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]),
            name: "chat claude-sonnet-4-5".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: 1_718_000_000_123_000_000,
            end_time_unix_nano: u64::MAX,
            attributes: vec![
                KeyValue::new("s", "x"),
                KeyValue::new("i", 9_007_199_254_740_993_i64),
                KeyValue::new("u", 12_u64),
                KeyValue::new("b", true),
                KeyValue::new("d", 0.25),
            ],
            status: Status {
                code: StatusCode::Error,
                message: "upstream down".into(),
            },
        };
        let value = serde_json::to_value(&span).unwrap();
        assert_eq!(
            value,
            json!({
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "00f067aa0ba902b7",
                "name": "chat claude-sonnet-4-5",
                "kind": 3,
                "startTimeUnixNano": "1718000000123000000",
                "endTimeUnixNano": "18446744073709551615",
                "attributes": [
                    {"key": "s", "value": {"stringValue": "x"}},
                    // 2^53 + 1: a JSON number would lose it in most parsers.
                    {"key": "i", "value": {"intValue": "9007199254740993"}},
                    {"key": "u", "value": {"intValue": "12"}},
                    {"key": "b", "value": {"boolValue": true}},
                    {"key": "d", "value": {"doubleValue": 0.25}},
                ],
                "status": {"code": 2, "message": "upstream down"},
            })
        );
        let unset = Status {
            code: StatusCode::Unset,
            message: String::new(),
        };
        assert_eq!(serde_json::to_value(unset).unwrap(), json!({"code": 0}));
        assert_eq!(AnyValue::from(u64::MAX), AnyValue::IntValue(i64::MAX));
    }

    #[test]
    fn random_ids_are_never_zero_and_differ() {
        let (a, b) = (TraceId::random(), TraceId::random());
        assert_ne!(a, b);
        assert_ne!(a.0, [0; 16]);
        assert_ne!(SpanId::random().0, [0; 8]);
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text.len(), 34, "{text}");
        assert!(
            text.trim_matches('"')
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn a_request_nests_resource_scope_and_spans() {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Resource {
                    attributes: vec![KeyValue::new("service.name", "switchyard")],
                },
                scope_spans: vec![ScopeSpans {
                    scope: InstrumentationScope {
                        name: "switchyard".into(),
                        version: "0.1.0".into(),
                    },
                    spans: Vec::new(),
                }],
            }],
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "switchyard"}}]},
                "scopeSpans": [{"scope": {"name": "switchyard", "version": "0.1.0"}, "spans": []}],
            }]})
        );
    }
}
