//! "Configure a project folder…": Claude Code started in that folder goes through one
//! profile's base URL (`/profiles/<name>`), whatever the active profile is, by the `env` block
//! of `<folder>/.claude/settings.local.json`. Backup and Restore as for the user's settings.

use std::path::PathBuf;

use secrecy::ExposeSecret;
use serde::Serialize;

use super::claude_code::{ClaudeCodeError, RestoreReport, blocking};
use super::{Engine, ProfileError};
use crate::claude_code::{self, ClaudeCodeStatus, EnvOptions, ProjectError};

/// What configuring a project folder did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProjectReport {
    pub folder: String,
    pub profile: String,
    /// The base URL written: the profile's own.
    pub base_url: String,
    pub status: ClaudeCodeStatus,
    /// Variables added or given a new value; empty when the file already pointed here.
    pub changed: Vec<String>,
    /// The backup this call took of the previous file, if it took one.
    pub backup: Option<String>,
    /// The file was added to the repository's `.git/info/exclude` (it holds the local token).
    pub git_excluded: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectFolderError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    ClaudeCode(#[from] ClaudeCodeError),
}

impl Engine {
    /// Points Claude Code, when started in `folder`, at `profile`'s base URL.
    pub async fn configure_project_folder(
        &self,
        folder: &str,
        profile: &str,
    ) -> Result<ProjectReport, ProjectFolderError> {
        if !self.config().profiles.contains_key(profile) {
            return Err(ProfileError::NotFound(profile.to_owned()).into());
        }
        let base_url = claude_code::profile_base_url(&self.gateway_url(), profile);
        let vars = claude_code::env_vars(
            &base_url,
            self.local_token().expose_secret(),
            &EnvOptions::default(),
        );
        let (path, git_excluded) = claude_code::prepare_project_settings(folder)?;
        let written = path.clone();
        let outcome = blocking(move || claude_code::configure(&written, &vars)).await?;
        Ok(ProjectReport {
            folder: folder.trim().to_owned(),
            profile: profile.to_owned(),
            status: self.project_status(path, base_url.clone()).await?,
            base_url,
            changed: outcome.changed,
            backup: outcome.backup_taken.map(|p| p.display().to_string()),
            git_excluded,
        })
    }

    /// Undoes Switchyard's changes to `folder`'s local settings (see `restore_claude_code`).
    pub async fn restore_project_folder(
        &self,
        folder: &str,
    ) -> Result<RestoreReport, ProjectFolderError> {
        let path = claude_code::project_settings_path(&claude_code::existing_folder(folder)?);
        let restored = path.clone();
        let outcome = blocking(move || claude_code::restore(&restored)).await?;
        let base = self.gateway_url();
        Ok(RestoreReport {
            status: self.project_status(path, base).await?,
            message: outcome.describe(),
            reverted: outcome.reverted,
            kept: outcome.kept,
        })
    }

    async fn project_status(
        &self,
        path: PathBuf,
        base_url: String,
    ) -> Result<ClaudeCodeStatus, ClaudeCodeError> {
        blocking(move || {
            let env: Vec<(String, String)> = std::env::vars().collect();
            claude_code::status(
                &path,
                &base_url,
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::engine_with;

    async fn engine(dir: &std::path::Path) -> Engine {
        engine_with(
            dir,
            "listen = \"127.0.0.1:0\"\nactive_profile = \"cloud\"\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:9\"\n[profiles.cloud]\ndefault = { backend = \"b\" }\n[profiles.local]\ndefault = { backend = \"b\" }\n",
        )
        .await
    }

    #[tokio::test]
    async fn a_project_folder_routes_under_its_profile_and_restores() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path()).await;
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        let settings = project.join(".claude/settings.local.json");
        // The user's own settings in that file survive.
        std::fs::create_dir_all(project.join(".claude")).unwrap();
        std::fs::write(&settings, r#"{"permissions":{"allow":["Bash(ls)"]}}"#).unwrap();
        let folder = project.to_str().unwrap();

        let report = engine
            .configure_project_folder(folder, "local")
            .await
            .unwrap();
        assert!(
            report.base_url.ends_with("/profiles/local"),
            "{}",
            report.base_url
        );
        assert!(report.status.configured, "{report:?}");
        assert!(report.git_excluded);
        assert!(report.backup.is_some());
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert_eq!(written["env"]["ANTHROPIC_BASE_URL"], report.base_url);
        assert_eq!(
            written["env"]["ANTHROPIC_AUTH_TOKEN"],
            "sy-test-token-0123456789"
        );
        assert_eq!(written["permissions"]["allow"][0], "Bash(ls)");
        let exclude = std::fs::read_to_string(project.join(".git/info/exclude")).unwrap();
        assert!(exclude.contains(".claude/settings.local.json"), "{exclude}");

        let restored = engine.restore_project_folder(folder).await.unwrap();
        assert!(!restored.status.configured);
        assert!(restored.reverted.contains(&"ANTHROPIC_BASE_URL".to_owned()));
        let after: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert!(
            after
                .get("env")
                .is_none_or(|env| env.get("ANTHROPIC_BASE_URL").is_none()),
            "{after}"
        );
        assert_eq!(after["permissions"]["allow"][0], "Bash(ls)");
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn a_missing_folder_or_profile_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path()).await;
        let missing = dir.path().join("nowhere");
        let err = engine
            .configure_project_folder(missing.to_str().unwrap(), "local")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("is not a folder"), "{err}");
        assert!(!missing.exists());
        let err = engine
            .configure_project_folder(dir.path().to_str().unwrap(), "moon")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("no profile called “moon”"),
            "{err}"
        );
        assert!(!dir.path().join(".claude").exists());
        engine.shutdown().await;
    }
}
