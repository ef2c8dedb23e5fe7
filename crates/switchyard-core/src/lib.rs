//! Switchyard's engine. No GUI dependencies: the desktop shell and the headless CLI are thin
//! layers over this crate.
//!
//! - [`anthropic`]: the Messages API as typed structs (the canonical form).
//! - [`sse`]: SSE and NDJSON decoding/encoding, push-driven.
//! - [`config`]: the config file: schema, validation, atomic saving.
//! - [`fsmode`]: files and folders Switchyard creates are private to the user.
//! - [`secrets`]: the OS keychain (provider keys, local token).
//! - [`routing`]: profile × model → ordered attempts; balancing, cooldowns.
//! - [`backends`]: pass-through and translating backends (pure translation code).
//! - [`cloud`]: Bedrock and Vertex credentials (stored, or the cloud tools' own; access tokens).
//! - [`tokens`]: local token estimate and the context guard.
//! - [`discovery`]: local engines, their models and context windows.
//! - [`gateway`]: shared state of the running gateway.
//! - [`proxy`]: the request path: attempts, fallback, relay.
//! - [`cache`]: the response cache (answers replayed for identical requests, in SQLite).
//! - [`capture`]: the request inspector's captures (opt-in, credentials redacted, in SQLite).
//! - [`server`]: the axum router and guards.
//! - [`engine`]: the facade the CLI and the desktop app start.
//! - [`claude_code`]: Claude Code's environment and `settings.json`.
//! - [`usage`]: usage history in SQLite (store, writer, queries, CSV).
//! - [`setup`]: first-run suggestions (engines found, a mapping for opus/sonnet/haiku).
//! - [`providers`]: known providers (protocol, base URL, backend id); comparing base URLs.
//! - [`litellm`]: importing a LiteLLM proxy config (backends, rules, settings, a report).
//! - [`pricing`]: model prices and cost; [`budget`]: spend limits; [`metrics`]: `/metrics`.
//! - [`telemetry`]: optional OpenTelemetry export, a span per request (OTLP/HTTP JSON).

pub mod anthropic;
pub mod backends;
pub mod budget;
pub mod cache;
pub mod capture;
pub mod claude_code;
pub mod cloud;
pub mod config;
pub mod discovery;
pub mod engine;
pub mod fsmode;
pub mod gateway;
mod json_text;
pub mod litellm;
pub mod log_text;
pub mod metrics;
pub mod net;
pub mod pricing;
pub mod providers;
pub mod proxy;
pub mod routing;
pub mod secrets;
pub mod server;
pub mod setup;
pub mod sse;
pub mod telemetry;
pub mod tokens;
pub mod usage;
