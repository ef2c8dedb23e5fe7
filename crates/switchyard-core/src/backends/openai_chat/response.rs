//! A complete (non-streaming) Chat Completions response → Anthropic message. Runs the same
//! [`Machine`] as the stream, so both paths follow the same rules.

use crate::anthropic::{ApiError, ErrorType, MessagesResponse};
use crate::backends::events::into_response;

use super::errors::{UpstreamError, map_error};
use super::stream::{Machine, Setup};
use super::wire::{ChatResponse, ChunkToolCall};

pub(crate) fn translate(setup: Setup, body: &[u8]) -> Result<MessagesResponse, ApiError> {
    let response: ChatResponse = serde_json::from_slice(body).map_err(|err| {
        let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
        ApiError::new(
            ErrorType::ApiError,
            format!("the backend's answer is not a chat completion ({err}): {preview}"),
        )
    })?;
    if let Some(field) = response.error {
        let upstream = UpstreamError::from_field(field);
        let status = upstream.status_hint().unwrap_or(500);
        return Err(map_error(status, &upstream, &setup.error_context()));
    }
    let mut machine = Machine::new(setup);
    let Some(choice) = response.choices.into_iter().next() else {
        return Err(ApiError::new(
            ErrorType::ApiError,
            "the backend's answer has no choices",
        ));
    };
    let message = choice.message;
    if let Some(reasoning) = message.reasoning_content.or(message.reasoning) {
        machine.reasoning(&reasoning);
    }
    if let Some(content) = message.content {
        machine.content(&content);
    }
    for (index, call) in message.tool_calls.into_iter().enumerate() {
        machine.tool_fragment(ChunkToolCall {
            index: u32::try_from(index).ok(),
            id: call.id,
            function: call.function,
        });
    }
    if let Some(reason) = choice.finish_reason {
        machine.finish_reason(reason, choice.stop_reason);
    }
    if let Some(usage) = response.usage {
        machine.usage(usage);
    }
    machine.finalize();
    into_response(&machine.builder.drain())
}
