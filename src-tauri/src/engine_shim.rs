//! TEMPORARY stand-in for `switchyard_core::engine` while it is being written on main.
//! Same signatures as the real facade; keeps state in memory and runs no gateway.
//! Delete this module after merging main and import `switchyard_core::engine` instead.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use secrecy::SecretString;
use switchyard_core::config::{BackendConfig, BackendKind, Config, Profile, TargetSpec, RouteSpec};
use switchyard_core::usage::UsageRecord;
use tokio::sync::broadcast;

pub trait SecretStore: Send + Sync {}

#[derive(Default)]
pub struct MemorySecretStore;
impl SecretStore for MemorySecretStore {}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("invalid config: {0}")]
    InvalidConfig(String),
    #[error("unknown profile {0:?}")]
    UnknownProfile(String),
    #[error("keychain: {0}")]
    Secrets(String),
}

#[derive(Debug, Clone)]
pub enum EngineEvent {
    RequestFinished(Box<UsageRecord>),
    ProfileChanged(String),
}

pub struct EngineOptions {
    pub config_path: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

struct Inner {
    config: RwLock<Arc<Config>>,
    paused: AtomicBool,
    token: Mutex<String>,
    keys: Mutex<HashMap<String, SecretString>>,
    events: broadcast::Sender<EngineEvent>,
    config_path: PathBuf,
}

#[derive(Clone)]
pub struct Engine(Arc<Inner>);

fn sample_config() -> Config {
    let ollama = BackendConfig {
        id: "ollama".into(),
        kind: BackendKind::Ollama,
        base_url: "http://127.0.0.1:11434".into(),
        api_key_env: None,
        context_length: None,
        max_output_tokens: None,
        timeout_connect_s: 10,
        timeout_first_byte_s: 300,
        timeout_idle_s: 600,
        max_in_flight: 0,
        headers: Default::default(),
        recover_text_tool_calls: false,
    };
    let mut anthropic = ollama.clone();
    anthropic.id = "anthropic".into();
    anthropic.kind = BackendKind::Anthropic;
    anthropic.base_url = "https://api.anthropic.com".into();
    let mut profiles = std::collections::BTreeMap::new();
    profiles.insert(
        "local".into(),
        Profile {
            default: Some(RouteSpec::Target(TargetSpec {
                backend: "ollama".into(),
                model: Some("qwen2.5-coder:7b".into()),
                weight: None,
            })),
            rules: vec![],
        },
    );
    profiles.insert(
        "cloud".into(),
        Profile {
            default: Some(RouteSpec::Target(TargetSpec {
                backend: "anthropic".into(),
                model: None,
                weight: None,
            })),
            rules: vec![],
        },
    );
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 4747)),
        active_profile: "local".into(),
        max_body_mib: 32,
        backends: vec![ollama, anthropic],
        profiles,
    }
}

impl Engine {
    pub async fn start(
        opts: EngineOptions,
        _secrets: Arc<dyn SecretStore>,
    ) -> Result<Engine, EngineError> {
        let mut config = sample_config();
        if let Some(listen) = opts.listen {
            config.listen = listen;
        }
        let (events, _) = broadcast::channel(256);
        Ok(Engine(Arc::new(Inner {
            config: RwLock::new(Arc::new(config)),
            paused: AtomicBool::new(false),
            token: Mutex::new("sy-local-shim-token".into()),
            keys: Mutex::new(HashMap::new()),
            events,
            config_path: opts.config_path.unwrap_or_else(|| PathBuf::from("config.toml")),
        })))
    }
    pub fn listen_addr(&self) -> SocketAddr {
        self.config().listen
    }
    pub fn config(&self) -> Arc<Config> {
        match self.0.config.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
    pub fn config_path(&self) -> PathBuf {
        self.0.config_path.clone()
    }
    pub async fn update_config(&self, new: Config) -> Result<(), EngineError> {
        if !new.profiles.contains_key(&new.active_profile) {
            return Err(EngineError::InvalidConfig(format!(
                "active_profile {:?} is not defined",
                new.active_profile
            )));
        }
        match self.0.config.write() {
            Ok(mut c) => *c = Arc::new(new),
            Err(p) => *p.into_inner() = Arc::new(new),
        }
        Ok(())
    }
    pub async fn set_active_profile(&self, name: &str) -> Result<(), EngineError> {
        let mut cfg = (*self.config()).clone();
        if !cfg.profiles.contains_key(name) {
            return Err(EngineError::UnknownProfile(name.into()));
        }
        cfg.active_profile = name.into();
        self.update_config(cfg).await?;
        let _ = self.0.events.send(EngineEvent::ProfileChanged(name.into()));
        Ok(())
    }
    pub async fn local_token(&self) -> Result<String, EngineError> {
        Ok(self.0.token.lock().map(|t| t.clone()).unwrap_or_default())
    }
    pub async fn rotate_token(&self) -> Result<String, EngineError> {
        let new = format!("sy-local-shim-{}", std::process::id());
        if let Ok(mut t) = self.0.token.lock() {
            *t = new.clone();
        }
        Ok(new)
    }
    pub fn set_paused(&self, paused: bool) {
        self.0.paused.store(paused, Ordering::SeqCst);
    }
    pub fn is_paused(&self) -> bool {
        self.0.paused.load(Ordering::SeqCst)
    }
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.0.events.subscribe()
    }
    pub async fn set_backend_key(&self, id: &str, key: SecretString) -> Result<(), EngineError> {
        self.0
            .keys
            .lock()
            .map_err(|_| EngineError::Secrets("poisoned".into()))?
            .insert(id.into(), key);
        Ok(())
    }
    pub async fn delete_backend_key(&self, id: &str) -> Result<(), EngineError> {
        self.0
            .keys
            .lock()
            .map_err(|_| EngineError::Secrets("poisoned".into()))?
            .remove(id);
        Ok(())
    }
    pub async fn has_backend_key(&self, id: &str) -> Result<bool, EngineError> {
        Ok(self
            .0
            .keys
            .lock()
            .map_err(|_| EngineError::Secrets("poisoned".into()))?
            .contains_key(id))
    }
    pub async fn shutdown(self) {}
}
