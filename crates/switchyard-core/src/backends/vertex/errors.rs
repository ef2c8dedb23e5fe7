//! Vertex AI error answers → Anthropic errors.
//!
//! Vertex answers two ways: errors of the model itself come in Anthropic's own envelope
//! (`{"type":"error","error":{...}}`) and pass through as they are, with their status; errors
//! of Google's front end (quota, permissions, a model not enabled, a bad project) come in
//! Google's (`{"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED"}}`, sometimes
//! inside a one-element list), whose gRPC status name decides the Anthropic type and whose
//! message is kept. A prompt over the window becomes Claude Code's `prompt is too long` wording
//! either way.

use serde::Deserialize;

use crate::anthropic::{ApiError, ErrorEnvelope, ErrorType};
use crate::backends::bedrock::errors::{is_prompt_too_long, prompt_too_long_wording};

/// `{"error": {"code", "message", "status"}}`.
#[derive(Debug, Deserialize)]
struct GoogleEnvelope {
    error: GoogleError,
}

#[derive(Debug, Deserialize)]
struct GoogleError {
    #[serde(default)]
    message: String,
    /// The gRPC code's name: `RESOURCE_EXHAUSTED`, `PERMISSION_DENIED`...
    #[serde(default)]
    status: Option<String>,
}

/// Google's envelope, bare or as the one element of a list (streaming methods answer so).
/// The list is tried first: serde reads a struct from a JSON array too (field by position),
/// which would take `[{"error":..}]` as an envelope whose `error` is the first element.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GoogleAnswer {
    List(Vec<GoogleEnvelope>),
    One(GoogleEnvelope),
}

/// The Anthropic type of a gRPC status name.
fn kind_of_status(name: &str) -> Option<ErrorType> {
    Some(match name {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => {
            ErrorType::InvalidRequestError
        }
        "UNAUTHENTICATED" => ErrorType::AuthenticationError,
        "PERMISSION_DENIED" => ErrorType::PermissionError,
        "NOT_FOUND" => ErrorType::NotFoundError,
        "RESOURCE_EXHAUSTED" => ErrorType::RateLimitError,
        "UNAVAILABLE" => ErrorType::OverloadedError,
        "DEADLINE_EXCEEDED" => ErrorType::TimeoutError,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" | "ABORTED" => ErrorType::ApiError,
        _ => return None,
    })
}

/// An error answer from Vertex (`status`, `body`) as the error the client gets; `backend`
/// names it when the body says nothing readable.
pub fn map_error(status: u16, body: &[u8], backend: &str) -> ApiError {
    let (kind, message) = if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
        let kind =
            ErrorType::from_name(&envelope.error.kind).unwrap_or(ErrorType::from_status(status));
        (kind, envelope.error.message)
    } else if let Ok(answer) = serde_json::from_slice::<GoogleAnswer>(body) {
        let error = match answer {
            GoogleAnswer::One(one) => Some(one.error),
            GoogleAnswer::List(list) => list.into_iter().next().map(|e| e.error),
        };
        let kind = error
            .as_ref()
            .and_then(|e| e.status.as_deref())
            .and_then(kind_of_status)
            .unwrap_or(ErrorType::from_status(status));
        let message = error.map(|e| e.message).unwrap_or_default();
        (kind, message)
    } else {
        (ErrorType::from_status(status), String::new())
    };
    let message = if message.trim().is_empty() {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)])
            .trim()
            .to_owned();
        match text.is_empty() {
            true => format!("backend {backend:?} (Vertex AI) answered HTTP {status}"),
            false => format!("backend {backend:?} (Vertex AI) answered HTTP {status}: {text}"),
        }
    } else {
        message
    };
    let message = if kind == ErrorType::InvalidRequestError && is_prompt_too_long(&message) {
        prompt_too_long_wording(&message)
    } else {
        message
    };
    ApiError::new(kind, message).with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(status: u16, body: &str) -> (ErrorType, u16, String) {
        let err = map_error(status, body.as_bytes(), "vertex");
        (err.kind, err.status(), err.message)
    }

    #[test]
    fn the_models_own_errors_pass_through() {
        assert_eq!(
            mapped(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            (ErrorType::OverloadedError, 529, "Overloaded".to_owned())
        );
        assert_eq!(
            mapped(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#
            ),
            (
                ErrorType::InvalidRequestError,
                400,
                "prompt is too long: 210000 tokens > 200000 maximum".to_owned()
            )
        );
    }

    #[test]
    fn googles_envelope_is_read_by_its_status_name() {
        let quota = r#"{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: anthropic-claude-sonnet-4-5.","status":"RESOURCE_EXHAUSTED"}}"#;
        let (kind, status, message) = mapped(429, quota);
        assert_eq!((kind, status), (ErrorType::RateLimitError, 429));
        assert!(message.starts_with("Quota exceeded"), "{message}");

        let listed = r#"[{"error":{"code":403,"message":"Permission 'aiplatform.endpoints.predict' denied on resource","status":"PERMISSION_DENIED"}}]"#;
        assert_eq!(
            mapped(403, listed),
            (
                ErrorType::PermissionError,
                403,
                "Permission 'aiplatform.endpoints.predict' denied on resource".to_owned()
            )
        );
        let not_found = r#"{"error":{"code":404,"message":"Publisher Model `projects/p/locations/us-east5/publishers/anthropic/models/claude-x` not found.","status":"NOT_FOUND"}}"#;
        assert_eq!(mapped(404, not_found).0, ErrorType::NotFoundError);
        let expired = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}"#;
        assert_eq!(mapped(401, expired).0, ErrorType::AuthenticationError);
        // A status name we do not know: the HTTP status decides.
        let odd = r#"{"error":{"code":503,"message":"busy","status":"SOMETHING_NEW"}}"#;
        assert_eq!(mapped(503, odd).0, ErrorType::OverloadedError);
    }

    #[test]
    fn a_too_long_prompt_gets_claude_codes_wording() {
        let long = r#"{"error":{"code":400,"message":"Input is too long for requested model.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            mapped(400, long).2,
            "prompt is too long: Input is too long for requested model."
        );
    }

    #[test]
    fn anything_else_names_the_backend_and_keeps_the_text() {
        let (kind, status, message) = mapped(502, "<html>Bad Gateway</html>");
        assert_eq!((kind, status), (ErrorType::OverloadedError, 502));
        assert_eq!(
            message,
            "backend \"vertex\" (Vertex AI) answered HTTP 502: <html>Bad Gateway</html>"
        );
        assert_eq!(
            mapped(500, "").2,
            "backend \"vertex\" (Vertex AI) answered HTTP 500"
        );
    }
}
