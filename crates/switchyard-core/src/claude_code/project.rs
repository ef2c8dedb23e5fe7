//! A project folder's own Claude Code settings: `<folder>/.claude/settings.local.json`, which
//! Claude Code reads when started in that folder (over the user's `settings.json`), and which
//! is meant to stay out of version control — it holds the gateway's local token.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `<folder>/.claude/settings.local.json`.
pub fn project_settings_path(folder: &Path) -> PathBuf {
    folder.join(".claude").join("settings.local.json")
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("“{0}” is not a folder: choose the project's folder.")]
    NotAFolder(String),
    #[error("Switchyard could not create {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
}

/// The settings file of the project in `folder` (which must exist), ready to be written: its
/// `.claude` folder made, and the file kept out of git first (it will hold the local token).
/// Also returns whether the file was added to `.git/info/exclude` now.
pub fn prepare_project_settings(folder: &str) -> Result<(PathBuf, bool), ProjectError> {
    let dir = existing_folder(folder)?;
    let path = project_settings_path(&dir);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ProjectError::CreateDir {
            path: parent.display().to_string(),
            source,
        })?;
    }
    let excluded = exclude_from_git(&dir).unwrap_or_else(|e| {
        tracing::warn!(folder = %dir.display(), error = %e, "could not add Claude Code's local settings to .git/info/exclude");
        false
    });
    Ok((path, excluded))
}

/// `folder` as a path, refused unless it is a folder that exists.
pub fn existing_folder(folder: &str) -> Result<PathBuf, ProjectError> {
    let path = PathBuf::from(folder.trim());
    if folder.trim().is_empty() || !path.is_dir() {
        return Err(ProjectError::NotAFolder(folder.to_owned()));
    }
    Ok(path)
}

/// The line that keeps the file out of git.
const IGNORE_LINE: &str = ".claude/settings.local.json";

/// Keeps the settings file out of git in a repository whose root is `folder`: the line goes
/// into `.git/info/exclude` (this clone only, no tracked file changes). `Ok(false)` when
/// `folder` is not the root of a plain clone (no `.git` folder) or the line was there.
pub fn exclude_from_git(folder: &Path) -> std::io::Result<bool> {
    let git = folder.join(".git");
    if !git.is_dir() {
        return Ok(false);
    }
    let exclude = git.join("info").join("exclude");
    let existing = match std::fs::read_to_string(&exclude) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let listed = existing.lines().any(|l| {
        let l = l.trim().trim_start_matches('/');
        l == IGNORE_LINE || l == ".claude/" || l == ".claude" || l == "settings.local.json"
    });
    if listed {
        return Ok(false);
    }
    std::fs::create_dir_all(git.join("info"))?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&exclude)?;
    let newline = if existing.is_empty() || existing.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    writeln!(
        file,
        "{newline}# Switchyard: Claude Code's local settings hold a gateway token\n{IGNORE_LINE}"
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_excluded_once_and_only_in_a_repository() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!exclude_from_git(dir.path()).unwrap(), "not a repository");
        std::fs::create_dir_all(dir.path().join(".git/info")).unwrap();
        std::fs::write(dir.path().join(".git/info/exclude"), "*.log").unwrap();
        assert!(exclude_from_git(dir.path()).unwrap());
        assert!(!exclude_from_git(dir.path()).unwrap(), "already listed");
        let text = std::fs::read_to_string(dir.path().join(".git/info/exclude")).unwrap();
        assert_eq!(text.matches(IGNORE_LINE).count(), 1, "{text}");
        assert!(text.starts_with("*.log\n#"), "{text}");
    }
}
