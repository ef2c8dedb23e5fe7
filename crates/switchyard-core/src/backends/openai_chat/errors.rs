//! Upstream errors → Anthropic errors (§5.9). Shared with the Ollama translator.
//!
//! The one that matters most: a context overflow becomes `prompt is too long: N tokens > M
//! maximum` (400), the wording that makes Claude Code compact its conversation. N and M come
//! from the upstream message when it has them, else from our estimate and the known window.

use crate::anthropic::{ApiError, ErrorType};

use super::wire::{ErrorBody, ErrorCode, ErrorField, ErrorObject};

/// What we could read from an upstream error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UpstreamError {
    pub message: String,
    pub kind: Option<String>,
    pub code: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub context_tokens: Option<u64>,
}

impl UpstreamError {
    /// Parse any of the error shapes we know; an unparseable body is kept as text.
    pub fn parse(body: &[u8]) -> UpstreamError {
        let text = String::from_utf8_lossy(body).trim().to_owned();
        let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) else {
            return UpstreamError {
                message: text,
                ..UpstreamError::default()
            };
        };
        match parsed.error {
            Some(field) => UpstreamError::from_field(field),
            None => UpstreamError {
                message: parsed.message.unwrap_or(text),
                kind: parsed.kind,
                ..UpstreamError::default()
            },
        }
    }

    pub fn from_field(field: ErrorField) -> UpstreamError {
        match field {
            ErrorField::Text(message) => UpstreamError {
                message,
                ..UpstreamError::default()
            },
            ErrorField::Object(ErrorObject {
                message,
                kind,
                code,
                n_prompt_tokens,
                n_ctx,
            }) => UpstreamError {
                message: message.unwrap_or_default(),
                kind,
                code: code.map(|c| match c {
                    ErrorCode::Text(t) => t,
                    ErrorCode::Number(n) => n.to_string(),
                }),
                prompt_tokens: n_prompt_tokens,
                context_tokens: n_ctx,
            },
        }
    }

    /// The HTTP status a mid-stream error would have had, when its `code` says so.
    pub fn status_hint(&self) -> Option<u16> {
        self.code
            .as_deref()
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|s| (400..600).contains(s))
    }

    fn is_context_overflow(&self) -> bool {
        let message = self.message.to_ascii_lowercase();
        let marks = [
            "maximum context length",
            "context_length_exceeded",
            "exceeds the available context size",
            "exceed_context_size_error",
            "exceeds the context",
            "exceeds maximum context length",
            "context window",
            "prompt is too long",
        ];
        marks.iter().any(|m| message.contains(m))
            || self.kind.as_deref() == Some("exceed_context_size_error")
            || self.code.as_deref() == Some("context_length_exceeded")
    }
}

/// Facts about the request that help word an error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorContext<'a> {
    pub backend_id: &'a str,
    pub upstream_model: &'a str,
    pub estimated_prompt: u64,
    pub context_length: Option<u32>,
}

/// The first run of digits after `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let start = text.find(marker)? + marker.len();
    let digits: String = text[start..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The number right before `marker` (`8000 in the messages`).
fn number_before(text: &str, marker: &str) -> Option<u64> {
    let end = text.find(marker)?;
    let digits: String = text[..end]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

fn context_overflow(err: &UpstreamError, ctx: &ErrorContext<'_>) -> ApiError {
    let message = &err.message;
    let maximum = err
        .context_tokens
        .or_else(|| number_after(message, "maximum context length is"))
        .or_else(|| number_after(message, "context length of"))
        .or_else(|| ctx.context_length.map(u64::from));
    let in_messages = number_before(message, "in the messages");
    let in_completion = number_before(message, "in the completion");
    // vLLM/OpenAI say how the request splits: when the prompt alone fits, asking for fewer
    // output tokens is the fix, and this wording makes Claude Code retry with a smaller
    // `max_tokens` instead of compacting.
    if let (Some(max), Some(input), Some(output)) = (maximum, in_messages, in_completion)
        && input < max
    {
        return ApiError::invalid_request(format!(
            "input length and `max_tokens` exceed context limit: {input} + {output} > {max}, decrease input length or `max_tokens` and try again"
        ));
    }
    let tokens = err
        .prompt_tokens
        .or(in_messages)
        .or_else(|| number_after(message, "you requested"))
        .or_else(|| number_after(message, "resulted in"));
    match (tokens, maximum) {
        (Some(n), Some(m)) if n > m => ApiError::prompt_too_long(n, m),
        (_, Some(m)) => ApiError::prompt_too_long(ctx.estimated_prompt.max(m + 1), m),
        (Some(n), None) => ApiError::prompt_too_long(n, n.saturating_sub(1)),
        // Nothing known: our estimate against a window just below it keeps the wording.
        (None, None) => ApiError::prompt_too_long(
            ctx.estimated_prompt.max(1),
            ctx.estimated_prompt.saturating_sub(1),
        ),
    }
}

/// Seconds from wording like "try again in 20s" / "retry after 20 seconds".
fn retry_after_from(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    number_after(&lower, "try again in").or_else(|| number_after(&lower, "retry after"))
}

/// Map an upstream HTTP error (status + parsed body) to the error the client gets.
pub(crate) fn map_error(status: u16, err: &UpstreamError, ctx: &ErrorContext<'_>) -> ApiError {
    if (status == 400 || status == 413 || status == 500 || status == 422)
        && err.is_context_overflow()
    {
        return context_overflow(err, ctx);
    }
    let detail = if err.message.is_empty() {
        format!("HTTP {status}")
    } else {
        err.message.clone()
    };
    let lower = detail.to_ascii_lowercase();
    match status {
        404 if lower.contains("model") || lower.contains("not found") => ApiError::new(
            ErrorType::NotFoundError,
            format!(
                "model '{}' not found on backend '{}': {detail}",
                ctx.upstream_model, ctx.backend_id
            ),
        ),
        // A 401 would make Claude Code ask the user to log in to Anthropic, which is not the
        // problem: it is this backend's key.
        401 | 403 => ApiError::new(
            ErrorType::ApiError,
            format!(
                "backend '{}' rejected its credentials (HTTP {status}): {detail}. Check the API key configured for this backend in Switchyard.",
                ctx.backend_id
            ),
        ),
        429 => {
            let mut error = ApiError::new(
                ErrorType::RateLimitError,
                format!("backend '{}' is rate limited: {detail}", ctx.backend_id),
            );
            error.retry_after = retry_after_from(&detail);
            error
        }
        _ => {
            let kind = ErrorType::from_status(status);
            let message = if kind == ErrorType::InvalidRequestError {
                detail
            } else if err.message.is_empty() {
                format!("backend '{}' answered HTTP {status}", ctx.backend_id)
            } else {
                format!(
                    "backend '{}' answered HTTP {status}: {detail}",
                    ctx.backend_id
                )
            };
            ApiError::new(kind, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ErrorContext<'static> = ErrorContext {
        backend_id: "local",
        upstream_model: "qwen3",
        estimated_prompt: 9100,
        context_length: Some(8192),
    };

    fn map(status: u16, body: &str) -> ApiError {
        map_error(status, &UpstreamError::parse(body.as_bytes()), &CTX)
    }

    #[test]
    fn vllm_overflow_with_prompt_over_the_window() {
        let e = map(
            400,
            r#"{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8500 in the messages, 500 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}"#,
        );
        assert_eq!(e, ApiError::prompt_too_long(8500, 8192));
    }

    #[test]
    fn vllm_overflow_because_of_max_tokens() {
        let e = map(
            400,
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).","type":"BadRequestError","code":400}}"#,
        );
        assert_eq!(e.kind, ErrorType::InvalidRequestError);
        assert_eq!(
            e.message,
            "input length and `max_tokens` exceed context limit: 8000 + 1000 > 8192, decrease input length or `max_tokens` and try again"
        );
    }

    #[test]
    fn openai_and_llama_cpp_overflows() {
        let e = map(
            400,
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 204308 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
        );
        assert_eq!(e, ApiError::prompt_too_long(204308, 128000));
        let e = map(
            400,
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}"#,
        );
        assert_eq!(e, ApiError::prompt_too_long(9000, 8192));
        let e = map(500, r#"{"error":"input exceeds maximum context length"}"#);
        assert_eq!(e, ApiError::prompt_too_long(9100, 8192));
    }

    #[test]
    fn other_statuses() {
        let e = map(404, r#"{"error":"model 'qwen3' not found"}"#);
        assert_eq!(e.kind, ErrorType::NotFoundError);
        assert!(e.message.contains("'qwen3'") && e.message.contains("'local'"));
        let e = map(
            429,
            r#"{"error":{"message":"Rate limit reached. Please try again in 20s."}}"#,
        );
        assert_eq!(
            (e.kind, e.retry_after),
            (ErrorType::RateLimitError, Some(20))
        );
        assert_eq!(
            map(503, "upstream connect error").kind,
            ErrorType::OverloadedError
        );
        assert_eq!(map(401, "{}").kind, ErrorType::ApiError);
        let e = map(400, r#"{"error":{"message":"bad tool schema"}}"#);
        assert_eq!(e, ApiError::invalid_request("bad tool schema"));
        assert_eq!(map(500, "<html>boom</html>").kind, ErrorType::ApiError);
    }
}
