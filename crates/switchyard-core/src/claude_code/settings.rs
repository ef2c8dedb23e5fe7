use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

/// The parts of Claude Code's `settings.json` Switchyard reads. The file belongs to Claude
/// Code and holds many keys we do not model, so edits work on the document as an ordered map
/// and change nothing but `env` entries.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ClaudeSettings {
    #[serde(default)]
    pub env: Map<String, Value>,
    #[serde(rename = "apiKeyHelper", default)]
    pub api_key_helper: Option<String>,
}

impl ClaudeSettings {
    /// Reads `path`; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, ClaudeSettingsError> {
        let Some(doc) = read_document(path)? else {
            return Ok(None);
        };
        serde_json::from_value(Value::Object(doc))
            .map(Some)
            .map_err(|source| ClaudeSettingsError::InvalidJson {
                path: path.to_owned(),
                source,
            })
    }

    /// An `env` entry as a string (Claude Code ignores non-string values).
    pub fn env_str(&self, name: &str) -> Option<&str> {
        self.env.get(name).and_then(Value::as_str)
    }
}

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
    #[error("no Switchyard backup of {path} to restore (expected {backup})")]
    NoBackup { path: PathBuf, backup: PathBuf },
}

/// What [`configure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigureOutcome {
    /// The file that was written (the symlink target when `settings.json` is a link).
    pub path: PathBuf,
    /// The file did not exist and was created.
    pub created: bool,
    /// A backup taken by this call (`None` when one already existed or nothing changed).
    pub backup_taken: Option<PathBuf>,
    /// Variables added or given a new value, in order.
    pub changed: Vec<String>,
    /// The file set a non-empty `ANTHROPIC_API_KEY`, which this call blanked: Claude Code would
    /// have sent it instead of the gateway token. The user should know their key is no longer
    /// in Claude Code's settings (the backup still has it).
    pub blanked_api_key: bool,
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The file put back.
    pub path: PathBuf,
    /// `env` variables whose value the restore changed back (or removed), in order: what the
    /// user gets told was undone.
    pub reverted: Vec<String>,
}

impl ConfigureOutcome {
    pub fn is_unchanged(&self) -> bool {
        self.changed.is_empty()
    }
}

/// `~/.claude/settings.json`, or under `CLAUDE_CONFIG_DIR` when that is set.
pub fn default_settings_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("settings.json"));
    }
    directories::BaseDirs::new().map(|d| d.home_dir().join(".claude").join("settings.json"))
}

/// Where the pre-Switchyard copy of `settings_path` is kept.
pub fn backup_path(settings_path: &Path) -> PathBuf {
    let mut name = settings_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "settings.json".into());
    name.push(".switchyard-backup");
    settings_path.with_file_name(name)
}

/// Sets `vars` in the `env` block of Claude Code's settings file at `settings_path`.
///
/// Every other key, and the order of keys, is preserved; existing `env` entries keep their
/// place, new ones are appended. The file and its directory are created when absent. A file
/// that is not a JSON object, or whose `env` is not an object, is refused and left untouched.
/// Before the first change a backup is written next to it ([`backup_path`]); later calls keep
/// that first backup, so [`restore`] returns to the state before Switchyard. The write is
/// atomic (temporary file in the same directory, then rename) and keeps the file's
/// permissions. Nothing is written when every variable already has its value.
pub fn configure(
    settings_path: &Path,
    vars: &[(String, String)],
) -> Result<ConfigureOutcome, ClaudeSettingsError> {
    let path = resolve_symlink(settings_path);
    let existing = read_document(&path)?;
    let created = existing.is_none();
    let mut doc = existing.clone().unwrap_or_default();
    let env = match doc
        .entry("env".to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(env) => env,
        other => {
            return Err(ClaudeSettingsError::EnvNotAnObject {
                path,
                found: json_kind(other),
            });
        }
    };
    let blanked_api_key = vars
        .iter()
        .any(|(name, value)| name == API_KEY_VAR && value.is_empty())
        && env
            .get(API_KEY_VAR)
            .and_then(Value::as_str)
            .is_some_and(|old| !old.is_empty());
    let mut changed = Vec::new();
    for (name, value) in vars {
        if env.get(name).and_then(Value::as_str) != Some(value.as_str()) {
            env.insert(name.clone(), Value::String(value.clone()));
            changed.push(name.clone());
        }
    }
    if changed.is_empty() {
        return Ok(ConfigureOutcome {
            path,
            created: false,
            backup_taken: None,
            changed,
            blanked_api_key: false,
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| ClaudeSettingsError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    let backup = backup_path(&path);
    let backup_taken = if backup.exists() {
        None
    } else {
        // A missing file is backed up as an empty object: restoring it gives Claude Code the
        // same (empty) settings it had.
        let original = match existing {
            Some(_) => std::fs::read(&path).map_err(|source| ClaudeSettingsError::Read {
                path: path.clone(),
                source,
            })?,
            None => b"{}\n".to_vec(),
        };
        write_atomically(&backup, &original, None)?;
        Some(backup)
    };
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).map_err(|source| {
        ClaudeSettingsError::InvalidJson {
            path: path.clone(),
            source,
        }
    })?;
    text.push('\n');
    let permissions = std::fs::metadata(&path).ok().map(|m| m.permissions());
    write_atomically(&path, text.as_bytes(), permissions)?;
    Ok(ConfigureOutcome {
        path,
        created,
        backup_taken,
        changed,
        blanked_api_key,
    })
}

const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";

/// Puts the backup taken by [`configure`] back in place (atomically) and removes it.
/// Says which `env` variables it changed back.
pub fn restore(settings_path: &Path) -> Result<RestoreOutcome, ClaudeSettingsError> {
    let path = resolve_symlink(settings_path);
    let backup = backup_path(&path);
    let original = match std::fs::read(&backup) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClaudeSettingsError::NoBackup { path, backup });
        }
        Err(source) => {
            return Err(ClaudeSettingsError::Read {
                path: backup,
                source,
            });
        }
    };
    // A file that no longer parses (edited by hand since) still gets restored: the backup is
    // what the user asked for; only the report of what changed is lost.
    let current_env = read_document(&path)
        .ok()
        .flatten()
        .map(env_of)
        .unwrap_or_default();
    let backup_env = serde_json::from_slice::<Value>(&original)
        .ok()
        .and_then(|v| match v {
            Value::Object(doc) => Some(env_of(doc)),
            _ => None,
        })
        .unwrap_or_default();
    let reverted = current_env
        .iter()
        .filter(|(name, value)| backup_env.get(*name) != Some(*value))
        .map(|(name, _)| name.clone())
        .collect();
    let permissions = std::fs::metadata(&path).ok().map(|m| m.permissions());
    write_atomically(&path, &original, permissions)?;
    std::fs::remove_file(&backup).map_err(|source| ClaudeSettingsError::Write {
        path: backup,
        source,
    })?;
    Ok(RestoreOutcome { path, reverted })
}

fn env_of(mut doc: Map<String, Value>) -> Map<String, Value> {
    match doc.remove("env") {
        Some(Value::Object(env)) => env,
        _ => Map::new(),
    }
}

/// Dotfile managers often make `settings.json` a symlink; renaming over the link would
/// replace it with a plain file, so edits go to the link's target.
fn resolve_symlink(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// The document as an ordered map; `None` when the file does not exist.
fn read_document(path: &Path) -> Result<Option<Map<String, Value>>, ClaudeSettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ClaudeSettingsError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    // Claude Code treats an empty file as no settings.
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(doc)) => Ok(Some(doc)),
        Ok(_) => Err(ClaudeSettingsError::NotAnObject {
            path: path.to_owned(),
        }),
        Err(source) => Err(ClaudeSettingsError::InvalidJson {
            path: path.to_owned(),
            source,
        }),
    }
}

fn write_atomically(
    path: &Path,
    bytes: &[u8],
    permissions: Option<std::fs::Permissions>,
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
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(tmp.path(), permissions).map_err(err)?;
    }
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
