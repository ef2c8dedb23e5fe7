//! A backend's keys as operations: add a key (named keys join the backend's pool, `keys = [..]`
//! in the config, comments kept), remove one, list them, and check each against the provider.
//! The CLI (`switchyard key set ID --name NAME`) runs these on the file and the keychain; the
//! app runs them through the engine, which also applies the new config and forgets what the
//! gateway learnt about the key.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::Engine;
use super::backends::{BackendInfo, BackendOpError};
use crate::config::{
    self, BackendConfig, Config, ConfigError, DEFAULT_KEY_NAME, KeyRef, is_valid_key_name,
    key_account,
};
use crate::discovery::{self, BackendCheck, CheckKey, CheckSettings};
use crate::secrets::{ExposeSecret, SecretError, SecretStore, SecretString};

/// Why a key could not be added or removed; each message is a sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum KeyOpError {
    #[error("There is no backend called {0}: add it first, then its keys")]
    NoBackend(String),
    #[error(
        "{0:?} cannot name a key: use up to 64 letters, digits, '-', '_' or '.', for example work"
    )]
    BadName(String),
    #[error(
        "Backend {0} reads its keys from the environment (api_key_env): set the variable instead, or remove api_key_env to keep its keys in the keychain"
    )]
    FromEnvironment(String),
    #[error("The key is empty: paste the whole key")]
    Empty,
    /// A Bedrock or Vertex backend's credential that its cloud cannot use (checked when it is
    /// stored, so a bad paste is caught at once rather than by the next request).
    #[error("{0}")]
    Credential(String),
    #[error("Backend {backend} has no key called {name}")]
    NoSuchKey { backend: String, name: String },
    #[error(transparent)]
    Keychain(#[from] SecretError),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One key of a backend as the app and the CLI show it. Never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeyInfo {
    /// Its name (`default` for the backend's own keychain entry) or its variable.
    pub name: String,
    /// Read from an environment variable rather than the keychain.
    pub from_env: bool,
    /// Whether there is a secret: the keychain entry exists, or the variable is set.
    pub present: bool,
}

/// What adding or removing a key did.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChange {
    /// The config after the change (unchanged when the pool's list did not change).
    pub config: Config,
    /// Whether the config file was written (the key joined or left the `keys` list).
    pub config_written: bool,
}

/// The `keys` list after adding `name` (`None`: the backend's own entry, which needs no list).
/// A backend whose own entry holds a key keeps it in the pool as `default`.
fn keys_with(backend: &BackendConfig, name: Option<&str>, own_stored: bool) -> Vec<String> {
    let Some(name) = name.filter(|n| *n != DEFAULT_KEY_NAME) else {
        return backend.keys.clone();
    };
    let mut keys = backend.keys.clone();
    if keys.is_empty() && own_stored {
        keys.push(DEFAULT_KEY_NAME.to_owned());
    }
    if !keys.iter().any(|k| k == name) {
        keys.push(name.to_owned());
    }
    keys
}

fn backend_of<'a>(config: &'a Config, id: &str) -> Result<&'a BackendConfig, KeyOpError> {
    config
        .backend(id)
        .ok_or_else(|| KeyOpError::NoBackend(id.to_owned()))
}

fn check_name(name: Option<&str>) -> Result<(), KeyOpError> {
    match name {
        Some(name) if !is_valid_key_name(name) => Err(KeyOpError::BadName(name.to_owned())),
        _ => Ok(()),
    }
}

/// The config with `backend`'s `keys` replaced, saved over `base` (comments kept).
fn save_keys(
    path: &Path,
    base: &Config,
    backend: &str,
    keys: Vec<String>,
) -> Result<KeyChange, KeyOpError> {
    let mut config = base.clone();
    let Some(entry) = config.backends.iter_mut().find(|b| b.id == backend) else {
        return Err(KeyOpError::NoBackend(backend.to_owned()));
    };
    if entry.keys == keys {
        return Ok(KeyChange {
            config,
            config_written: false,
        });
    }
    entry.keys = keys;
    config::save_edit(path, base, &config)?;
    Ok(KeyChange {
        config,
        config_written: true,
    })
}

/// Whether a Bedrock or Vertex backend's cloud can use `secret` (other kinds take any key).
fn check_credential(backend: &BackendConfig, secret: &SecretString) -> Result<(), KeyOpError> {
    match backend.kind {
        config::BackendKind::Bedrock => crate::cloud::aws::parse_stored(secret)
            .map(|_| ())
            .map_err(|err| {
                KeyOpError::Credential(format!(
                    "This is not a credential Bedrock takes ({err}): paste ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN], the same as JSON, or a Bedrock API key"
                ))
            }),
        config::BackendKind::Vertex => {
            crate::cloud::KeySource::find(Some(std::sync::Arc::new(secret.clone())), &|_| None)
                .and_then(|source| source.account())
                .map(|_| ())
                .map_err(|err| {
                    KeyOpError::Credential(format!(
                        "This is not a service-account key Vertex takes ({err}): paste the JSON key file of a service account, or the path of that file"
                    ))
                })
        }
        _ => Ok(()),
    }
}

/// Store a key of `backend` in the keychain (`name`: a key of its pool; `None`: its own
/// entry), adding a new name to its `keys`. Blocking (keychain and file). The stored key is
/// taken back when the config cannot be written, so nothing is half done.
pub fn add_key(
    path: &Path,
    store: &dyn SecretStore,
    backend: &str,
    name: Option<&str>,
    secret: &SecretString,
) -> Result<KeyChange, KeyOpError> {
    check_name(name)?;
    let secret = SecretString::from(secret.expose_secret().trim().to_owned());
    if secret.expose_secret().is_empty() {
        return Err(KeyOpError::Empty);
    }
    let base = config::load(path)?;
    let entry = backend_of(&base, backend)?;
    if entry.keys_from_env() {
        return Err(KeyOpError::FromEnvironment(backend.to_owned()));
    }
    check_credential(entry, &secret)?;
    let own_stored = name.is_some_and(|n| n != DEFAULT_KEY_NAME)
        && entry.keys.is_empty()
        && store.get(&key_account(backend, None))?.is_some();
    let keys = keys_with(entry, name, own_stored);
    let account = key_account(backend, name);
    let previous = store.get(&account)?;
    store.set(&account, &secret)?;
    match save_keys(path, &base, backend, keys) {
        Ok(change) => Ok(change),
        Err(err) => {
            let undo = match &previous {
                Some(previous) => store.set(&account, previous),
                None => store.delete(&account).map(|_| ()),
            };
            if let Err(undo) = undo {
                tracing::warn!(
                    backend,
                    "the key stored before the failed edit stays: {undo}"
                );
            }
            Err(err)
        }
    }
}

/// Remove a key of `backend`: from its `keys` (the config first, so a request never looks for
/// a key that is gone), then from the keychain. Whether a keychain entry was deleted.
pub fn remove_key(
    path: &Path,
    store: &dyn SecretStore,
    backend: &str,
    name: Option<&str>,
) -> Result<(KeyChange, bool), KeyOpError> {
    check_name(name)?;
    let base = config::load(path)?;
    let entry = backend_of(&base, backend)?;
    let keys: Vec<String> = match name {
        Some(name) if !entry.keys.is_empty() => {
            if !entry.keys.iter().any(|k| k == name) {
                return Err(KeyOpError::NoSuchKey {
                    backend: backend.to_owned(),
                    name: name.to_owned(),
                });
            }
            entry.keys.iter().filter(|k| *k != name).cloned().collect()
        }
        _ => entry.keys.clone(),
    };
    let change = save_keys(path, &base, backend, keys)?;
    let deleted = store.delete(&key_account(backend, name))?;
    Ok((change, deleted))
}

/// Every key of `backend`, with whether its secret is there. A keychain that cannot be read
/// shows the key as absent.
pub fn list_keys(backend: &BackendConfig, store: &dyn SecretStore) -> Vec<KeyInfo> {
    backend
        .key_refs()
        .into_iter()
        .map(|key| match key {
            KeyRef::Env(var) => KeyInfo {
                present: std::env::var(&var).is_ok_and(|v| !v.is_empty()),
                name: var,
                from_env: true,
            },
            KeyRef::Keychain(name) => KeyInfo {
                present: matches!(
                    store.get(&key_account(&backend.id, name.as_deref())),
                    Ok(Some(_))
                ),
                name: name.unwrap_or_else(|| DEFAULT_KEY_NAME.to_owned()),
                from_env: false,
            },
        })
        .collect()
}

/// Each key of a backend with several, checked on its own the way requests would use it (a
/// refused key shows as the provider's 401/403). Empty for a backend with one key: its check
/// is the backend's.
pub async fn check_keys(
    backend: &BackendConfig,
    store: &Arc<dyn SecretStore>,
    settings: &CheckSettings,
) -> Vec<(String, BackendCheck)> {
    if !backend.has_key_pool() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for key in backend.key_refs() {
        let name = key.name().unwrap_or(DEFAULT_KEY_NAME).to_owned();
        let secret = match &key {
            KeyRef::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => CheckKey::Key(Arc::new(SecretString::from(v))),
                _ => CheckKey::Unreadable(format!("the environment variable {var} is not set")),
            },
            KeyRef::Keychain(own) => {
                let store = store.clone();
                let account = key_account(&backend.id, own.as_deref());
                match tokio::task::spawn_blocking(move || store.get(&account)).await {
                    Ok(Ok(Some(secret))) => CheckKey::Key(Arc::new(secret)),
                    Ok(Ok(None)) => CheckKey::Unreadable(format!(
                        "no key {name} in the keychain: `switchyard key set {} --name {name}`",
                        backend.id
                    )),
                    Ok(Err(err)) => CheckKey::Unreadable(err.to_string()),
                    Err(err) => CheckKey::Unreadable(err.to_string()),
                }
            }
        };
        out.push((
            name,
            discovery::check_backend(backend, secret, settings).await,
        ));
    }
    out
}

impl Engine {
    /// Store a key of a backend (`name`: one of its pool's, added to its `keys`; `None`: its
    /// own), applied from the next request on; a key set anew is tried again even if the
    /// upstream refused the old one.
    pub async fn add_backend_key(
        &self,
        id: &str,
        name: Option<String>,
        secret: SecretString,
    ) -> Result<BackendInfo, BackendOpError> {
        let _turn = self.edit_turn().await;
        let (path, store) = (self.config_path(), self.gateway().secrets().clone());
        let (backend, key_name) = (id.to_owned(), name.clone());
        let change = tokio::task::spawn_blocking(move || {
            add_key(
                &path,
                store.as_ref(),
                &backend,
                key_name.as_deref(),
                &secret,
            )
        })
        .await
        .map_err(super::EngineError::join)??;
        self.after_key_change(id, name.as_deref(), change).await
    }

    /// Remove a key of a backend (from its pool and the keychain).
    pub async fn remove_named_backend_key(
        &self,
        id: &str,
        name: Option<String>,
    ) -> Result<BackendInfo, BackendOpError> {
        let _turn = self.edit_turn().await;
        let (path, store) = (self.config_path(), self.gateway().secrets().clone());
        let (backend, key_name) = (id.to_owned(), name.clone());
        let (change, _deleted) = tokio::task::spawn_blocking(move || {
            remove_key(&path, store.as_ref(), &backend, key_name.as_deref())
        })
        .await
        .map_err(super::EngineError::join)??;
        self.after_key_change(id, name.as_deref(), change).await
    }

    async fn after_key_change(
        &self,
        id: &str,
        name: Option<&str>,
        change: KeyChange,
    ) -> Result<BackendInfo, BackendOpError> {
        let gateway = self.gateway();
        if change.config_written {
            gateway.set_config(change.config);
        }
        gateway.keys().reset(id, name);
        gateway.forget_keys();
        self.backend_info(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::MemoryStore;

    const FILE: &str = "# my gateway\nlisten = \"127.0.0.1:0\"\nactive_profile = \"p\"\n\n[[backends]]\nid = \"oa\"\nkind = \"openai_chat\"\nbase_url = \"https://api.example.com/v1\" # the team's account\n\n[profiles.p]\ndefault = { backend = \"oa\", model = \"m\" }\n";

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_named_key_joins_the_pool_with_the_backends_own_key_and_keeps_comments() {
        let (_dir, path) = file(FILE);
        let store = MemoryStore::default();
        store.set("backend:oa", &secret("sk-own")).unwrap();
        let change = add_key(&path, &store, "oa", Some("work"), &secret(" sk-work \n")).unwrap();
        assert!(change.config_written);
        assert_eq!(
            change.config.backend("oa").unwrap().keys,
            ["default", "work"]
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# the team's account"), "{text}");
        assert!(text.contains("keys = [\"default\", \"work\"]"), "{text}");
        assert!(!text.contains("sk-"), "{text}");
        assert_eq!(
            store
                .get("backend:oa:key:work")
                .unwrap()
                .unwrap()
                .expose_secret(),
            "sk-work"
        );
        // The same name again replaces the secret only.
        let again = add_key(&path, &store, "oa", Some("work"), &secret("sk-new")).unwrap();
        assert!(!again.config_written);
        let infos = list_keys(again.config.backend("oa").unwrap(), &store);
        assert_eq!(
            infos
                .iter()
                .map(|k| (k.name.as_str(), k.present))
                .collect::<Vec<_>>(),
            [("default", true), ("work", true)]
        );
    }

    #[test]
    fn without_an_own_key_the_pool_starts_with_the_named_one() {
        let (_dir, path) = file(FILE);
        let store = MemoryStore::default();
        let change = add_key(&path, &store, "oa", Some("work"), &secret("sk-1")).unwrap();
        assert_eq!(change.config.backend("oa").unwrap().keys, ["work"]);
        let (after, deleted) = remove_key(&path, &store, "oa", Some("work")).unwrap();
        assert!(deleted);
        assert!(after.config.backend("oa").unwrap().keys.is_empty());
        assert!(store.get("backend:oa:key:work").unwrap().is_none());
    }

    #[test]
    fn refusals_change_nothing() {
        let text = FILE.replace(
            "base_url = \"https://api.example.com/v1\"",
            "base_url = \"https://api.example.com/v1\"\napi_key_env = [\"A\", \"B\"]",
        );
        let (_dir, path) = file(&text);
        let store = MemoryStore::default();
        for (name, key, expected) in [
            (Some("a b"), "sk", "cannot name a key"),
            (Some("work"), "  ", "empty"),
            (Some("work"), "sk", "environment"),
        ] {
            let err = add_key(&path, &store, "oa", name, &secret(key)).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let err = add_key(&path, &store, "nope", None, &secret("sk")).unwrap_err();
        assert!(matches!(err, KeyOpError::NoBackend(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        assert!(store.get("backend:oa:key:work").unwrap().is_none());
    }

    #[test]
    fn a_cloud_backend_refuses_a_credential_its_cloud_cannot_use() {
        let (_dir, path) = file(
            "listen = \"127.0.0.1:0\"\nactive_profile = \"p\"\n[[backends]]\nid = \"b\"\nkind = \"bedrock\"\nregion = \"us-east-1\"\n[[backends]]\nid = \"v\"\nkind = \"vertex\"\nproject = \"p\"\nregion = \"us-east5\"\n[profiles.p]\ndefault = { backend = \"b\" }\n",
        );
        let store = MemoryStore::default();
        let bad = SecretString::from("AKIDCANARY:".to_owned());
        match add_key(&path, &store, "b", None, &bad) {
            Err(KeyOpError::Credential(message)) => {
                assert!(
                    message.contains("ACCESS_KEY_ID:SECRET_ACCESS_KEY"),
                    "{message}"
                );
                assert!(!message.contains("AKIDCANARY"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(store.get(&key_account("b", None)).unwrap().is_none());
        let good = SecretString::from("AKIDCANARY:secret".to_owned());
        add_key(&path, &store, "b", None, &good).unwrap();
        assert!(store.get(&key_account("b", None)).unwrap().is_some());

        let not_a_key_file = SecretString::from("{\"type\":\"authorized_user\"}".to_owned());
        match add_key(&path, &store, "v", None, &not_a_key_file) {
            Err(KeyOpError::Credential(message)) => {
                assert!(message.contains("service-account key"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let missing_file = SecretString::from("/nowhere/key.json".to_owned());
        assert!(matches!(
            add_key(&path, &store, "v", None, &missing_file),
            Err(KeyOpError::Credential(_))
        ));
    }
}
