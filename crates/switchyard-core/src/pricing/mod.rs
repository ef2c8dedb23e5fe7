//! What tokens cost: a bundled price table (USD per million tokens) with user overrides from
//! the config, model-name matching, and the local/cloud distinction used for savings.

mod locality;
mod table;

pub use locality::is_local_url;
pub use table::{BUNDLED, ModelPrice, PriceTable, bundled, claude_on_cloud};

use crate::anthropic::Usage;

/// The cost of `usage` at `price`, in USD. Cache tokens are priced separately
/// (`input_tokens` excludes them).
pub fn cost(price: &ModelPrice, usage: &Usage) -> f64 {
    let per = |tokens: u64, usd_per_million: f64| tokens as f64 * usd_per_million / 1_000_000.0;
    per(usage.input_tokens, price.input)
        + per(usage.output_tokens, price.output)
        + per(usage.cache_read_input_tokens, price.cache_read())
        + per(usage.cache_creation_input_tokens, price.cache_write())
}
