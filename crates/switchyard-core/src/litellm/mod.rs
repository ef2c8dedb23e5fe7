//! Importing a LiteLLM proxy config (`config.yaml`) into the Switchyard config:
//! `model_list` entries become backends and rules, the settings Switchyard has a home for are
//! carried over, and a report says, per part of the file, what it became or why it was not
//! imported.
//!
//! - `yaml.rs`: the file as a tree whose nodes know their line (errors: line and column).
//! - `wire.rs`: LiteLLM's config as our own structs.
//! - `deployment.rs`: one entry's provider, base URL, model and key.
//! - `map.rs`: the pure mapping (LiteLLM config, current config, profile) → new config, keys
//!   to store, report rows; `params.rs` and `settings.rs`: one function per LiteLLM key.
//! - `report.rs`: the report and its table.
//! - `apply.rs`: the file operation the CLI and the engine share (lock, backup, comment-
//!   preserving write, keychain).

mod apply;
mod deployment;
mod error;
mod map;
mod params;
mod report;
mod settings;
mod wire;
mod yaml;

pub use apply::{ImportOptions, Imported, import_into};
pub use error::ImportError;
pub use map::{KeyToStore, Plan, StoredKey, StoredKeys, plan};
pub use report::{ImportReport, Outcome, ReportRow, render};
pub use wire::LiteLlmConfig;

/// Read a LiteLLM config; a file that is not YAML is an error naming line and column.
pub fn parse(text: &str) -> Result<LiteLlmConfig, ImportError> {
    Ok(wire::parse(text)?)
}
