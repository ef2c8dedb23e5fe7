//! Bedrock error answers → Anthropic errors.
//!
//! Bedrock names its errors (`x-amzn-errortype`, a body's `__type`, an event-stream
//! exception's `:exception-type`) in AWS's vocabulary; Claude Code acts on Anthropic's: it
//! retries `rate_limit_error` and `overloaded_error`, asks for a new key on
//! `authentication_error`, and compacts the conversation only on a message that starts with
//! `prompt is too long`. The name decides; the HTTP status only when the name is unknown.

use serde::Deserialize;

use crate::anthropic::{ApiError, ErrorType};

/// The Bedrock error names we tell apart. Everything else is kept by name in `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BedrockErrorKind {
    Throttling,
    ServiceQuotaExceeded,
    Validation,
    AccessDenied,
    /// Bad or unknown credentials: `UnrecognizedClientException`, `InvalidSignatureException`,
    /// `ExpiredTokenException`, `IncompleteSignatureException`,
    /// `MissingAuthenticationTokenException`.
    Authentication(String),
    ResourceNotFound,
    ModelNotReady,
    ServiceUnavailable,
    ModelTimeout,
    /// The model failed while streaming; carries the model's own status when Bedrock gives it.
    ModelStreamError,
    ModelError,
    InternalServer,
    Other(String),
}

impl BedrockErrorKind {
    /// Reads any of the spellings Bedrock uses for a name: `ThrottlingException`,
    /// `throttlingException` (event-stream exceptions),
    /// `ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/`
    /// (`x-amzn-errortype`), `com.amazon.coral.service#UnrecognizedClientException` (`__type`).
    pub fn from_name(raw: &str) -> BedrockErrorKind {
        let name = raw.split(':').next().unwrap_or(raw);
        let name = name.rsplit('#').next().unwrap_or(name).trim();
        let base = name
            .strip_suffix("Exception")
            .or_else(|| name.strip_suffix("exception"))
            .unwrap_or(name)
            .to_ascii_lowercase();
        match base.as_str() {
            "throttling" => BedrockErrorKind::Throttling,
            "servicequotaexceeded" => BedrockErrorKind::ServiceQuotaExceeded,
            "validation" => BedrockErrorKind::Validation,
            "accessdenied" => BedrockErrorKind::AccessDenied,
            "unrecognizedclient"
            | "invalidsignature"
            | "expiredtoken"
            | "incompletesignature"
            | "missingauthenticationtoken" => BedrockErrorKind::Authentication(name.to_owned()),
            "resourcenotfound" => BedrockErrorKind::ResourceNotFound,
            "modelnotready" => BedrockErrorKind::ModelNotReady,
            "serviceunavailable" => BedrockErrorKind::ServiceUnavailable,
            "modeltimeout" => BedrockErrorKind::ModelTimeout,
            "modelstreamerror" => BedrockErrorKind::ModelStreamError,
            "modelerror" => BedrockErrorKind::ModelError,
            "internalserver" => BedrockErrorKind::InternalServer,
            _ => BedrockErrorKind::Other(name.to_owned()),
        }
    }
}

/// The JSON body of a Bedrock error (`{"message": "..."}`; some front ends write `Message`
/// and name the error in `__type`).
#[derive(Debug, Default, Deserialize)]
struct ErrorBodyWire {
    #[serde(alias = "Message")]
    message: Option<String>,
    #[serde(rename = "__type")]
    kind: Option<String>,
    #[serde(rename = "originalStatusCode")]
    original_status: Option<u16>,
    #[serde(rename = "originalMessage")]
    original_message: Option<String>,
}

/// A Bedrock error as read from its answer (or from an event-stream exception).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockError {
    /// The HTTP status of the answer; `None` for an exception inside a stream.
    pub status: Option<u16>,
    pub kind: Option<BedrockErrorKind>,
    pub message: String,
    /// `modelStreamErrorException`: the status and message the model itself answered with.
    pub original_status: Option<u16>,
    pub original_message: Option<String>,
}

impl BedrockError {
    /// An error answer: its status, its `x-amzn-errortype` header if any, and its body.
    pub fn from_response(status: u16, error_type: Option<&str>, body: &[u8]) -> BedrockError {
        let mut error = BedrockError::from_payload(error_type, body);
        error.status = Some(status);
        error
    }

    /// An exception message of an event stream: its `:exception-type` and JSON payload.
    pub fn from_payload(error_type: Option<&str>, body: &[u8]) -> BedrockError {
        let (wire, text) = match serde_json::from_slice::<ErrorBodyWire>(body) {
            Ok(wire) => (wire, None),
            // A proxy's HTML page or plain text still says something worth passing on.
            Err(_) => (
                ErrorBodyWire::default(),
                Some(String::from_utf8_lossy(body).trim().to_owned()),
            ),
        };
        let name = error_type
            .filter(|t| !t.trim().is_empty())
            .or(wire.kind.as_deref());
        BedrockError {
            status: None,
            kind: name.map(BedrockErrorKind::from_name),
            message: wire.message.or(text).unwrap_or_default(),
            original_status: wire.original_status,
            original_message: wire.original_message,
        }
    }

    /// The Anthropic error this becomes.
    pub fn to_api_error(&self) -> ApiError {
        let kind = match &self.kind {
            Some(BedrockErrorKind::Throttling | BedrockErrorKind::ServiceQuotaExceeded) => {
                ErrorType::RateLimitError
            }
            Some(BedrockErrorKind::Validation) => ErrorType::InvalidRequestError,
            Some(BedrockErrorKind::AccessDenied) => ErrorType::PermissionError,
            Some(BedrockErrorKind::Authentication(_)) => ErrorType::AuthenticationError,
            Some(BedrockErrorKind::ResourceNotFound) => ErrorType::NotFoundError,
            Some(BedrockErrorKind::ModelNotReady | BedrockErrorKind::ServiceUnavailable) => {
                ErrorType::OverloadedError
            }
            Some(BedrockErrorKind::ModelTimeout) => ErrorType::TimeoutError,
            // The model's own status says more than Bedrock's wrapper (a 529 from the model
            // is worth a retry; a 400 is not).
            Some(BedrockErrorKind::ModelStreamError) => self
                .original_status
                .map_or(ErrorType::ApiError, ErrorType::from_status),
            Some(BedrockErrorKind::ModelError | BedrockErrorKind::InternalServer) => {
                ErrorType::ApiError
            }
            Some(BedrockErrorKind::Other(_)) | None => match self.status {
                Some(status) => ErrorType::from_status(status),
                None => ErrorType::ApiError,
            },
        };
        if kind == ErrorType::InvalidRequestError && is_prompt_too_long(&self.message) {
            return ApiError::invalid_request(prompt_too_long_wording(&self.message));
        }
        ApiError::new(kind, self.describe())
    }

    fn describe(&self) -> String {
        let message = match (&self.original_message, self.message.is_empty()) {
            (Some(original), true) => original.clone(),
            (Some(original), false) if original != &self.message => {
                format!("{} ({original})", self.message)
            }
            (_, false) => self.message.clone(),
            (None, true) => String::new(),
        };
        if !message.is_empty() {
            return message;
        }
        let name = match &self.kind {
            Some(BedrockErrorKind::Authentication(name) | BedrockErrorKind::Other(name)) => {
                name.clone()
            }
            Some(kind) => format!("{kind:?}"),
            None => "error".to_owned(),
        };
        match self.status {
            Some(status) => format!("Bedrock answered {name} (HTTP {status}) without a message"),
            None => format!("Bedrock sent {name} without a message"),
        }
    }
}

/// An error answer from Bedrock as the Anthropic error the client gets.
pub fn map_error(status: u16, error_type: Option<&str>, body: &[u8]) -> ApiError {
    BedrockError::from_response(status, error_type, body).to_api_error()
}

pub(crate) fn is_prompt_too_long(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "input is too long",
        "too many input tokens",
        "prompt is too long",
    ]
    .iter()
    .any(|mark| message.contains(mark))
}

/// Claude Code compacts on a message that starts `prompt is too long`; Bedrock's own wording
/// is kept after it, so the reason and any numbers are not lost.
pub(crate) fn prompt_too_long_wording(message: &str) -> String {
    let trimmed = message.trim();
    if trimmed
        .to_ascii_lowercase()
        .starts_with("prompt is too long")
    {
        trimmed.to_owned()
    } else {
        format!("prompt is too long: {trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(status: u16, header: Option<&str>, body: &str) -> (ErrorType, u16, String) {
        let err = map_error(status, header, body.as_bytes());
        (err.kind, err.status(), err.message)
    }

    #[test]
    fn names_are_read_in_every_spelling() {
        for raw in [
            "ThrottlingException",
            "throttlingException",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            "com.amazon.coral.availability#ThrottlingException",
        ] {
            assert_eq!(
                BedrockErrorKind::from_name(raw),
                BedrockErrorKind::Throttling,
                "{raw}"
            );
        }
        assert_eq!(
            BedrockErrorKind::from_name("com.amazon.coral.service#UnrecognizedClientException"),
            BedrockErrorKind::Authentication("UnrecognizedClientException".to_owned())
        );
        assert_eq!(
            BedrockErrorKind::from_name("SomethingNewException"),
            BedrockErrorKind::Other("SomethingNewException".to_owned())
        );
    }

    #[test]
    fn throttling_is_a_rate_limit() {
        let (kind, status, message) = mapped(
            429,
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            r#"{"message":"Too many requests, please wait before trying again."}"#,
        );
        assert_eq!(kind, ErrorType::RateLimitError);
        assert_eq!(status, 429);
        assert_eq!(
            message,
            "Too many requests, please wait before trying again."
        );
    }

    #[test]
    fn validation_keeps_bedrocks_message() {
        let (kind, status, message) = mapped(
            400,
            Some("ValidationException"),
            r#"{"message":"messages: text content blocks must be non-empty"}"#,
        );
        assert_eq!(kind, ErrorType::InvalidRequestError);
        assert_eq!(status, 400);
        assert_eq!(message, "messages: text content blocks must be non-empty");
    }

    #[test]
    fn an_input_too_long_becomes_claude_codes_wording() {
        let (kind, status, message) = mapped(
            400,
            Some("ValidationException"),
            r#"{"message":"Input is too long for requested model."}"#,
        );
        assert_eq!(kind, ErrorType::InvalidRequestError);
        assert_eq!(status, 400);
        assert_eq!(
            message,
            "prompt is too long: Input is too long for requested model."
        );

        let (_, _, message) = mapped(
            400,
            Some("ValidationException"),
            r#"{"message":"Too many input tokens. Max input tokens: 200000, request input token count: 212345"}"#,
        );
        assert!(message.starts_with("prompt is too long: Too many input tokens."));

        // Already in Anthropic's words: not said twice.
        let (_, _, message) = mapped(
            400,
            Some("ValidationException"),
            r#"{"message":"prompt is too long: 212345 tokens > 200000 maximum"}"#,
        );
        assert_eq!(
            message,
            "prompt is too long: 212345 tokens > 200000 maximum"
        );
    }

    #[test]
    fn the_rest_of_the_table() {
        let cases = [
            (
                403,
                "AccessDeniedException",
                ErrorType::PermissionError,
                403,
            ),
            (
                403,
                "UnrecognizedClientException",
                ErrorType::AuthenticationError,
                401,
            ),
            (
                403,
                "InvalidSignatureException",
                ErrorType::AuthenticationError,
                401,
            ),
            (
                403,
                "ExpiredTokenException",
                ErrorType::AuthenticationError,
                401,
            ),
            (
                404,
                "ResourceNotFoundException",
                ErrorType::NotFoundError,
                404,
            ),
            (
                429,
                "ModelNotReadyException",
                ErrorType::OverloadedError,
                529,
            ),
            (
                503,
                "ServiceUnavailableException",
                ErrorType::OverloadedError,
                529,
            ),
            (408, "ModelTimeoutException", ErrorType::TimeoutError, 504),
            (424, "ModelErrorException", ErrorType::ApiError, 500),
            (500, "InternalServerException", ErrorType::ApiError, 500),
            (
                400,
                "ServiceQuotaExceededException",
                ErrorType::RateLimitError,
                429,
            ),
        ];
        for (status, name, kind, answered) in cases {
            let err = map_error(status, Some(name), br#"{"message":"m"}"#);
            assert_eq!((err.kind, err.status()), (kind, answered), "{name}");
            assert_eq!(err.message, "m");
        }
    }

    #[test]
    fn without_a_known_name_the_status_decides() {
        assert_eq!(mapped(401, None, "{}").0, ErrorType::AuthenticationError);
        assert_eq!(mapped(503, None, "").0, ErrorType::OverloadedError);
        assert_eq!(
            mapped(500, Some("WeirdException"), "{}").0,
            ErrorType::ApiError
        );
        // The body's `__type` names the error when the header does not.
        let (kind, _, message) = mapped(
            400,
            None,
            r#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"The security token included in the request is invalid."}"#,
        );
        assert_eq!(kind, ErrorType::AuthenticationError);
        assert_eq!(
            message,
            "The security token included in the request is invalid."
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_kept_as_text() {
        let (kind, _, message) = mapped(502, None, "  <html>Bad Gateway</html>\n");
        assert_eq!(kind, ErrorType::OverloadedError);
        assert_eq!(message, "<html>Bad Gateway</html>");
        let (_, _, message) = mapped(500, Some("InternalServerException"), "");
        assert_eq!(
            message,
            "Bedrock answered InternalServer (HTTP 500) without a message"
        );
    }

    #[test]
    fn a_model_stream_error_follows_the_models_status() {
        let err = BedrockError::from_payload(
            Some("modelStreamErrorException"),
            br#"{"message":"Model stream error","originalStatusCode":529,"originalMessage":"Overloaded"}"#,
        );
        let api = err.to_api_error();
        assert_eq!(api.kind, ErrorType::OverloadedError);
        assert_eq!(api.message, "Model stream error (Overloaded)");

        let without = BedrockError::from_payload(
            Some("modelStreamErrorException"),
            br#"{"message":"Model stream error"}"#,
        );
        assert_eq!(without.to_api_error().kind, ErrorType::ApiError);
    }
}
