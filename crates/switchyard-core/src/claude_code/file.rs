//! What the settings file and Switchyard's record of its changes share: their one error type,
//! the atomic write (owner-only or the file's own mode), and how JSON values are named in
//! messages.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::fsmode::{self, FileMode};

#[derive(Debug, thiserror::Error)]
pub enum ClaudeSettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not valid JSON ({source}); fix it or move it away and try again (Switchyard left it untouched)"
    )]
    InvalidJson {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{path} does not hold a JSON object at the top level; Switchyard only edits object-shaped settings files and left it untouched"
    )]
    NotAnObject { path: PathBuf },
    #[error(
        "\"env\" in {path} is {found}, not an object of variables; fix it and try again (Switchyard left the file untouched)"
    )]
    EnvNotAnObject { path: PathBuf, found: &'static str },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Switchyard has not changed {path}: there is nothing to restore (no {backup})")]
    NoBackup { path: PathBuf, backup: PathBuf },
    #[error(
        "{path}, Switchyard's record of what it changed in Claude Code's settings, is not valid ({source}); remove it and undo the changes by hand (settings.json was left untouched)"
    )]
    InvalidRecord {
        path: PathBuf,
        source: serde_json::Error,
    },
}

pub(super) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    mode: &FileMode,
) -> Result<(), ClaudeSettingsError> {
    let err = |source| ClaudeSettingsError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    fsmode::set_mode(tmp.as_file(), mode).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

pub(super) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
