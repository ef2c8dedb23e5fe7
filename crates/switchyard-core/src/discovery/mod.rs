//! Finding local inference engines, their models and those models' context windows.
//!
//! - `endpoints`: which URLs to probe (the usual local ports, configured backends).
//! - `wire`: each engine's JSON, as tolerant typed structs.
//! - `http`: the probe client and readable failure reasons.
//! - `probe`: [`discover`], all endpoints in parallel within a bounded time.
//! - `check`: [`check_backend`], one configured backend as requests reach it (its key, its
//!   model list), with a typed outcome and a sentence for people.
//! - `report`: the [`DiscoveryReport`] and its CLI table ([`render_report`]).
//! - `context`: [`ContextLengths`], the cached per-(backend, model) window used on the
//!   request path.

mod check;
mod context;
mod endpoints;
mod http;
mod kind;
mod probe;
mod report;
mod wire;

pub use check::{BackendCheck, CheckKey, CheckOutcome, CheckSettings, CheckedModel, check_backend};
pub use context::{ContextLengths, OLLAMA_NUM_CTX_CAP};
pub use endpoints::{
    Endpoint, EndpointSource, configured_endpoints, default_endpoints, endpoints_to_probe,
};
pub(crate) use endpoints::{root_url, same_host_form};
pub use kind::EngineKind;
pub use probe::{ProbeSettings, discover};
pub use report::{DiscoveredModel, DiscoveryReport, EndpointReport, EndpointStatus, render_report};
