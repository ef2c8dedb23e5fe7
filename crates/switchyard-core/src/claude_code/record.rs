//! Switchyard's record of the `env` entries it changed in `settings.json`: for each, the value
//! before Switchyard first set it and the value it last wrote. Restore undoes exactly these
//! and nothing the user did since; the record lives next to the settings file so it survives
//! from one process (the app, `switchyard env`) to the next.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::env::MANAGED_VARS;
use super::file::{ClaudeSettingsError, json_kind, write_atomically};
use crate::fsmode::FileMode;

/// Where the record for `settings_path` is kept (it holds the token and any key it replaced,
/// so it is owner-only).
pub fn record_path(settings_path: &Path) -> PathBuf {
    let mut name = settings_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "settings.json".into());
    name.push(".switchyard-state");
    settings_path.with_file_name(name)
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    /// For whoever finds the file next to their settings.
    #[serde(default)]
    about: String,
    /// The file had no `env` object before Switchyard added one: an `env` left empty by
    /// Restore goes too.
    #[serde(default)]
    pub env_created: bool,
    /// In the order Switchyard first set them.
    #[serde(default)]
    pub vars: Vec<RecordedVar>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RecordedVar {
    pub name: String,
    /// The value before Switchyard first set it; `None` when the variable was absent. Kept as
    /// JSON, whatever its type, so Restore puts back exactly what was there.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub before: Option<Value>,
    /// What Switchyard wrote last; a different value now means the user changed it.
    pub set: String,
}

/// A `before` written as `null` was a `null` in the settings, not an absent variable (which is
/// written as no `before` at all).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// What undoing a record did to a document.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Undone {
    /// Set back to their value before Switchyard, or removed.
    pub reverted: Vec<String>,
    /// Changed by the user since Switchyard wrote them: left as the user set them.
    pub kept: Vec<String>,
}

const ABOUT: &str = "Switchyard's record of the env entries it changed in the settings file \
next to this one (their values before and what Switchyard wrote), so that \
`switchyard env --restore` or the app's Restore undoes only those.";

impl Record {
    pub fn new(env_created: bool) -> Record {
        Record {
            about: ABOUT.to_owned(),
            env_created,
            vars: Vec::new(),
        }
    }

    /// Reads the record at `path`; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Record>, ClaudeSettingsError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ClaudeSettingsError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|source| {
            ClaudeSettingsError::InvalidRecord {
                path: path.to_owned(),
                source,
            }
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), ClaudeSettingsError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|source| {
            ClaudeSettingsError::InvalidRecord {
                path: path.to_owned(),
                source,
            }
        })?;
        text.push('\n');
        write_atomically(path, text.as_bytes(), &FileMode::private())
    }

    /// What an earlier Switchyard, which kept only a copy of the file (`backup`), changed: each
    /// variable it may set whose value in `current` is a string other than the backup's.
    /// Whether the user changed one of them since cannot be told any more.
    pub fn from_backup(backup: &Map<String, Value>, current: &Map<String, Value>) -> Record {
        let before = env_of(backup);
        let now = env_of(current);
        let mut record = Record::new(!backup.contains_key("env"));
        for name in MANAGED_VARS {
            if let Some(Value::String(set)) = now.and_then(|env| env.get(*name))
                && before.and_then(|env| env.get(*name)) != Some(&Value::String(set.clone()))
            {
                record.vars.push(RecordedVar {
                    name: (*name).to_owned(),
                    before: before.and_then(|env| env.get(*name)).cloned(),
                    set: set.clone(),
                });
            }
        }
        record
    }

    /// Notes that Switchyard set `name` to `set`, where it was `before`. The first value
    /// before Switchyard is the one to keep: a later Configure (a new token) only updates
    /// what was written.
    pub fn note(&mut self, name: &str, before: Option<&Value>, set: &str) {
        match self.vars.iter_mut().find(|var| var.name == name) {
            Some(var) => set.clone_into(&mut var.set),
            None => self.vars.push(RecordedVar {
                name: name.to_owned(),
                before: before.cloned(),
                set: set.to_owned(),
            }),
        }
    }

    /// Undoes the recorded changes in `doc`: a variable still holding what Switchyard wrote
    /// gets its old value back (or goes, if it was absent); one the user changed since is
    /// left alone. Nothing else in `doc` is touched, and removals keep the order of the rest.
    /// `Err` names what `env` is when it is no longer an object.
    pub fn undo(&self, doc: &mut Map<String, Value>) -> Result<Undone, &'static str> {
        let mut undone = Undone::default();
        let mut absent = Map::new();
        let env = match doc.get_mut("env") {
            Some(Value::Object(env)) => env,
            Some(other) => return Err(json_kind(other)),
            // Gone altogether: every variable counts as changed by the user (removed).
            None => &mut absent,
        };
        for var in &self.vars {
            let current = env.get(&var.name);
            if current.and_then(Value::as_str) == Some(var.set.as_str()) {
                match &var.before {
                    Some(before) => {
                        env.insert(var.name.clone(), before.clone());
                    }
                    None => {
                        env.shift_remove(&var.name);
                    }
                }
                undone.reverted.push(var.name.clone());
            } else if current != var.before.as_ref() {
                undone.kept.push(var.name.clone());
            }
        }
        let env_now_empty = env.is_empty();
        if self.env_created && env_now_empty && !undone.reverted.is_empty() {
            doc.shift_remove("env");
        }
        Ok(undone)
    }
}

fn env_of(doc: &Map<String, Value>) -> Option<&Map<String, Value>> {
    doc.get("env").and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn a_variable_absent_and_one_null_before_round_trip_differently() {
        let mut record = Record::new(false);
        record.note("A", None, "a");
        record.note("B", Some(&Value::Null), "b");
        let text = serde_json::to_string(&record).unwrap();
        let back: Record = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.vars[0].before, None);
        assert_eq!(back.vars[1].before, Some(Value::Null));
    }

    #[test]
    fn a_later_configure_keeps_the_first_value_before() {
        let mut record = Record::new(false);
        record.note("TOKEN", Some(&json!("theirs")), "old-token");
        record.note("TOKEN", Some(&json!("old-token")), "new-token");
        assert_eq!(record.vars.len(), 1);
        assert_eq!(record.vars[0].before, Some(json!("theirs")));
        assert_eq!(record.vars[0].set, "new-token");
    }

    #[test]
    fn undo_reverts_ours_keeps_the_users_and_touches_nothing_else() {
        let mut record = Record::new(true);
        record.note("URL", None, "http://gw");
        record.note("KEY", Some(&json!("sk-1")), "");
        record.note("TOKEN", None, "t");
        record.note("GONE", Some(&json!(1)), "x");
        let mut doc = object(json!({
            "env": {"USER_FIRST": "1", "URL": "http://gw", "KEY": "", "TOKEN": "mine"},
            "hooks": {}
        }));
        let undone = record.undo(&mut doc).unwrap();
        assert_eq!(undone.reverted, ["URL", "KEY"]);
        // TOKEN was changed by the user; GONE was removed by them (it had a value before).
        assert_eq!(undone.kept, ["TOKEN", "GONE"]);
        assert_eq!(
            Value::Object(doc),
            json!({"env": {"USER_FIRST": "1", "KEY": "sk-1", "TOKEN": "mine"}, "hooks": {}})
        );
    }

    #[test]
    fn an_env_block_switchyard_created_goes_when_left_empty() {
        let mut record = Record::new(true);
        record.note("URL", None, "http://gw");
        let mut doc = object(json!({"model": "opus", "env": {"URL": "http://gw"}}));
        record.undo(&mut doc).unwrap();
        assert_eq!(Value::Object(doc), json!({"model": "opus"}));

        let mut not_ours = Record::new(false);
        not_ours.note("URL", None, "http://gw");
        let mut doc = object(json!({"env": {"URL": "http://gw"}}));
        not_ours.undo(&mut doc).unwrap();
        assert_eq!(Value::Object(doc), json!({"env": {}}));
    }

    #[test]
    fn an_env_that_is_no_longer_an_object_is_refused() {
        let mut record = Record::new(false);
        record.note("URL", None, "http://gw");
        let mut doc = object(json!({"env": "URL=x"}));
        assert_eq!(record.undo(&mut doc), Err("a string"));
    }

    #[test]
    fn a_backup_from_before_records_gives_the_managed_variables_that_differ() {
        let backup = object(json!({"env": {"ANTHROPIC_BASE_URL": "https://old", "MINE": "1"}}));
        let current = object(json!({"env": {
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:4747",
            "MINE": "2",
            "ANTHROPIC_AUTH_TOKEN": "t",
            "API_TIMEOUT_MS": "1800000"
        }}));
        let record = Record::from_backup(&backup, &current);
        assert!(!record.env_created);
        let names: Vec<&str> = record.vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ANTHROPIC_BASE_URL",
                "ANTHROPIC_AUTH_TOKEN",
                "API_TIMEOUT_MS"
            ]
        );
        assert_eq!(record.vars[0].before, Some(json!("https://old")));
        assert_eq!(record.vars[1].before, None);
        assert!(Record::from_backup(&Map::new(), &current).env_created);
    }
}
