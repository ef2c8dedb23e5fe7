//! Backends as operations of the engine: list, save (renames move the key), find the routes
//! that use one, delete (refusing, removing it from routes, or re-pointing them), store or
//! remove its key, and check it the way requests reach it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::backend_edits::{self, Dependent};
use super::keys::{KeyInfo, KeyOpError, list_keys};
use super::{Engine, EngineError};
use crate::config::{
    self, BackendConfig, BackendKind, Config, DEFAULT_KEY_NAME, KeyEnv, key_account,
};
use crate::discovery::{self, BackendCheck, CheckKey, CheckSettings, CheckedModel};
use crate::secrets::{ExposeSecret, SecretError, SecretString};

/// What the backend form sends to create or edit a backend. Settings the form does not show
/// (timeouts, headers, ...) keep their values, or the config's defaults for a new backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackendDraft {
    pub id: String,
    pub kind: BackendKind,
    /// Empty for Bedrock and Vertex at their region's public endpoint.
    pub base_url: String,
    /// Bedrock and Vertex: the cloud region.
    #[serde(default)]
    pub region: Option<String>,
    /// Vertex: the Google Cloud project.
    #[serde(default)]
    pub project: Option<String>,
    pub api_key_env: Option<String>,
    pub context_length: Option<u32>,
    pub max_output_tokens: Option<u32>,
    /// Whether it runs on this machine or the private network (free) or is a cloud API
    /// (priced); `None` decides from the URL, which a loopback proxy to a cloud gets wrong.
    #[serde(default)]
    pub local: Option<bool>,
    /// Requests per minute the backend takes (`None`: no limit); a target at its limit is
    /// skipped to the next one.
    #[serde(default)]
    pub rpm: Option<u32>,
    /// Tokens (input and output) per minute the backend takes (`None`: no limit).
    #[serde(default)]
    pub tpm: Option<u64>,
}

/// A field of the backend form, so an error can be shown under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum BackendField {
    Id,
    Kind,
    BaseUrl,
    ApiKeyEnv,
    ApiKey,
    ContextLength,
    MaxOutputTokens,
    Rpm,
    Tpm,
    /// The name of a key of the backend's pool.
    KeyName,
    /// Bedrock's and Vertex's cloud region.
    Region,
    /// Vertex's Google Cloud project.
    Project,
}

impl BackendField {
    /// The rule the field must follow, for a person (the checks are `config::validate`'s).
    fn rule(self) -> &'static str {
        match self {
            BackendField::Id => {
                "Use only letters, digits, '-', '_' or '.' in the id, for example my-vllm"
            }
            BackendField::Kind => "Choose one of the protocols in the list",
            BackendField::BaseUrl => {
                "Enter a URL that starts with http:// or https://, for example http://127.0.0.1:11434"
            }
            BackendField::ApiKeyEnv => {
                "Enter the name of an environment variable, for example DEEPSEEK_API_KEY"
            }
            BackendField::ApiKey => "Paste a key, or leave the field empty to keep the current one",
            BackendField::ContextLength | BackendField::MaxOutputTokens => {
                "Enter a whole number of tokens above 0, or leave the field empty"
            }
            BackendField::Rpm => {
                "Enter a whole number of requests above 0, or leave the field empty for no limit"
            }
            BackendField::Tpm => {
                "Enter a whole number of tokens above 0, or leave the field empty for no limit"
            }
            BackendField::KeyName => {
                "Name the key with up to 64 letters, digits, '-', '_' or '.', for example work"
            }
            BackendField::Region => {
                "Enter the cloud region in lowercase, for example us-east-1 (Bedrock) or us-east5 (Vertex)"
            }
            BackendField::Project => {
                "Enter the Google Cloud project id the Claude models are enabled in, for example my-project"
            }
        }
    }

    fn from_config_field(name: &str) -> Option<BackendField> {
        Some(match name {
            "id" => BackendField::Id,
            "kind" => BackendField::Kind,
            "base_url" => BackendField::BaseUrl,
            "api_key_env" => BackendField::ApiKeyEnv,
            "context_length" => BackendField::ContextLength,
            "max_output_tokens" => BackendField::MaxOutputTokens,
            "rpm" => BackendField::Rpm,
            "tpm" => BackendField::Tpm,
            "keys" => BackendField::KeyName,
            "region" => BackendField::Region,
            "project" => BackendField::Project,
            _ => return None,
        })
    }
}

/// Where a backend's key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// Stored in the OS keychain under the backend's id.
    Keychain,
    /// Read from the environment variable `api_key_env`.
    Env,
    None,
}

/// A backend as the app shows it. Never carries the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackendInfo {
    pub id: String,
    pub kind: BackendKind,
    /// Empty for Bedrock and Vertex at their region's public endpoint.
    pub base_url: String,
    /// Bedrock and Vertex: the cloud region.
    pub region: Option<String>,
    /// Vertex: the Google Cloud project.
    pub project: Option<String>,
    /// The environment variables its keys are read from, comma-separated.
    pub api_key_env: Option<String>,
    pub key: KeySource,
    /// Its keys in the order requests rotate over them (one for most backends).
    pub keys: Vec<KeyInfo>,
    pub context_length: Option<u32>,
    pub max_output_tokens: Option<u32>,
    pub timeout_first_byte_s: u64,
    pub max_in_flight: u32,
    /// On this machine or the private network (priced as free), rather than a cloud API.
    pub local: bool,
    /// What the config says about it (`local = true|false`); `None`: decided from the URL.
    pub local_declared: Option<bool>,
    /// Requests per minute it takes (`None`: no limit).
    pub rpm: Option<u32>,
    /// Tokens per minute it takes (`None`: no limit).
    pub tpm: Option<u64>,
}

/// What to do with the routes that use a backend being deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DeleteMode {
    /// Delete only if no route uses it.
    RefuseIfUsed,
    /// Remove it from every route (see `backend_edits::remove_targets`).
    RemoveTargets,
    /// Point every route that uses it to this other backend.
    RepointTo(String),
}

/// What a deletion changed, so the app can say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackendRemoval {
    pub id: String,
    /// The routes that used the backend (now without it, or re-pointed).
    pub changed: Vec<Dependent>,
    /// Rules and defaults removed because no target was left.
    pub removed: Vec<Dependent>,
    pub repointed_to: Option<String>,
    /// Budgets that applied to the backend, removed with it.
    pub budgets_removed: Vec<String>,
    /// Whether a keychain entry was deleted.
    pub key_deleted: bool,
}

/// Why a backend operation failed; every message is one sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum BackendOpError {
    /// A form field breaks a rule; `message` says the rule.
    #[error("{message}")]
    Field {
        field: BackendField,
        message: String,
    },
    #[error("There is no backend called {0}")]
    NotFound(String),
    #[error("{id} is still used by {} route(s): remove it from them or point them to another backend first", dependents.len())]
    InUse {
        id: String,
        dependents: Vec<Dependent>,
    },
    #[error("Choose a backend other than {0} to point its routes to")]
    RepointToItself(String),
    #[error("The key of {id} could not be moved to its new name, so nothing was changed: {source}")]
    KeyMove { id: String, source: SecretError },
    #[error(transparent)]
    Keychain(#[from] SecretError),
    #[error(transparent)]
    Keys(#[from] KeyOpError),
    /// `backend_models` of a backend whose check failed.
    #[error("{}", .0.message)]
    CheckFailed(Box<BackendCheck>),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl BackendOpError {
    fn field(field: BackendField) -> Self {
        BackendOpError::Field {
            field,
            message: field.rule().to_owned(),
        }
    }
}

impl BackendDraft {
    /// Whitespace around values and a trailing `/` on the URL are not part of them.
    fn normalized(mut self) -> Self {
        self.id = self.id.trim().to_owned();
        self.base_url = self.base_url.trim().trim_end_matches('/').to_owned();
        self.api_key_env = self
            .api_key_env
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        let clean = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        self.region = clean(self.region);
        self.project = clean(self.project);
        self
    }

    fn apply_to(&self, backend: &mut BackendConfig) {
        backend.id.clone_from(&self.id);
        backend.kind = self.kind;
        backend.base_url.clone_from(&self.base_url);
        backend.region.clone_from(&self.region);
        backend.project.clone_from(&self.project);
        backend.api_key_env = self.api_key_env.as_deref().and_then(|vars| {
            KeyEnv::from_names(
                vars.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        });
        backend.context_length = self.context_length;
        backend.max_output_tokens = self.max_output_tokens;
        backend.local = self.local;
        backend.rpm = self.rpm;
        backend.tpm = self.tpm;
    }

    /// A limit of 0 would skip the backend for every request: the form means "no limit" by
    /// an empty field, so 0 is refused with the field's rule (the file's own checks are
    /// `config::validate`'s).
    fn check_limits(&self) -> Result<(), BackendOpError> {
        if self.rpm == Some(0) {
            return Err(BackendOpError::field(BackendField::Rpm));
        }
        if self.tpm == Some(0) {
            return Err(BackendOpError::field(BackendField::Tpm));
        }
        Ok(())
    }

    /// A new backend with the config file's defaults for everything the draft does not set
    /// (built through serde, so new schema fields get their defaults here too).
    fn to_new_backend(&self) -> Result<BackendConfig, BackendOpError> {
        let minimal = serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "base_url": self.base_url,
        });
        let mut backend: BackendConfig = serde_json::from_value(minimal)
            .map_err(|err| BackendOpError::Engine(EngineError::Internal(err.to_string())))?;
        self.apply_to(&mut backend);
        Ok(backend)
    }
}

/// The keychain entries a backend's keys may be in: its own and its pool's named ones.
fn keychain_names(backend: &BackendConfig) -> Vec<Option<String>> {
    let mut names = vec![None];
    names.extend(
        backend
            .keys
            .iter()
            .filter(|k| *k != DEFAULT_KEY_NAME)
            .map(|k| Some(k.clone())),
    );
    names
}

/// The first problem `config::validate` finds, as a form field when it is one of the
/// backend at `index`.
fn check_config(config: &Config, index: usize, path: &Path) -> Result<(), BackendOpError> {
    let issues = config::validate(config, "");
    let prefix = format!("backends[{index}].");
    if let Some(field) = issues.iter().find_map(|issue| {
        issue
            .field
            .strip_prefix(&prefix)
            .and_then(BackendField::from_config_field)
    }) {
        return Err(BackendOpError::field(field));
    }
    if issues.is_empty() {
        return Ok(());
    }
    Err(BackendOpError::Engine(EngineError::Config(
        config::ConfigError::Invalid {
            path: path.to_owned(),
            issues,
        },
    )))
}

impl Engine {
    fn backend_config(&self, id: &str) -> Result<BackendConfig, BackendOpError> {
        self.config()
            .backend(id)
            .cloned()
            .ok_or_else(|| BackendOpError::NotFound(id.to_owned()))
    }

    async fn read_key(&self, account: String) -> Result<Option<SecretString>, SecretError> {
        let store = self.gateway().secrets().clone();
        tokio::task::spawn_blocking(move || store.get(&account))
            .await
            .map_err(|err| SecretError::Other {
                detail: err.to_string(),
            })?
    }

    async fn write_key(&self, account: String, key: SecretString) -> Result<(), SecretError> {
        let store = self.gateway().secrets().clone();
        tokio::task::spawn_blocking(move || store.set(&account, &key))
            .await
            .map_err(|err| SecretError::Other {
                detail: err.to_string(),
            })?
    }

    async fn erase_key(&self, account: String) -> Result<bool, SecretError> {
        let store = self.gateway().secrets().clone();
        tokio::task::spawn_blocking(move || store.delete(&account))
            .await
            .map_err(|err| SecretError::Other {
                detail: err.to_string(),
            })?
    }

    async fn info_of(&self, backend: &BackendConfig) -> BackendInfo {
        let keys = {
            let (backend, store) = (backend.clone(), self.gateway().secrets().clone());
            tokio::task::spawn_blocking(move || list_keys(&backend, store.as_ref()))
                .await
                .unwrap_or_default()
        };
        let key = if backend.keys_from_env() {
            KeySource::Env
        } else if keys.iter().any(|k| k.present) {
            KeySource::Keychain
        } else {
            KeySource::None
        };
        BackendInfo {
            id: backend.id.clone(),
            kind: backend.kind,
            base_url: backend.base_url.clone(),
            region: backend.region.clone(),
            project: backend.project.clone(),
            api_key_env: backend
                .api_key_env
                .as_ref()
                .map(|env| env.names().join(", ")),
            key,
            keys,
            context_length: backend.context_length,
            max_output_tokens: backend.max_output_tokens,
            timeout_first_byte_s: backend.timeout_first_byte_s,
            max_in_flight: backend.max_in_flight,
            local: backend.is_local(),
            local_declared: backend.local,
            rpm: backend.rpm,
            tpm: backend.tpm,
        }
    }

    /// Every backend, with where its key comes from.
    pub async fn list_backends(&self) -> Vec<BackendInfo> {
        let config = self.config();
        let mut out = Vec::with_capacity(config.backends.len());
        for backend in &config.backends {
            out.push(self.info_of(backend).await);
        }
        out
    }

    pub async fn backend_info(&self, id: &str) -> Result<BackendInfo, BackendOpError> {
        let backend = self.backend_config(id)?;
        Ok(self.info_of(&backend).await)
    }

    /// Create a backend, or replace `original_id` (which may be renamed: its routes, budgets
    /// and keychain key follow the new id). Validated with the config file's rules; a broken
    /// field is named. A key that cannot be moved changes nothing. An edit sets only the
    /// draft's fields: the backend's other settings (timeouts, retries, headers, ...) stay,
    /// and the file keeps its comments and layout (`config::save_edit`).
    pub async fn save_backend(
        &self,
        draft: BackendDraft,
        original_id: Option<&str>,
    ) -> Result<BackendConfig, BackendOpError> {
        let draft = draft.normalized();
        draft.check_limits()?;
        let _turn = self.edit_turn().await;
        let base = self.config();
        let mut config = (*base).clone();
        let existing = match original_id {
            Some(id) => Some(
                config
                    .backends
                    .iter()
                    .position(|b| b.id == id)
                    .ok_or_else(|| BackendOpError::NotFound(id.to_owned()))?,
            ),
            None => None,
        };
        if draft.id != original_id.unwrap_or_default() && config.backend(&draft.id).is_some() {
            return Err(BackendOpError::Field {
                field: BackendField::Id,
                message: format!(
                    "Another backend is already called {}: choose a different id",
                    draft.id
                ),
            });
        }
        let index = match existing {
            Some(i) => {
                draft.apply_to(&mut config.backends[i]);
                i
            }
            None => {
                config.backends.push(draft.to_new_backend()?);
                config.backends.len() - 1
            }
        };
        let renamed_from = original_id.filter(|old| *old != draft.id);
        if let Some(old) = renamed_from {
            backend_edits::repoint(&mut config, old, &draft.id);
        }
        check_config(&config, index, &self.config_path())?;
        let backend = config.backends[index].clone();

        let moved = match renamed_from {
            Some(old) => self.copy_keys(old, &backend).await?,
            None => Vec::new(),
        };
        if let Err(err) = self.update_config(&base, config).await {
            // Undo the copies: the config still names the old id, whose keys are intact.
            for name in &moved {
                let _ = self
                    .erase_key(key_account(&backend.id, name.as_deref()))
                    .await;
            }
            return Err(err.into());
        }
        if let Some(old) = renamed_from {
            for name in &moved {
                if let Err(err) = self.erase_key(key_account(old, name.as_deref())).await {
                    tracing::warn!(backend = %old, "a key under the old name stays in the keychain: {err}");
                }
            }
        }
        self.gateway().forget_keys();
        Ok(backend)
    }

    /// Copy the keychain keys of `old` to `backend`'s id; the names of those there were. A
    /// keychain that cannot be read only matters when a key could be there (not for a backend
    /// whose keys come from the environment, nor a local one, which requests serve keyless).
    async fn copy_keys(
        &self,
        old: &str,
        backend: &BackendConfig,
    ) -> Result<Vec<Option<String>>, BackendOpError> {
        let key_move = |source| BackendOpError::KeyMove {
            id: old.to_owned(),
            source,
        };
        let mut copied = Vec::new();
        for name in keychain_names(backend) {
            let key = match self.read_key(key_account(old, name.as_deref())).await {
                Ok(key) => key,
                Err(err @ (SecretError::Unavailable { .. } | SecretError::Locked { .. }))
                    if backend.keys_from_env() || backend.is_local() =>
                {
                    tracing::warn!(backend = %old, "renamed without looking for a keychain key: {err}");
                    None
                }
                Err(err) => return Err(key_move(err)),
            };
            let Some(key) = key else { continue };
            let written = self
                .write_key(key_account(&backend.id, name.as_deref()), key)
                .await;
            if let Err(err) = written {
                for done in &copied {
                    let _ = self
                        .erase_key(key_account(&backend.id, Option::as_deref(done)))
                        .await;
                }
                return Err(key_move(err));
            }
            copied.push(name);
        }
        Ok(copied)
    }

    /// The routes that send requests to `id` (empty for an unknown backend).
    pub fn backend_dependents(&self, id: &str) -> Vec<Dependent> {
        backend_edits::dependents(&self.config(), id)
    }

    /// Delete a backend and its keychain key. Routes that use it are handled as `mode` says;
    /// budgets on it go with it.
    pub async fn delete_backend(
        &self,
        id: &str,
        mode: DeleteMode,
    ) -> Result<BackendRemoval, BackendOpError> {
        let _turn = self.edit_turn().await;
        let base = self.config();
        let mut config = (*base).clone();
        let removed_backend = config
            .backend(id)
            .cloned()
            .ok_or_else(|| BackendOpError::NotFound(id.to_owned()))?;
        config.backends.retain(|b| b.id != id);
        let dependents = backend_edits::dependents(&config, id);
        let mut removed = Vec::new();
        let mut repointed_to = None;
        match mode {
            DeleteMode::RefuseIfUsed if !dependents.is_empty() => {
                return Err(BackendOpError::InUse {
                    id: id.to_owned(),
                    dependents,
                });
            }
            DeleteMode::RefuseIfUsed => {}
            DeleteMode::RemoveTargets => removed = backend_edits::remove_targets(&mut config, id),
            DeleteMode::RepointTo(to) => {
                if to == id {
                    return Err(BackendOpError::RepointToItself(to));
                }
                if config.backend(&to).is_none() {
                    return Err(BackendOpError::NotFound(to));
                }
                backend_edits::repoint(&mut config, id, &to);
                repointed_to = Some(to);
            }
        }
        let budgets_removed = backend_edits::remove_budgets(&mut config, id);
        self.update_config(&base, config).await?;
        let mut key_deleted = false;
        for name in keychain_names(&removed_backend) {
            match self.erase_key(key_account(id, name.as_deref())).await {
                Ok(deleted) => key_deleted |= deleted,
                Err(err) => {
                    tracing::warn!(backend = %id, "the deleted backend's key stays in the keychain: {err}");
                }
            }
        }
        self.gateway().forget_keys();
        Ok(BackendRemoval {
            id: id.to_owned(),
            changed: dependents,
            removed,
            repointed_to,
            budgets_removed,
            key_deleted,
        })
    }

    /// Store a backend's provider key in the keychain (used from the next request on):
    /// `name` makes it a key of the backend's pool (added to its `keys`), `None` its own.
    pub async fn store_backend_key(
        &self,
        id: &str,
        name: Option<String>,
        key: SecretString,
    ) -> Result<BackendInfo, BackendOpError> {
        self.backend_config(id)?;
        if key.expose_secret().trim().is_empty() {
            return Err(BackendOpError::field(BackendField::ApiKey));
        }
        let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        self.add_backend_key(id, name, key).await
    }

    /// Remove a backend's key: a key of its pool by `name`, else its own.
    pub async fn remove_backend_key(
        &self,
        id: &str,
        name: Option<String>,
    ) -> Result<BackendInfo, BackendOpError> {
        self.remove_named_backend_key(id, name).await
    }

    /// Check a backend as requests reach it: the same key (keychain or `api_key_env`, through
    /// the gateway's cache), its model list, no redirect followed, a short timeout.
    pub async fn check_backend(&self, id: &str) -> Result<BackendCheck, BackendOpError> {
        let backend = self.backend_config(id)?;
        let key = CheckKey::from(self.gateway().backend_key(&backend).await);
        Ok(discovery::check_backend(&backend, key, &CheckSettings::default()).await)
    }

    /// The models a backend offers (suggestions for routes); a failed check is the error.
    pub async fn backend_models(&self, id: &str) -> Result<Vec<CheckedModel>, BackendOpError> {
        let check = self.check_backend(id).await?;
        match check.ok {
            true => Ok(check.models().to_vec()),
            false => Err(BackendOpError::CheckFailed(Box::new(check))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_issues_become_form_fields() {
        let text = "active_profile = \"p\"\n[profiles.p]\n[[backends]]\nid = \"ok\"\nkind = \"ollama\"\nbase_url = \"http://127.0.0.1:1\"\n";
        let mut config = config::parse(text, std::path::Path::new("t.toml")).unwrap();
        let draft = BackendDraft {
            id: " has space ".into(),
            kind: BackendKind::OpenaiChat,
            base_url: "127.0.0.1:8000".into(),
            region: None,
            project: None,
            api_key_env: Some("  ".into()),
            context_length: None,
            max_output_tokens: None,
            local: None,
            rpm: None,
            tpm: None,
        }
        .normalized();
        assert_eq!(draft.id, "has space");
        assert_eq!(draft.api_key_env, None);
        config.backends.push(draft.to_new_backend().unwrap());
        match check_config(&config, 1, Path::new("t.toml")) {
            Err(BackendOpError::Field { field, message }) => {
                assert_eq!(field, BackendField::Id);
                assert!(message.contains("letters, digits"), "{message}");
            }
            other => panic!("expected a field error, got {other:?}"),
        }
        config.backends[1].id = "fine".into();
        match check_config(&config, 1, Path::new("t.toml")) {
            Err(BackendOpError::Field { field, .. }) => assert_eq!(field, BackendField::BaseUrl),
            other => panic!("expected a field error, got {other:?}"),
        }
        config.backends[1].base_url = "http://127.0.0.1:8000/v1".into();
        assert!(check_config(&config, 1, Path::new("t.toml")).is_ok());
    }

    /// A backend with settings the form does not show, and the user's comments around it.
    const LIMITED: &str = r#"listen = "127.0.0.1:0"
active_profile = "local"

# The team's vLLM box: keep it polite (the user's own comment).
[[backends]]
id = "vllm"
kind = "openai_chat"
base_url = "http://127.0.0.1:8000/v1"
api_key_env = "VLLM_KEY"
timeout_first_byte_s = 900   # long prefills
retries = 2
max_in_flight = 4
rpm = 30                     # the box's own limit
headers = { "x-team" = "blue" }
recover_text_tool_calls = true

[profiles.local]
default = { backend = "vllm", model = "qwen" }
"#;

    async fn limited_engine(dir: &Path) -> (Engine, std::path::PathBuf) {
        let path = dir.join("config.toml");
        std::fs::write(&path, LIMITED).unwrap();
        let engine = Engine::start(
            crate::engine::EngineOptions {
                config_path: Some(path.clone()),
                token: Some(SecretString::from("sy-test-token-0123456789".to_owned())),
                usage_sink: Some(std::sync::Arc::new(())),
                ..Default::default()
            },
            std::sync::Arc::new(crate::secrets::MemoryStore::default()),
        )
        .await
        .unwrap();
        (engine, path)
    }

    /// The form's draft of a backend as the app builds it: what the engine shows, edited.
    fn draft_of(info: &BackendInfo) -> BackendDraft {
        BackendDraft {
            id: info.id.clone(),
            kind: info.kind,
            base_url: info.base_url.clone(),
            region: info.region.clone(),
            project: info.project.clone(),
            api_key_env: info.api_key_env.clone(),
            context_length: info.context_length,
            max_output_tokens: info.max_output_tokens,
            local: info.local_declared,
            rpm: info.rpm,
            tpm: info.tpm,
        }
    }

    #[tokio::test]
    async fn limits_round_trip_and_keep_the_rest_of_the_backend_and_the_comments() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, path) = limited_engine(dir.path()).await;
        let before = engine.config().backend("vllm").unwrap().clone();
        let info = engine.backend_info("vllm").await.unwrap();
        assert_eq!((info.rpm, info.tpm), (Some(30), None));

        let mut draft = draft_of(&info);
        draft.rpm = Some(60);
        draft.tpm = Some(200_000);
        engine.save_backend(draft, Some("vllm")).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# The team's vLLM box"), "{text}");
        assert!(text.contains("# long prefills"), "{text}");
        assert!(text.contains("rpm = 60"), "{text}");
        assert!(text.contains("tpm = 200000"), "{text}");
        // Nothing the form does not show was written out or changed.
        assert!(!text.contains("timeout_connect_s"), "{text}");
        let saved = config::load(&path).unwrap();
        let after = saved.backend("vllm").unwrap();
        assert_eq!(
            BackendConfig {
                rpm: Some(60),
                tpm: Some(200_000),
                ..before.clone()
            },
            *after
        );
        assert_eq!(*engine.config(), saved);
        let info = engine.backend_info("vllm").await.unwrap();
        assert_eq!((info.rpm, info.tpm), (Some(60), Some(200_000)));

        // Empty fields: no limit, and the keys leave the file; the rest stays as it was.
        let mut draft = draft_of(&info);
        draft.rpm = None;
        draft.tpm = None;
        engine.save_backend(draft, Some("vllm")).await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("rpm") && !text.contains("tpm"), "{text}");
        assert!(text.contains("# The team's vLLM box"), "{text}");
        assert!(
            text.contains("timeout_first_byte_s = 900   # long prefills"),
            "{text}"
        );
        let after = config::load(&path).unwrap();
        assert_eq!(
            BackendConfig {
                rpm: None,
                ..before
            },
            *after.backend("vllm").unwrap()
        );
        engine.shutdown().await;
    }

    #[tokio::test]
    async fn a_zero_limit_is_refused_under_its_field_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, path) = limited_engine(dir.path()).await;
        let info = engine.backend_info("vllm").await.unwrap();
        for (rpm, tpm, field) in [
            (Some(0), None, BackendField::Rpm),
            (None, Some(0), BackendField::Tpm),
        ] {
            let draft = BackendDraft {
                rpm,
                tpm,
                ..draft_of(&info)
            };
            match engine.save_backend(draft, Some("vllm")).await {
                Err(err @ BackendOpError::Field { .. }) => {
                    assert_eq!(
                        crate::engine::Problem::field(&err),
                        Some(crate::engine::FormField::Backend(field))
                    );
                    assert!(err.to_string().contains("above 0"), "{err}");
                    assert!(err.to_string().ends_with("for no limit"), "{err}");
                }
                other => panic!("expected a field error, got {other:?}"),
            }
        }
        assert_eq!(std::fs::read_to_string(&path).unwrap(), LIMITED);
        // The window gets the field's name as its form spells it.
        assert_eq!(
            serde_json::to_string(&BackendField::Tpm).unwrap(),
            "\"tpm\""
        );
        engine.shutdown().await;
    }
}
