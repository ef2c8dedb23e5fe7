//! Pointing Claude Code at this engine's gateway: the environment, and edits of its
//! `settings.json` that report what they did.

use std::path::PathBuf;

use secrecy::ExposeSecret;
use serde::Serialize;

use super::{Engine, EngineError, ProfileError};
use crate::claude_code::{self, ClaudeCodeStatus, ClaudeSettingsError, EnvOptions};

/// The variables Claude Code needs, as a list and as shell exports to paste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ClaudeEnv {
    pub vars: Vec<EnvVar>,
    /// `export NAME='value'` lines for a POSIX shell.
    pub shell: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

/// What "Configure Claude Code" did, for the sentence the app shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConfigureReport {
    pub status: ClaudeCodeStatus,
    /// Variables added or given a new value; empty when the file already pointed here.
    pub changed: Vec<String>,
    /// A non-empty `ANTHROPIC_API_KEY` in the file was set to "" (the backup keeps it).
    pub blanked_api_key: bool,
    /// The backup this call took of the previous file, if it took one.
    pub backup: Option<String>,
}

/// What "Restore" did: only Switchyard's own variables are undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RestoreReport {
    pub status: ClaudeCodeStatus,
    /// Variables changed back to their value before Switchyard (or removed).
    pub reverted: Vec<String>,
    /// Variables Switchyard had set that the user changed since: their values were kept.
    pub kept: Vec<String>,
    /// What was done, in sentences (English), as `switchyard env --restore` prints it.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClaudeCodeError {
    #[error(
        "cannot find your home directory to locate Claude Code's settings.json; set CLAUDE_CONFIG_DIR to its folder"
    )]
    NoSettingsPath,
    #[error(transparent)]
    Settings(#[from] ClaudeSettingsError),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn env_of(vars: Vec<(String, String)>) -> ClaudeEnv {
    ClaudeEnv {
        shell: claude_code::render_shell_exports(&vars),
        vars: vars
            .into_iter()
            .map(|(name, value)| EnvVar { name, value })
            .collect(),
    }
}

impl Engine {
    /// `http://127.0.0.1:PORT`: what `ANTHROPIC_BASE_URL` must be.
    pub fn gateway_url(&self) -> String {
        format!("http://{}", self.listen_addr())
    }

    /// The variables Claude Code needs to go through this gateway.
    pub fn claude_code_env(&self) -> Vec<(String, String)> {
        claude_code::env_vars(
            &self.gateway_url(),
            self.local_token().expose_secret(),
            &EnvOptions::default(),
        )
    }

    /// The same variables, for the app's "Copy env" and the window.
    pub fn claude_env(&self) -> ClaudeEnv {
        env_of(self.claude_code_env())
    }

    /// The variables for a terminal that routes under `profile` whatever the active one is
    /// (its base URL is `/profiles/<name>`).
    pub fn claude_env_for_profile(&self, profile: &str) -> Result<ClaudeEnv, ProfileError> {
        if !self.config().profiles.contains_key(profile) {
            return Err(ProfileError::NotFound(profile.to_owned()));
        }
        Ok(env_of(claude_code::env_vars(
            &claude_code::profile_base_url(&self.gateway_url(), profile),
            self.local_token().expose_secret(),
            &EnvOptions::default(),
        )))
    }

    pub async fn claude_code_status(&self) -> Result<ClaudeCodeStatus, ClaudeCodeError> {
        let path = settings_path()?;
        let gateway = self.gateway_url();
        blocking(move || {
            let env: Vec<(String, String)> = std::env::vars().collect();
            claude_code::status(
                &path,
                &gateway,
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
        })
        .await
    }

    /// Writes the gateway's variables into the `env` block of `settings.json` (backup first).
    pub async fn configure_claude_code(&self) -> Result<ConfigureReport, ClaudeCodeError> {
        let path = settings_path()?;
        let vars = self.claude_code_env();
        let outcome = blocking(move || claude_code::configure(&path, &vars)).await?;
        Ok(ConfigureReport {
            status: self.claude_code_status().await?,
            changed: outcome.changed,
            blanked_api_key: outcome.blanked_api_key,
            backup: outcome.backup_taken.map(|p| p.display().to_string()),
        })
    }

    /// Undoes Switchyard's changes to `settings.json`; everything else, and any of its
    /// variables the user changed since, stays as the user has it.
    pub async fn restore_claude_code(&self) -> Result<RestoreReport, ClaudeCodeError> {
        let path = settings_path()?;
        let outcome = blocking(move || claude_code::restore(&path)).await?;
        Ok(RestoreReport {
            status: self.claude_code_status().await?,
            message: outcome.describe(),
            reverted: outcome.reverted,
            kept: outcome.kept,
        })
    }
}

fn settings_path() -> Result<PathBuf, ClaudeCodeError> {
    claude_code::default_settings_path().ok_or(ClaudeCodeError::NoSettingsPath)
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClaudeSettingsError> + Send + 'static,
) -> Result<T, ClaudeCodeError> {
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(EngineError::join)??)
}
