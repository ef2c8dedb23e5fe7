//! Claude on Google Vertex AI (issue 21): the pure pieces (`proxy/send.rs` sends, `cloud/`
//! finds the credentials and makes the token exchange).
//!
//! - [`request`]: the Anthropic body → the `rawPredict` / `streamRawPredict` body (`model`
//!   out, `anthropic_version` in) and URL. Vertex answers in Anthropic's own JSON and SSE, so
//!   the answer needs no translation.
//! - [`token`]: a service-account key file → a signed JWT assertion → the token exchange's
//!   request, and its answer → an access token that knows when to be refreshed.
//! - [`errors`]: Vertex error answers (Anthropic's envelope, or Google's) → Anthropic errors.

pub mod errors;
pub mod request;
pub mod token;

pub use request::{PredictRequest, VertexTarget, predict_request};
pub use token::{AccessToken, ServiceAccount, TokenRequest, parse_token_response};
