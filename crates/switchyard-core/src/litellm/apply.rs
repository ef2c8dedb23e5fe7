//! The import as a file operation, shared by `switchyard import litellm` and the engine:
//! under the config's write lock, read the file, map, validate, store the keys, back the file
//! up and write the new config into it (comments kept). A dry run stops before storing.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;

use super::map::{self, KeyToStore, StoredKey, StoredKeys};
use super::{ImportError, ImportReport};
use crate::config::{self, Config, DEFAULT_CONFIG};
use crate::secrets::{SecretStore, backend_account};

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// The profile the rules go into (created if missing); the active one when `None`.
    pub profile: Option<&'a str>,
    /// Change nothing: the report says what an import would do.
    pub dry_run: bool,
}

#[derive(Debug)]
pub struct Imported {
    pub report: ImportReport,
    /// The config the file now holds, when it was written.
    pub config: Option<Config>,
}

/// Import the LiteLLM config `yaml` into the config file at `path` (the default config when
/// there is none yet), keys into `store`.
pub fn import_into(
    path: &Path,
    yaml: &str,
    options: ImportOptions<'_>,
    store: &dyn SecretStore,
) -> Result<Imported, ImportError> {
    let lite = super::parse(yaml)?;
    let _turn = config::write_turn(path)?;
    let (text, exists) = match std::fs::read_to_string(path) {
        Ok(text) => (text, true),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            (DEFAULT_CONFIG.to_owned(), false)
        }
        Err(source) => {
            return Err(config::ConfigError::Read {
                path: path.to_owned(),
                source,
            }
            .into());
        }
    };
    let current = config::parse(&text, path)?;
    let profile = options.profile.unwrap_or(&current.active_profile).trim();
    if profile.is_empty() {
        return Err(ImportError::BadProfile(profile.to_owned()));
    }
    let stored = stored_keys(&current, store);
    let plan = map::plan(&lite, &current, profile, &stored);
    let issues = config::validate(&plan.config, "");
    if !issues.is_empty() {
        return Err(ImportError::Invalid { issues });
    }
    let config_changes = plan.config != current;
    let mut report = ImportReport {
        profile: profile.to_owned(),
        dry_run: options.dry_run,
        changed: config_changes || !plan.keys.is_empty(),
        rows: plan.rows,
        keys_stored: plan.keys.iter().map(|k| k.backend.clone()).collect(),
        config_path: path.display().to_string(),
        backup: None,
    };
    if options.dry_run || !report.changed {
        return Ok(Imported {
            report,
            config: None,
        });
    }
    // Keys first: a keychain that refuses one leaves the config as it was.
    store_keys(store, &plan.keys, &stored)?;
    if config_changes {
        let written = write(path, &text, exists, &current, &plan.config);
        match written {
            Ok(backup) => report.backup = backup.map(|p| p.display().to_string()),
            Err(err) => {
                restore_keys(store, &plan.keys, &stored);
                return Err(err);
            }
        }
    }
    Ok(Imported {
        report,
        config: Some(plan.config),
    })
}

/// What the keychain holds for the backends whose key could come from it.
fn stored_keys(config: &Config, store: &dyn SecretStore) -> StoredKeys {
    let mut stored = StoredKeys::default();
    for backend in config.backends.iter().filter(|b| b.api_key_env.is_none()) {
        let key = match store.get(&backend_account(&backend.id)) {
            Ok(Some(key)) => StoredKey::Present(key),
            Ok(None) => StoredKey::Absent,
            Err(_) => StoredKey::Unknown,
        };
        stored.insert(&backend.id, key);
    }
    stored
}

fn store_keys(
    store: &dyn SecretStore,
    keys: &[KeyToStore],
    stored: &StoredKeys,
) -> Result<(), ImportError> {
    for (i, key) in keys.iter().enumerate() {
        if let Err(source) = store.set(&backend_account(&key.backend), &key.key) {
            restore_keys(store, &keys[..i], stored);
            return Err(ImportError::Keychain {
                backend: key.backend.clone(),
                source,
            });
        }
    }
    Ok(())
}

/// Put back what the keychain held before `keys` were stored (best effort: the import has
/// already failed).
fn restore_keys(store: &dyn SecretStore, keys: &[KeyToStore], stored: &StoredKeys) {
    for key in keys {
        let account = backend_account(&key.backend);
        let result = match stored.previous(&key.backend) {
            Some(previous) => store.set(&account, previous),
            None => store.delete(&account).map(|_| ()),
        };
        if let Err(err) = result {
            tracing::warn!(backend = %key.backend, "the key stored by a failed import stays in the keychain: {err}");
        }
    }
}

/// Back the file up, then write `new` into it; the backup's path (none for a new file).
fn write(
    path: &Path,
    text: &str,
    exists: bool,
    current: &Config,
    new: &Config,
) -> Result<Option<PathBuf>, ImportError> {
    if !exists {
        config::write_atomic(path, text)?;
        config::write_edit(path, text, current, new)?;
        return Ok(None);
    }
    let backup = backup_path(path);
    config::write_atomic(&backup, text).map_err(|err| match err {
        config::ConfigError::Write { source, .. } => ImportError::Backup {
            path: backup.clone(),
            source,
        },
        other => other.into(),
    })?;
    config::write_edit(path, text, current, new)?;
    Ok(Some(backup))
}

/// `config.toml` → `config.toml.before-litellm-import-20250102T030405Z` (`.2`, `.3`... when
/// taken), beside it.
fn backup_path(path: &Path) -> PathBuf {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".before-litellm-import-{stamp}"));
    let first = PathBuf::from(&name);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| {
            let mut numbered = name.clone();
            numbered.push(format!(".{n}"));
            PathBuf::from(numbered)
        })
        .find(|p| !p.exists())
        .unwrap_or(first)
}

impl StoredKeys {
    /// The key the keychain held for `backend` before the import, if it could be read.
    fn previous(&self, backend: &str) -> Option<&secrecy::SecretString> {
        match self.lookup(backend) {
            Some(StoredKey::Present(key)) if !key.expose_secret().is_empty() => Some(key),
            _ => None,
        }
    }
}
