//! IPC commands, one module per window screen. Each returns `Result<T, CommandError>`.

pub mod backends;
pub mod claude;
mod dialog;
pub mod inspector;
pub mod mapping;
pub mod overview;
pub mod settings;
pub mod setup;
pub mod usage;
