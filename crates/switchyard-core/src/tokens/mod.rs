//! Local token counting: `POST /v1/messages/count_tokens` and the context guard that turns an
//! overflowing prompt into Anthropic's `prompt is too long` error before a local engine
//! silently truncates it.
//!
//! - `bpe`: the text count (o200k scaled to Claude), cached by content.
//! - `o200k`: the o200k_base tokenizer, its vocabulary compiled into the binary.
//! - `image`: Anthropic's image-size formula, reading dimensions from the base64 header.
//! - `estimate`: the whole-request estimate ([`estimate_request_tokens`]).
//! - `context`: clamping `max_tokens` to the window ([`check_context`]).
//!
//! How close the estimate is to a Claude tokenizer is measured in `docs/TOKEN-ESTIMATE.md`.

mod bpe;
mod context;
mod estimate;
mod image;
mod o200k;

pub use bpe::{count_text_tokens, warm_up};
pub use context::{MIN_OUTPUT_TOKENS, check_context, safety_margin};
pub use estimate::{TokenBreakdown, estimate_request_breakdown, estimate_request_tokens};
pub use image::{IMAGE_FALLBACK_TOKENS, image_tokens_for_dimensions};
