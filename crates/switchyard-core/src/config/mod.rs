//! The config file: schema, loading with validation, atomic saving.

mod schema;

pub use schema::{
    BackendConfig, BackendKind, Config, DEFAULT_LISTEN, Profile, RouteSpec, Rule, TargetSpec,
};
