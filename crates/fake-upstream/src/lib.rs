//! A scripted Anthropic-style upstream on loopback, for end-to-end tests and the gateway
//! benchmark. It is written without `switchyard-core` on purpose: it judges that crate, so it
//! must not share its wire types or SSE encoder.
//!
//! - [`wire`]: the subset of the Messages API it reads, and the answers it writes.
//! - [`script`]: what to answer to a request (pure).
//! - [`server`]: the axum router, the checks on each request, the counters.
//! - [`cloud`]: the Bedrock and Vertex modes' checks (signature, token, URL, body) and framing.

pub mod cloud;
pub mod script;
pub mod server;
pub mod wire;

pub use script::Script;
pub use server::{Agent, Options, Stats, router, serve};
