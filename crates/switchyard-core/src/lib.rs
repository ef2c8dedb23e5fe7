//! Switchyard's engine. No GUI dependencies: the desktop shell and the headless CLI are thin
//! layers over this crate.
//!
//! - [`anthropic`]: the Messages API as typed structs (the canonical form).
//! - [`sse`]: SSE and NDJSON decoding/encoding, push-driven.
//! - [`config`]: the config file.
//! - [`backends`]: pass-through and translating backends.
//! - [`claude_code`]: Claude Code's environment and `settings.json`.
//! - [`discovery`]: local engines, their models and context windows.
//! - [`tokens`]: local token estimate and the context guard.
//! - [`usage`]: usage records.

pub mod anthropic;
pub mod backends;
pub mod claude_code;
pub mod config;
pub mod discovery;
pub mod sse;
pub mod tokens;
pub mod usage;
