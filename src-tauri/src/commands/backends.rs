//! Backends screen: list, add/edit/delete, provider keys (to the keychain), test and discovery.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::config::{BackendConfig, BackendKind};
use tauri::State;

use crate::error::{CmdResult, CommandError};
use crate::state::SharedState;

/// Mirrors `switchyard_core::config::BackendKind` for the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Anthropic,
    OpenaiChat,
    Ollama,
}

impl From<BackendKind> for Kind {
    fn from(k: BackendKind) -> Self {
        match k {
            BackendKind::Anthropic => Kind::Anthropic,
            BackendKind::OpenaiChat => Kind::OpenaiChat,
            BackendKind::Ollama => Kind::Ollama,
        }
    }
}
impl From<Kind> for BackendKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Anthropic => BackendKind::Anthropic,
            Kind::OpenaiChat => BackendKind::OpenaiChat,
            Kind::Ollama => BackendKind::Ollama,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// A key is stored in the OS keychain under this backend's id.
    Keychain,
    /// The key is read from an environment variable (`api_key_env`).
    Env,
    None,
}

/// A backend as the window sees it. Never carries the key itself.
#[derive(Debug, Clone, Serialize, Type)]
pub struct BackendView {
    pub id: String,
    pub kind: Kind,
    pub base_url: String,
    pub api_key_env: Option<String>,
    pub key: KeySource,
    pub context_length: Option<u32>,
    pub max_output_tokens: Option<u32>,
    pub timeout_first_byte_s: u64,
    pub max_in_flight: u32,
    pub local: bool,
}

/// What the form sends to create or edit a backend.
#[derive(Debug, Clone, Deserialize, Type)]
pub struct BackendInput {
    pub id: String,
    pub kind: Kind,
    pub base_url: String,
    pub api_key_env: Option<String>,
    pub context_length: Option<u32>,
    pub max_output_tokens: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct DiscoveredModel {
    pub id: String,
    pub context_length: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct BackendTestResult {
    pub ok: bool,
    pub latency_ms: u64,
    /// What happened, in one sentence the user can act on.
    pub message: String,
    pub models: Vec<DiscoveredModel>,
}

/// A backend is "local" when its URL points at this machine or the private network: the
/// same rule the usage writer prices by, so Backends and Usage agree.
pub(crate) use switchyard_core::pricing::is_local_url;

async fn view_of(state: &SharedState, b: &BackendConfig) -> BackendView {
    let key = if b.api_key_env.is_some() {
        KeySource::Env
    } else if state.engine.has_backend_key(&b.id).await.unwrap_or(false) {
        KeySource::Keychain
    } else {
        KeySource::None
    };
    BackendView {
        id: b.id.clone(),
        kind: b.kind.into(),
        base_url: b.base_url.clone(),
        api_key_env: b.api_key_env.clone(),
        key,
        context_length: b.context_length,
        max_output_tokens: b.max_output_tokens,
        timeout_first_byte_s: b.timeout_first_byte_s,
        max_in_flight: b.max_in_flight,
        local: is_local_url(&b.base_url),
    }
}

fn validate(input: &BackendInput) -> CmdResult<()> {
    let id_ok = !input.id.is_empty()
        && input.id.len() <= 64
        && input
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !id_ok {
        return Err(CommandError::invalid(
            "The id must be 1-64 characters: letters, digits, '-', '_' or '.'",
        ));
    }
    let url = input.base_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
        return Err(CommandError::invalid(
            "The base URL must start with http:// or https://, e.g. http://127.0.0.1:11434",
        ));
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn list_backends(state: State<'_, SharedState>) -> CmdResult<Vec<BackendView>> {
    let cfg = state.engine.config();
    let mut out = Vec::with_capacity(cfg.backends.len());
    for b in &cfg.backends {
        out.push(view_of(&state, b).await);
    }
    Ok(out)
}

/// Creates a backend, or replaces the one called `original_id` (which may be renamed).
#[tauri::command]
#[specta::specta]
pub async fn save_backend(
    state: State<'_, SharedState>,
    input: BackendInput,
    original_id: Option<String>,
) -> CmdResult<BackendView> {
    validate(&input)?;
    let mut cfg = (*state.engine.config()).clone();
    let clash = cfg
        .backends
        .iter()
        .any(|b| b.id == input.id && Some(&b.id) != original_id.as_ref());
    if clash {
        return Err(CommandError::invalid(format!(
            "A backend called {:?} already exists",
            input.id
        )));
    }
    let existing = original_id
        .as_ref()
        .and_then(|id| cfg.backends.iter().position(|b| &b.id == id));
    let mut backend = match existing {
        Some(i) => cfg.backends[i].clone(),
        None => new_backend(&input)?,
    };
    backend.id = input.id.clone();
    backend.kind = input.kind.into();
    backend.base_url = input.base_url.trim().trim_end_matches('/').to_string();
    backend.api_key_env = input.api_key_env.filter(|s| !s.trim().is_empty());
    backend.context_length = input.context_length;
    backend.max_output_tokens = input.max_output_tokens;
    match existing {
        Some(i) => {
            let old_id = cfg.backends[i].id.clone();
            cfg.backends[i] = backend.clone();
            if old_id != backend.id {
                rename_in_profiles(&mut cfg, &old_id, &backend.id);
            }
        }
        None => cfg.backends.push(backend.clone()),
    }
    state.engine.update_config(cfg).await?;
    Ok(view_of(&state, &backend).await)
}

/// A backend with the config file's defaults for everything the form does not set (built
/// through serde so new fields in the schema get their defaults without touching this code).
fn new_backend(input: &BackendInput) -> CmdResult<BackendConfig> {
    #[derive(Serialize)]
    struct Minimal<'a> {
        id: &'a str,
        kind: BackendKind,
        base_url: &'a str,
    }
    serde_json::to_value(Minimal {
        id: &input.id,
        kind: input.kind.into(),
        base_url: &input.base_url,
    })
    .and_then(serde_json::from_value)
    .map_err(|e| CommandError::new(crate::error::ErrorKind::Engine, e.to_string()))
}

fn rename_in_profiles(cfg: &mut switchyard_core::config::Config, from: &str, to: &str) {
    use switchyard_core::config::RouteSpec;
    let fix = |t: &mut switchyard_core::config::TargetSpec| {
        if t.backend == from {
            t.backend = to.to_string();
        }
    };
    for p in cfg.profiles.values_mut() {
        match &mut p.default {
            Some(RouteSpec::Target(t)) => fix(t),
            Some(RouteSpec::Route { targets, fallbacks }) => {
                targets.iter_mut().chain(fallbacks.iter_mut()).for_each(fix)
            }
            None => {}
        }
        for r in &mut p.rules {
            r.targets
                .iter_mut()
                .chain(r.fallbacks.iter_mut())
                .for_each(fix);
        }
    }
}

#[tauri::command]
#[specta::specta]
pub async fn delete_backend(state: State<'_, SharedState>, id: String) -> CmdResult<()> {
    let mut cfg = (*state.engine.config()).clone();
    let before = cfg.backends.len();
    cfg.backends.retain(|b| b.id != id);
    if cfg.backends.len() == before {
        return Err(CommandError::not_found(format!("No backend called {id:?}")));
    }
    state.engine.update_config(cfg).await?;
    // The key is useless without its backend; a failure here only leaves an orphan entry.
    let _ = state.engine.delete_backend_key(&id).await;
    Ok(())
}

/// Stores the key in the OS keychain. The key never comes back over IPC.
#[tauri::command]
#[specta::specta]
pub async fn set_backend_key(
    state: State<'_, SharedState>,
    id: String,
    key: String,
) -> CmdResult<BackendView> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(CommandError::invalid("The key is empty"));
    }
    let cfg = state.engine.config();
    let backend = cfg
        .backend(&id)
        .ok_or_else(|| CommandError::not_found(format!("No backend called {id:?}")))?;
    state
        .engine
        .set_backend_key(&id, SecretString::from(key))
        .await?;
    Ok(view_of(&state, backend).await)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_backend_key(
    state: State<'_, SharedState>,
    id: String,
) -> CmdResult<BackendView> {
    let cfg = state.engine.config();
    let backend = cfg
        .backend(&id)
        .ok_or_else(|| CommandError::not_found(format!("No backend called {id:?}")))?;
    state.engine.delete_backend_key(&id).await?;
    Ok(view_of(&state, backend).await)
}

/// Probes a saved backend: reachability, auth, and the models it serves.
#[tauri::command]
#[specta::specta]
pub async fn test_backend(
    state: State<'_, SharedState>,
    id: String,
) -> CmdResult<BackendTestResult> {
    let cfg = state.engine.config();
    let backend = cfg
        .backend(&id)
        .ok_or_else(|| CommandError::not_found(format!("No backend called {id:?}")))?
        .clone();
    let started = Instant::now();
    let result = crate::probe::list_models(&backend, Duration::from_secs(10)).await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(match result {
        Ok(models) => BackendTestResult {
            ok: true,
            latency_ms,
            message: format!("Reachable: {} model(s) available", models.len()),
            models,
        },
        Err(message) => BackendTestResult {
            ok: false,
            latency_ms,
            message,
            models: vec![],
        },
    })
}

#[tauri::command]
#[specta::specta]
pub async fn discover_models(
    state: State<'_, SharedState>,
    id: String,
) -> CmdResult<Vec<DiscoveredModel>> {
    let cfg = state.engine.config();
    let backend = cfg
        .backend(&id)
        .ok_or_else(|| CommandError::not_found(format!("No backend called {id:?}")))?
        .clone();
    crate::probe::list_models(&backend, Duration::from_secs(10))
        .await
        .map_err(CommandError::upstream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls_are_recognised() {
        assert!(is_local_url("http://127.0.0.1:11434"));
        assert!(is_local_url("http://localhost:8000/v1"));
        assert!(is_local_url("http://[::1]:8080"));
        assert!(!is_local_url("https://api.anthropic.com"));
        assert!(!is_local_url("https://localhost.evil.example"));
    }

    #[test]
    fn ids_and_urls_are_validated() {
        let ok = BackendInput {
            id: "my-vllm".into(),
            kind: Kind::OpenaiChat,
            base_url: "http://127.0.0.1:8000/v1".into(),
            api_key_env: None,
            context_length: None,
            max_output_tokens: None,
        };
        assert!(validate(&ok).is_ok());
        let bad_id = BackendInput {
            id: "has space".into(),
            ..ok.clone()
        };
        assert!(validate(&bad_id).is_err());
        let bad_url = BackendInput {
            base_url: "127.0.0.1:8000".into(),
            ..ok
        };
        let err = validate(&bad_url)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("http://"), "{err}");
    }
}
