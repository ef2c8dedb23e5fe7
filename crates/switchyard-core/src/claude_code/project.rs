//! A project folder's own Claude Code settings: `<folder>/.claude/settings.local.json`, which
//! Claude Code reads when started in that folder (over the user's `settings.json`), and which
//! is meant to stay out of version control — it holds the gateway's local token.

use std::io::Write;
use std::path::{Path, PathBuf};

/// `<folder>/.claude/settings.local.json`.
pub fn project_settings_path(folder: &Path) -> PathBuf {
    folder.join(".claude").join("settings.local.json")
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
