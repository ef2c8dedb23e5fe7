use serde::{Deserialize, Serialize};

/// Anthropic's `error.type` values, each with the HTTP status it travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    BillingError,
    PermissionError,
    NotFoundError,
    RequestTooLarge,
    RateLimitError,
    ApiError,
    TimeoutError,
    OverloadedError,
}

impl ErrorType {
    pub fn status(self) -> u16 {
        match self {
            ErrorType::InvalidRequestError => 400,
            ErrorType::AuthenticationError => 401,
            ErrorType::BillingError => 402,
            ErrorType::PermissionError => 403,
            ErrorType::NotFoundError => 404,
            ErrorType::RequestTooLarge => 413,
            ErrorType::RateLimitError => 429,
            ErrorType::ApiError => 500,
            ErrorType::TimeoutError => 504,
            ErrorType::OverloadedError => 529,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::InvalidRequestError => "invalid_request_error",
            ErrorType::AuthenticationError => "authentication_error",
            ErrorType::BillingError => "billing_error",
            ErrorType::PermissionError => "permission_error",
            ErrorType::NotFoundError => "not_found_error",
            ErrorType::RequestTooLarge => "request_too_large",
            ErrorType::RateLimitError => "rate_limit_error",
            ErrorType::ApiError => "api_error",
            ErrorType::TimeoutError => "timeout_error",
            ErrorType::OverloadedError => "overloaded_error",
        }
    }

    /// Parse a wire name such as `overloaded_error`.
    pub fn from_name(name: &str) -> Option<ErrorType> {
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }

    /// The error type Anthropic uses for an HTTP status (for upstream errors without a body
    /// we understand).
    pub fn from_status(status: u16) -> ErrorType {
        match status {
            401 => ErrorType::AuthenticationError,
            402 => ErrorType::BillingError,
            403 => ErrorType::PermissionError,
            404 => ErrorType::NotFoundError,
            413 => ErrorType::RequestTooLarge,
            429 => ErrorType::RateLimitError,
            408 | 504 => ErrorType::TimeoutError,
            502 | 503 | 529 => ErrorType::OverloadedError,
            400..=499 => ErrorType::InvalidRequestError,
            _ => ErrorType::ApiError,
        }
    }
}

/// An error in Anthropic's shape, with the status it is answered with. Every error the
/// gateway produces becomes one of these at the HTTP edge (or an SSE `error` event mid-stream).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ApiError {
    pub kind: ErrorType,
    pub message: String,
    /// Seconds, copied to `retry-after` (429 from an upstream, a budget that resets).
    pub retry_after: Option<u64>,
    /// An HTTP status other than the type's usual one (e.g. 502 for an unreachable backend,
    /// which Anthropic's vocabulary has no type for; an upstream's own status).
    pub status_override: Option<u16>,
}

impl ApiError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
            retry_after: None,
            status_override: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status_override = Some(status);
        self
    }

    pub fn with_retry_after(mut self, seconds: Option<u64>) -> Self {
        self.retry_after = seconds;
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidRequestError, message)
    }

    pub fn status(&self) -> u16 {
        self.status_override.unwrap_or_else(|| self.kind.status())
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            kind: self.kind.as_str().to_owned(),
            message: self.message.clone(),
        }
    }

    pub fn envelope(&self) -> ErrorEnvelope {
        ErrorEnvelope {
            kind: "error".to_owned(),
            error: self.body(),
        }
    }

    /// The wording that makes Claude Code compact its conversation.
    pub fn prompt_too_long(tokens: u64, maximum: u64) -> Self {
        Self::invalid_request(format!(
            "prompt is too long: {tokens} tokens > {maximum} maximum"
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Kept as a string: upstreams may send types this version does not know.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// `{"type":"error","error":{...}}`, the HTTP body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(rename = "type")]
    pub kind: String,
    pub error: ErrorBody,
}
