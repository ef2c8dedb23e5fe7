use std::path::Path;

use serde::Serialize;

use super::conflicts::{Conflict, conflicts};
use super::file::ClaudeSettingsError;
use super::settings::{ClaudeSettings, has_changes_to_restore};

/// Whether Claude Code goes through the gateway, as the app's Overview and setup checklist
/// show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ClaudeCodeStatus {
    pub settings_path: String,
    /// `settings.json` points `ANTHROPIC_BASE_URL` at this gateway.
    pub configured: bool,
    /// Switchyard changed the file and kept what was there before, so Restore can undo it.
    pub has_backup: bool,
    /// What would still override or break the setup, worded for people.
    pub conflicts: Vec<Conflict>,
}

/// Reads the settings file at `settings_path` (absent is fine) and the environment Claude Code
/// would start with, against the gateway at `gateway_url`.
pub fn status<'a>(
    settings_path: &Path,
    gateway_url: &str,
    process_env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<ClaudeCodeStatus, ClaudeSettingsError> {
    let settings = ClaudeSettings::load(settings_path)?.unwrap_or_default();
    let gateway = gateway_url.trim_end_matches('/');
    let configured = settings
        .env_str("ANTHROPIC_BASE_URL")
        .is_some_and(|u| u.trim_end_matches('/') == gateway);
    Ok(ClaudeCodeStatus {
        settings_path: settings_path.display().to_string(),
        configured,
        has_backup: has_changes_to_restore(settings_path),
        conflicts: conflicts(&settings, process_env, gateway),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude_code::{ConflictKind, configure};

    #[test]
    fn configured_only_when_the_base_url_is_this_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let none = status(&path, "http://127.0.0.1:4747", []).unwrap();
        assert!(!none.configured && !none.has_backup && none.conflicts.is_empty());

        std::fs::write(
            &path,
            r#"{"env":{"ANTHROPIC_BASE_URL":"http://127.0.0.1:9999","ANTHROPIC_API_KEY":"sk-x"}}"#,
        )
        .unwrap();
        let elsewhere = status(&path, "http://127.0.0.1:4747", []).unwrap();
        assert!(!elsewhere.configured);
        let kinds: Vec<_> = elsewhere.conflicts.iter().map(|c| c.kind).collect();
        assert!(kinds.contains(&ConflictKind::ApiKeySet), "{kinds:?}");
        assert!(kinds.contains(&ConflictKind::BaseUrlElsewhere), "{kinds:?}");

        let vars = vec![
            (
                "ANTHROPIC_BASE_URL".to_owned(),
                "http://127.0.0.1:4747".to_owned(),
            ),
            ("ANTHROPIC_API_KEY".to_owned(), String::new()),
        ];
        configure(&path, &vars).unwrap();
        let done = status(&path, "http://127.0.0.1:4747/", []).unwrap();
        assert!(done.configured && done.has_backup);
        assert!(done.conflicts.is_empty(), "{:?}", done.conflicts);
    }
}
