//! The config file: schema, loading with validation (errors name the field and the line),
//! atomic saving. A file that fails validation is never overwritten.

mod edit;
mod error;
mod keys;
mod load;
mod locate;
mod save;
mod schema;
mod strategy;
mod validate;

pub use error::{ConfigError, Issue};
pub use keys::{DEFAULT_KEY_NAME, KeyEnv, KeyRef, is_valid_key_name, key_account};
pub use load::{default_config_path, load, load_or_create, parse};
pub use save::{save, save_edit, set_active_profile, write_atomic};
pub(crate) use save::{write_edit, write_turn};
pub use schema::{
    AgentKind, BackendConfig, BackendKind, CacheConfig, CaptureConfig, Config, DEFAULT_LISTEN,
    Profile, RouteSpec, Rule, TargetSpec, UsageConfig, When,
};
pub use strategy::Strategy;
pub use validate::{is_loopback_host, validate};

/// The commented config written on first run.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");
