//! Pointing Claude Code at the gateway: the environment it needs, as shell exports or as the
//! `env` block of `~/.claude/settings.json`, written safely (protocol reference §7).
//!
//! - `env`: which variables, and their shell/JSON renderings.
//! - `settings`: editing `settings.json` (atomic, owner-only, other keys preserved) and
//!   undoing only what Switchyard changed.
//! - `file`: the error type, atomic write and JSON naming both of those share.
//! - `record`: what Switchyard changed there (values before and written), kept next to it.
//! - `conflicts`: settings and environment that would override or break the setup.
//! - `status`: whether Claude Code goes through this gateway, for the app.
//! - `project`: a project folder's own settings file, kept out of git.

mod conflicts;
mod env;
mod file;
mod project;
mod record;
mod settings;
mod status;

pub use conflicts::{Conflict, ConflictKind, conflicts};
pub use env::{
    EnvOptions, MANAGED_VARS, ModelAliases, env_vars, profile_base_url, render_settings_env_block,
    render_shell_exports,
};
pub use file::ClaudeSettingsError;
pub use project::{
    ProjectError, exclude_from_git, existing_folder, prepare_project_settings,
    project_settings_path,
};
pub use record::record_path;
pub use settings::{
    ClaudeSettings, ConfigureOutcome, RestoreOutcome, backup_path, configure,
    default_settings_path, has_changes_to_restore, restore,
};
pub use status::{ClaudeCodeStatus, status};
