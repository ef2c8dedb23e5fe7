use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::file::{ClaudeSettingsError, json_kind, write_atomically};
use super::record::{Record, record_path};
use crate::fsmode::{self, FileMode};

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

/// What [`configure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigureOutcome {
    /// The file that was written (the symlink target when `settings.json` is a link).
    pub path: PathBuf,
    /// The file did not exist and was created.
    pub created: bool,
    /// The copy of the whole file taken by this call: only before Switchyard's first change
    /// (`None` when Switchyard had changed the file already, or nothing changed).
    pub backup_taken: Option<PathBuf>,
    /// Variables added or given a new value, in order.
    pub changed: Vec<String>,
    /// The file set a non-empty `ANTHROPIC_API_KEY`, which this call blanked: Claude Code would
    /// have sent it instead of the gateway token. The user should know their key is no longer
    /// in Claude Code's settings (Restore puts it back; the backup has it too).
    pub blanked_api_key: bool,
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// The file edited (the symlink target when `settings.json` is a link).
    pub path: PathBuf,
    /// `env` variables Switchyard had set that the restore changed back to their value before
    /// Switchyard (or removed, when they were absent), in order: what the user gets told was
    /// undone.
    pub reverted: Vec<String>,
    /// Variables Switchyard had set that the user changed (or removed) since: left as the user
    /// has them, and said so.
    pub kept: Vec<String>,
}

impl RestoreOutcome {
    /// What the restore did, in sentences for people.
    pub fn describe(&self) -> String {
        let path = self.path.display();
        let mut sentences = Vec::new();
        if self.reverted.is_empty() {
            sentences.push(format!(
                "Nothing to undo in {path}: the variables Switchyard set were no longer there as it wrote them."
            ));
        } else {
            sentences.push(format!(
                "Undid Switchyard's changes to {path}: {} {} back to {} before Switchyard (or removed, if there was none); everything else in the file is as you left it.",
                self.reverted.join(", "),
                if self.reverted.len() == 1 { "is" } else { "are" },
                if self.reverted.len() == 1 {
                    "its value"
                } else {
                    "their values"
                },
            ));
        }
        if !self.kept.is_empty() {
            sentences.push(format!(
                "You changed {} after Switchyard set {}, so your {} kept.",
                self.kept.join(", "),
                if self.kept.len() == 1 { "it" } else { "them" },
                if self.kept.len() == 1 {
                    "value was"
                } else {
                    "values were"
                },
            ));
        }
        sentences.join(" ")
    }
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

/// Where the pre-Switchyard copy of `settings_path` is kept: for the user, should they want the
/// whole file back; Restore itself undoes only Switchyard's variables (see [`record_path`]).
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
/// place, new ones are appended. The file and its directory are created when absent (owner-only:
/// the file holds the gateway token, so an existing one loses group and other access too). A
/// file that is not a JSON object, or whose `env` is not an object, is refused and left
/// untouched. Each variable changed is recorded next to the file ([`record_path`]) with its
/// value before Switchyard first set it, so [`restore`] can undo exactly that; before the first
/// change a copy of the whole file is kept too ([`backup_path`]). The write is atomic
/// (temporary file in the same directory, then rename). Nothing is written when every variable
/// already has its value.
pub fn configure(
    settings_path: &Path,
    vars: &[(String, String)],
) -> Result<ConfigureOutcome, ClaudeSettingsError> {
    let path = resolve_symlink(settings_path);
    let existing = read_document(&path)?;
    let created = existing.is_none();
    let mut doc = existing.clone().unwrap_or_default();
    let env_created = !doc.contains_key("env");
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
    // Each variable changed, with its value before and the value written.
    let mut changes = Vec::new();
    for (name, value) in vars {
        if env.get(name).and_then(Value::as_str) != Some(value.as_str()) {
            let before = env.insert(name.clone(), Value::String(value.clone()));
            changes.push((name, before, value));
        }
    }
    let changed: Vec<String> = changes.iter().map(|(name, ..)| (*name).clone()).collect();
    if changed.is_empty() {
        // Configured by a Switchyard that left the file readable by others: the token in it
        // is a secret all the same.
        if !created {
            fsmode::restrict_to_owner(&path).map_err(|source| ClaudeSettingsError::Write {
                path: path.clone(),
                source,
            })?;
        }
        return Ok(ConfigureOutcome {
            path,
            created: false,
            backup_taken: None,
            changed,
            blanked_api_key: false,
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsmode::create_private_dir_all(parent).map_err(|source| ClaudeSettingsError::Write {
            path: parent.to_owned(),
            source,
        })?;
    }
    let backup = backup_path(&path);
    let record_file = record_path(&path);
    let (mut record, fresh) = match Record::load(&record_file)? {
        Some(record) => (record, false),
        None => match read_document(&backup)? {
            // Configured by a Switchyard that kept only the copy: what it changed is whatever
            // differs from the copy.
            Some(copy) => (
                Record::from_backup(&copy, existing.as_ref().unwrap_or(&Map::new())),
                false,
            ),
            None => (Record::new(env_created), true),
        },
    };
    for (name, before, value) in &changes {
        record.note(name, before.as_ref(), value);
    }
    // Only before Switchyard's first change: a later copy would hold Switchyard's values.
    let backup_taken = if fresh {
        // A missing file is backed up as an empty object: the same (empty) settings to
        // Claude Code.
        let original = match existing {
            Some(_) => std::fs::read(&path).map_err(|source| ClaudeSettingsError::Read {
                path: path.clone(),
                source,
            })?,
            None => b"{}\n".to_vec(),
        };
        write_atomically(&backup, &original, &FileMode::private())?;
        Some(backup)
    } else {
        None
    };
    record.save(&record_file)?;
    let text = pretty(&path, doc)?;
    write_atomically(
        &path,
        text.as_bytes(),
        &fsmode::mode_to_keep(&path).owner_only(),
    )?;
    Ok(ConfigureOutcome {
        path,
        created,
        backup_taken,
        changed,
        blanked_api_key,
    })
}

const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";

/// Undoes what [`configure`] changed, and only that: each variable it set that still has the
/// value it wrote gets its value from before Switchyard back (or is removed, if it was absent);
/// one the user changed since keeps the user's value ([`RestoreOutcome::kept`]). Every other
/// key, including any added since, is left as it is. The record and the copy of the file are
/// removed afterwards. A settings file that no longer parses is refused and left untouched,
/// and so is the record.
pub fn restore(settings_path: &Path) -> Result<RestoreOutcome, ClaudeSettingsError> {
    let path = resolve_symlink(settings_path);
    let backup = backup_path(&path);
    let record_file = record_path(&path);
    let current = read_document(&path)?;
    let record = Record::load(&record_file)?;
    // With a record the copy is only a convenience (see below): a damaged one does not block.
    let copy = match &record {
        Some(_) => read_document(&backup).ok().flatten(),
        None => read_document(&backup)?,
    };
    let record = match (record, &copy) {
        (Some(record), _) => record,
        // Configured by a Switchyard that kept only the copy.
        (None, Some(copy)) => Record::from_backup(copy, current.as_ref().unwrap_or(&Map::new())),
        (None, None) => return Err(ClaudeSettingsError::NoBackup { path, backup }),
    };
    let mut doc = current.unwrap_or_default();
    let undone = record
        .undo(&mut doc)
        .map_err(|found| ClaudeSettingsError::EnvNotAnObject {
            path: path.clone(),
            found,
        })?;
    if !undone.reverted.is_empty() {
        // When nothing else changed since, the copy is the result, with the user's own
        // formatting.
        let bytes = match &copy {
            Some(copy) if *copy == doc => {
                std::fs::read(&backup).map_err(|source| ClaudeSettingsError::Read {
                    path: backup.clone(),
                    source,
                })?
            }
            _ => pretty(&path, doc)?.into_bytes(),
        };
        write_atomically(&path, &bytes, &fsmode::mode_to_keep(&path))?;
    }
    for done in [&record_file, &backup] {
        match std::fs::remove_file(done) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ClaudeSettingsError::Write {
                    path: done.clone(),
                    source,
                });
            }
        }
    }
    Ok(RestoreOutcome {
        path,
        reverted: undone.reverted,
        kept: undone.kept,
    })
}

/// Whether Switchyard has changes in the settings file at `settings_path` that [`restore`]
/// can undo.
pub fn has_changes_to_restore(settings_path: &Path) -> bool {
    let path = resolve_symlink(settings_path);
    record_path(&path).exists() || backup_path(&path).exists()
}

/// `doc` as Claude Code's own files look: pretty JSON with a final newline.
fn pretty(path: &Path, doc: Map<String, Value>) -> Result<String, ClaudeSettingsError> {
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).map_err(|source| {
        ClaudeSettingsError::InvalidJson {
            path: path.to_owned(),
            source,
        }
    })?;
    text.push('\n');
    Ok(text)
}

/// Dotfile managers often make `settings.json` a symlink; renaming over the link would
/// replace it with a plain file, so edits go to the link's target.
pub(super) fn resolve_symlink(path: &Path) -> PathBuf {
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
