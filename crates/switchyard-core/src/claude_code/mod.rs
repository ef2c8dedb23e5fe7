//! Pointing Claude Code at the gateway: the environment it needs, as shell exports or as the
//! `env` block of `~/.claude/settings.json`, written safely (protocol reference §7).
//!
//! - `env`: which variables, and their shell/JSON renderings.
//! - `settings`: editing `settings.json` (atomic, backed up, other keys preserved).
//! - `conflicts`: settings and environment that would override or break the setup.
//! - `status`: whether Claude Code goes through this gateway, for the app.

mod conflicts;
mod env;
mod settings;
mod status;

pub use conflicts::{Conflict, ConflictKind, conflicts};
pub use env::{
    EnvOptions, ModelAliases, env_vars, render_settings_env_block, render_shell_exports,
};
pub use settings::{
    ClaudeSettings, ClaudeSettingsError, ConfigureOutcome, RestoreOutcome, backup_path, configure,
    default_settings_path, restore,
};
pub use status::{ClaudeCodeStatus, status};
