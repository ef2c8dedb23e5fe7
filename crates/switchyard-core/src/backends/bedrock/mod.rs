//! Claude on Amazon Bedrock (issue 21): the pure pieces (`proxy/send.rs` sends and relays,
//! `cloud/` finds the credentials).
//!
//! Bedrock serves Anthropic's Messages API under its own envelope; these modules are the
//! envelope and nothing else, synchronous and without I/O:
//!
//! - [`request`]: the Anthropic body → the `InvokeModel` body (`model` and `stream` out,
//!   `anthropic_version` and `anthropic_beta` in) and the URL, with the model id encoded as
//!   AWS signs it.
//! - [`sign`]: SigV4 signing (or a Bedrock API key as a bearer token), and [`sign::verify`]
//!   for a fake Bedrock in tests.
//! - [`eventstream`]: the streaming answer's AWS event-stream frames → Anthropic SSE bytes,
//!   exceptions → a typed error.
//! - [`errors`]: Bedrock error answers → Anthropic errors.
//! - [`tap`]: the relay's reader of a streaming answer: SSE out, usage read on the side.

pub mod errors;
pub mod eventstream;
pub mod request;
pub mod sign;
pub mod tap;

pub use errors::{BedrockError, BedrockErrorKind, map_error};
pub use eventstream::{AnthropicEvent, EventStreamDecoder, EventStreamError};
pub use request::{InvokeRequest, invoke_request};
pub use sign::{AwsCredentials, BedrockAuth, SignInput, SigningScope, auth_headers};
pub use tap::BedrockTap;
