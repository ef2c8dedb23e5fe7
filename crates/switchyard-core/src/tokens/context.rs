use crate::anthropic::ApiError;

/// The smallest answer worth asking an engine for. Below this the prompt is treated as too
/// long, so Claude Code compacts instead of getting a reply cut off after a few words.
pub const MIN_OUTPUT_TOKENS: u32 = 1024;

/// Margin kept free in the window because the prompt size is an estimate (2 % of the
/// window, at least 512 tokens, but never more than a quarter of a tiny window).
pub fn safety_margin(context_length: u64) -> u64 {
    (context_length / 50).max(512).min(context_length / 4)
}

/// Fit a request into a model's window (protocol reference §5.5).
///
/// Returns the `max_tokens` to send upstream: `requested_max_tokens`, lowered so that
/// prompt + output + [`safety_margin`] fit in `context_length`. When the prompt leaves less
/// than `min(requested, MIN_OUTPUT_TOKENS)` for the answer, returns Anthropic's
/// `prompt is too long: N tokens > M maximum` (M being the usable input window), the wording
/// that makes Claude Code compact the conversation.
///
/// A `context_length` of 0 means "unknown": nothing is clamped.
pub fn check_context(
    prompt_tokens: u64,
    context_length: u64,
    requested_max_tokens: u32,
) -> Result<u32, ApiError> {
    if context_length == 0 {
        return Ok(requested_max_tokens);
    }
    let min_output = u64::from(requested_max_tokens.clamp(1, MIN_OUTPUT_TOKENS));
    let usable = context_length.saturating_sub(safety_margin(context_length));
    let max_prompt = usable.saturating_sub(min_output);
    if prompt_tokens > max_prompt {
        return Err(ApiError::prompt_too_long(prompt_tokens, max_prompt));
    }
    let budget = usable - prompt_tokens;
    Ok(u32::try_from(budget)
        .unwrap_or(u32::MAX)
        .min(requested_max_tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anthropic::ErrorType;

    #[test]
    fn margin_is_two_percent_with_floor_and_ceiling() {
        assert_eq!(safety_margin(200_000), 4000);
        assert_eq!(safety_margin(32_768), 655);
        assert_eq!(safety_margin(8192), 512);
        assert_eq!(safety_margin(1000), 250);
    }

    #[test]
    fn small_prompt_keeps_requested_max_tokens() {
        assert_eq!(check_context(1000, 131_072, 32_000), Ok(32_000));
    }

    #[test]
    fn clamps_to_what_is_left_after_the_margin() {
        // 32768 - 655 margin - 20000 prompt = 12113 left.
        assert_eq!(check_context(20_000, 32_768, 32_000), Ok(12_113));
    }

    #[test]
    fn exactly_min_output_left_is_accepted() {
        // usable = 32113; leaves exactly 1024.
        assert_eq!(check_context(31_089, 32_768, 32_000), Ok(1024));
    }

    #[test]
    fn one_token_more_is_prompt_too_long_with_claude_code_wording() {
        let err = check_context(31_090, 32_768, 32_000).unwrap_err();
        assert_eq!(err.kind, ErrorType::InvalidRequestError);
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.message,
            "prompt is too long: 31090 tokens > 31089 maximum"
        );
    }

    #[test]
    fn prompt_larger_than_window() {
        let err = check_context(250_000, 200_000, 32_000).unwrap_err();
        assert!(
            err.message
                .starts_with("prompt is too long: 250000 tokens > ")
        );
    }

    #[test]
    fn small_requested_max_tokens_lowers_the_minimum() {
        // Asking for 100 tokens: 100 left is enough.
        assert_eq!(check_context(32_013, 32_768, 100), Ok(100));
        assert!(check_context(32_014, 32_768, 100).is_err());
    }

    #[test]
    fn unknown_window_does_not_clamp() {
        assert_eq!(check_context(10_000_000, 0, 4096), Ok(4096));
    }

    #[test]
    fn zero_max_tokens_stays_zero() {
        assert_eq!(check_context(10, 8192, 0), Ok(0));
    }
}
