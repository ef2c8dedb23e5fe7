//! The engine facade: what the CLI and the desktop app start and talk to. It owns the config
//! file, the local token, the gateway state and the HTTP server task.
//!
//! - `backends`: backends as operations (save with rename, delete with its routes, keys,
//!   checks); `backend_edits`: the pure config edits behind them.
//! - `import`: importing a LiteLLM config (`litellm::import_into` in the edit turn), from
//!   its text or from a file read with a size bound.

mod backend_edits;
mod backend_state;
mod backends;
mod captures;
mod claude_code;
mod error;
mod import;
mod keys;
mod problem;
mod profiles;
mod project_folder;
mod route_test;
mod settings;
mod setup;
mod status;
#[cfg(test)]
mod test_support;
mod today;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::{Mutex, broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::budget::SpendTotals;
use crate::cache::ResponseCache;
use crate::config::{self, Config};
use crate::gateway::{Gateway, GatewayParts};
use crate::metrics::Metrics;
use crate::secrets::{self, SecretStore, backend_account};
use crate::usage::{
    DB_FILE_NAME, Pricer, RequestRow, UsageReader, UsageRecord, UsageSink, UsageWriter,
    WriterOptions,
};

pub use crate::capture::CaptureOpError;
pub use crate::capture::CaptureStatus;
pub use crate::gateway::{EngineEvent, LastError};
pub use crate::proxy::replay::{ReplayAnswer, ReplayReport, ReplayTo};
pub use backend_edits::{Dependent, TargetRole};
pub use backend_state::{BackendState, KeyState};
pub use backends::{
    BackendDraft, BackendField, BackendInfo, BackendOpError, BackendRemoval, DeleteMode, KeySource,
};
pub use claude_code::{ClaudeCodeError, ClaudeEnv, ConfigureReport, EnvVar, RestoreReport};
pub use error::EngineError;
pub use import::{ImportFileError, LITELLM_FILE_LIMIT, read_litellm_file};
pub use keys::{KeyChange, KeyInfo, KeyOpError, add_key, check_keys, list_keys, remove_key};
pub use problem::{FormField, Problem, ProblemKind};
pub use profiles::{ProfileError, ProfileView, RouteView, RuleView};
pub use project_folder::{ProjectFolderError, ProjectReport};
pub use route_test::{RouteTestError, RouteTestResult};
pub use settings::{
    GatewaySettings, SettingsApplied, SettingsError, SettingsField, validate as validate_settings,
};
pub use setup::{FoundEngine, SetupError, SetupState};
pub use status::GatewayStatus;

#[derive(Default)]
pub struct EngineOptions {
    /// The config file; default: `SWITCHYARD_CONFIG`, else the OS config dir.
    pub config_path: Option<PathBuf>,
    /// Where the usage database lives; default: `SWITCHYARD_DATA_DIR`, else the OS data dir.
    pub data_dir: Option<PathBuf>,
    /// Listen here instead of the config's `listen`.
    pub listen: Option<SocketAddr>,
    /// Allow a non-loopback `listen` (headless use; prints a warning).
    pub allow_non_loopback: bool,
    /// Use this local token instead of the keychain's (`SWITCHYARD_TOKEN`).
    pub token: Option<SecretString>,
    /// Where finished requests are reported instead of the usage database (tests, tools).
    /// Budgets then see no spend: the usage writer is what keeps their totals.
    pub usage_sink: Option<Arc<dyn UsageSink>>,
    /// Base URLs probed for engines besides the usual local ports; default:
    /// `SWITCHYARD_DISCOVER_URLS` (comma-separated).
    pub discover_urls: Option<Vec<String>>,
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    gateway: Arc<Gateway>,
    token_from_env: bool,
    server: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    /// The usage writer and a reader of the database it writes.
    usage: Option<(Arc<UsageWriter>, Arc<UsageReader>)>,
    /// The OpenTelemetry exporter, when `[telemetry]` sets an endpoint.
    telemetry: Option<Arc<crate::telemetry::TelemetryExporter>>,
    today: today::TodayCache,
    edits: Mutex<()>,
    /// This start wrote the default config: the app greets a new user.
    first_run: bool,
    discover_urls: Vec<String>,
}

impl EngineOptions {
    /// The options a user sets through the environment: `SWITCHYARD_CONFIG`,
    /// `SWITCHYARD_DATA_DIR`, `SWITCHYARD_TOKEN` (pin the local token instead of the keychain's:
    /// headless machines and tests) and `SWITCHYARD_LISTEN` (an address instead of the
    /// config's `listen`). Empty values count as unset.
    pub fn from_env() -> Result<Self, EngineError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let listen = match var("SWITCHYARD_LISTEN") {
            Some(text) => Some(
                text.parse()
                    .map_err(|_| EngineError::BadListenVar(text.clone()))?,
            ),
            None => None,
        };
        Ok(EngineOptions {
            config_path: var("SWITCHYARD_CONFIG").map(PathBuf::from),
            data_dir: var("SWITCHYARD_DATA_DIR").map(PathBuf::from),
            token: var("SWITCHYARD_TOKEN").map(SecretString::from),
            listen,
            ..EngineOptions::default()
        })
    }
}

/// `data_dir`, else `SWITCHYARD_DATA_DIR`, else the OS data directory.
pub fn data_dir(explicit: Option<PathBuf>) -> Result<PathBuf, EngineError> {
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os("SWITCHYARD_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "switchyard")
        .map(|dirs| dirs.data_dir().to_owned())
        .ok_or(EngineError::NoDataDir)
}

impl Engine {
    /// Load (or create) the config, resolve the local token, bind the listener and start
    /// serving.
    pub async fn start(
        opts: EngineOptions,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<Engine, EngineError> {
        let config_path = match opts.config_path {
            Some(path) => path,
            None => config::default_config_path()?,
        };
        let path = config_path.clone();
        let (config, created) = tokio::task::spawn_blocking(move || config::load_or_create(&path))
            .await
            .map_err(EngineError::join)??;
        if created {
            tracing::info!(path = %config_path.display(), "wrote the default config");
        }
        // Each connection and upstream socket is a file: the usual soft limit of 1,024 is
        // reached by a few hundred streams. The hard limit is the OS's to set.
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(limit) => tracing::debug!(limit, "open-file limit"),
            Err(err) => tracing::debug!(%err, "cannot raise the open-file limit"),
        }
        let listen = opts.listen.unwrap_or(config.listen);
        if !listen.ip().is_loopback() {
            if !opts.allow_non_loopback {
                return Err(EngineError::NonLoopback(listen));
            }
            tracing::warn!(%listen, "listening on a non-loopback address: anyone who can reach it and knows the token can use your backends");
        }
        let token_from_env = opts.token.is_some();
        let token = match opts.token {
            Some(token) => token,
            None => {
                let store = secrets.clone();
                tokio::task::spawn_blocking(move || secrets::local_token(store.as_ref()))
                    .await
                    .map_err(EngineError::join)??
            }
        };
        // The tokenizer's table takes ~10 ms to build: not on the first request. It also
        // keeps ~7 MB resident, so a gateway with only pass-through backends (which count
        // nothing themselves) never builds it.
        if config.backends.iter().any(|b| {
            matches!(
                b.kind,
                config::BackendKind::OpenaiChat | config::BackendKind::Ollama
            )
        }) {
            tokio::task::spawn_blocking(crate::tokens::warm_up);
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| EngineError::Bind {
                addr: listen,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| EngineError::Bind {
            addr: listen,
            source,
        })?;
        let metrics = Arc::new(Metrics::default());
        let spend = Arc::new(SpendTotals::default());
        // Optional OpenTelemetry export (telemetry/): a span per request, put around whichever
        // sink records; none without `[telemetry] otlp_endpoint`.
        let telemetry = crate::telemetry::start(&config);
        let mut usage_note = None;
        // The response cache lives in the usage database. An engine that records elsewhere
        // (tests, tools) has one only when given a data dir explicitly: it must not write into
        // the user's own.
        let mut cache_db = match (&opts.usage_sink, &opts.data_dir) {
            (Some(_), Some(dir)) => Some(dir.join(DB_FILE_NAME)),
            _ => None,
        };
        let (sink, usage): (Arc<dyn UsageSink>, _) = match opts.usage_sink {
            Some(sink) => (sink, None),
            None => {
                let path = data_dir(opts.data_dir)?.join(DB_FILE_NAME);
                let db = path.clone();
                let options = WriterOptions {
                    retention_days: config.usage.retention_days,
                    ..Default::default()
                };
                let pricer = Pricer::from_config(&config);
                let (m, s) = (metrics.clone(), spend.clone());
                let started = tokio::task::spawn_blocking(move || {
                    let (store, note) =
                        crate::usage::open_or_recover(&path, crate::usage::now_ms())?;
                    Ok::<_, crate::usage::UsageError>((
                        UsageWriter::start(store, options, pricer, m, s)?,
                        note,
                    ))
                })
                .await
                .map_err(EngineError::join)?;
                match started {
                    Ok((writer, note)) => {
                        usage_note = note;
                        cache_db = Some(db.clone());
                        (writer.clone(), Some((writer, UsageReader::new(db))))
                    }
                    // A database this version cannot use (newer, unreadable) must not keep
                    // requests from flowing: they are routed, not recorded, and the app says so.
                    Err(err) => {
                        tracing::error!(%err, "requests will not be recorded");
                        usage_note = Some(format!(
                            "Requests are not being recorded: {}",
                            crate::engine::Problem::sentence(&err)
                        ));
                        (Arc::new(()) as Arc<dyn UsageSink>, None)
                    }
                }
            }
        };
        // Captures go where the cache goes (the usage database, or none).
        let capture_db = cache_db.clone();
        let cache = match cache_db {
            Some(path) => {
                let settings = config.cache.clone();
                let opened =
                    tokio::task::spawn_blocking(move || ResponseCache::open(&path, &settings))
                        .await
                        .map_err(EngineError::join)?;
                match opened {
                    Ok(cache) => Some(cache),
                    // Requests flow without it: every one is a miss.
                    Err(err) => {
                        tracing::warn!(%err, "the response cache is not available");
                        None
                    }
                }
            }
            None => None,
        };
        let captures = match &capture_db {
            Some(path) => {
                let (path, settings) = (path.clone(), config.capture.clone());
                let opened = tokio::task::spawn_blocking(move || {
                    crate::capture::Captures::open(&path, &settings)
                })
                .await
                .map_err(EngineError::join)?;
                match opened {
                    Ok(captures) => Some(captures),
                    // Requests flow without it: nothing is captured, and the app says why.
                    Err(err) => {
                        tracing::warn!(%err, "request capture is not available");
                        None
                    }
                }
            }
            None => None,
        };
        let gateway = Gateway::new(GatewayParts {
            cache,
            captures,
            config,
            config_path,
            listen: local,
            allow_any_host: opts.allow_non_loopback && !listen.ip().is_loopback(),
            token,
            secrets,
            sink: crate::telemetry::wrap(sink, telemetry.as_ref()),
            telemetry: telemetry.clone(),
            metrics,
            spend,
        });
        if let Some((writer, _)) = &usage {
            follow_config(&gateway, writer.clone());
        }
        if let Some(telemetry) = &telemetry {
            telemetry.attach(&gateway);
        }
        gateway.set_usage_note(usage_note);
        let app = crate::server::router(gateway.clone());
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crate::server::serve(listener, app, stop_rx));
        Ok(Engine {
            inner: Arc::new(Inner {
                gateway,
                token_from_env,
                server: Mutex::new(Some((stop_tx, task))),
                usage,
                telemetry,
                first_run: created,
                today: Default::default(),
                edits: Mutex::new(()),
                discover_urls: opts
                    .discover_urls
                    .unwrap_or_else(setup::discover_urls_from_env),
            }),
        })
    }

    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.inner.gateway
    }

    pub fn listen_addr(&self) -> SocketAddr {
        self.inner.gateway.listen()
    }

    pub fn config(&self) -> Arc<Config> {
        self.inner.gateway.config()
    }

    pub fn config_path(&self) -> PathBuf {
        self.inner.gateway.config_path().to_owned()
    }

    /// One edit of the config at a time in this engine: an operation takes its turn, reads the
    /// config, changes it and saves it ([`Engine::update_config`]) before the next one reads.
    pub async fn edit_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.edits.lock().await
    }

    /// Validate `new` (an edit of `base`, read in this edit turn), save it atomically, then
    /// apply it to the next requests. When the file changed under us (another program wrote
    /// it), nothing is written: the engine takes the file as it is and says so.
    pub async fn update_config(&self, base: &Config, new: Config) -> Result<(), EngineError> {
        let path = self.config_path();
        let (base, saved) = (base.clone(), new.clone());
        let result =
            tokio::task::spawn_blocking(move || match config::save_edit(&path, &base, &saved) {
                Err(config::ConfigError::ChangedOnDisk { path }) => Err((
                    config::load(&path).ok().map(Box::new),
                    config::ConfigError::ChangedOnDisk { path },
                )),
                other => other.map_err(|err| (None, err)),
            })
            .await
            .map_err(EngineError::join)?;
        match result {
            Ok(()) => {
                self.inner.gateway.set_config(new);
                Ok(())
            }
            Err((fresh, err)) => {
                if let Some(fresh) = fresh {
                    self.inner.gateway.set_config(*fresh);
                }
                Err(err.into())
            }
        }
    }

    pub async fn set_active_profile(&self, name: &str) -> Result<(), EngineError> {
        let _turn = self.edit_turn().await;
        Ok(self.inner.gateway.switch_profile(name).await?)
    }

    pub fn local_token(&self) -> SecretString {
        SecretString::from(
            secrecy::ExposeSecret::expose_secret(&*self.inner.gateway.token()).to_owned(),
        )
    }

    /// A new local token, stored in the keychain and used from the next request on.
    pub async fn rotate_token(&self) -> Result<SecretString, EngineError> {
        if self.inner.token_from_env {
            return Err(EngineError::TokenFromEnv);
        }
        let store = self.inner.gateway.secrets().clone();
        let token =
            tokio::task::spawn_blocking(move || secrets::rotate_local_token(store.as_ref()))
                .await
                .map_err(EngineError::join)??;
        self.inner.gateway.set_token(SecretString::from(
            secrecy::ExposeSecret::expose_secret(&token).to_owned(),
        ));
        Ok(token)
    }

    pub fn set_paused(&self, paused: bool) {
        self.inner.gateway.set_paused(paused);
    }

    pub fn is_paused(&self) -> bool {
        self.inner.gateway.is_paused()
    }

    /// The latest failed request while nothing succeeded since (cleared by pause and resume).
    pub fn last_error(&self) -> Option<LastError> {
        self.inner.gateway.last_error()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.gateway.subscribe()
    }

    pub async fn set_backend_key(
        &self,
        backend_id: &str,
        key: SecretString,
    ) -> Result<(), EngineError> {
        let store = self.inner.gateway.secrets().clone();
        let account = backend_account(backend_id);
        tokio::task::spawn_blocking(move || store.set(&account, &key))
            .await
            .map_err(EngineError::join)??;
        self.inner.gateway.forget_keys();
        Ok(())
    }

    pub async fn delete_backend_key(&self, backend_id: &str) -> Result<bool, EngineError> {
        let store = self.inner.gateway.secrets().clone();
        let account = backend_account(backend_id);
        let deleted = tokio::task::spawn_blocking(move || store.delete(&account))
            .await
            .map_err(EngineError::join)??;
        self.inner.gateway.forget_keys();
        Ok(deleted)
    }

    pub async fn has_backend_key(&self, backend_id: &str) -> Result<bool, EngineError> {
        let store = self.inner.gateway.secrets().clone();
        let account = backend_account(backend_id);
        let key = tokio::task::spawn_blocking(move || store.get(&account))
            .await
            .map_err(EngineError::join)??;
        Ok(key.is_some())
    }

    /// What the OpenTelemetry exporter did so far (spans exported, dropped, failed); `None`
    /// when `[telemetry]` sets no endpoint.
    pub fn telemetry_counts(&self) -> Option<crate::telemetry::TelemetryCounts> {
        self.inner.telemetry.as_ref().map(|t| t.counts())
    }

    /// The usage writer, when the engine records to its database.
    pub fn usage_writer(&self) -> Option<&Arc<UsageWriter>> {
        self.inner.usage.as_ref().map(|(writer, _)| writer)
    }

    /// The row a just-finished request will have in the usage history, priced the way the
    /// writer prices it, so a live view and the stored history agree.
    pub fn live_row(&self, record: UsageRecord) -> RequestRow {
        RequestRow::from(Pricer::from_config(&self.config()).price(record))
    }

    /// Has the usage writer commit what it holds (it batches for up to 250 ms), so a read right
    /// after sees the requests that just finished. Nothing to do without a writer.
    pub async fn flush_usage(&self) -> Result<(), EngineError> {
        if let Some(writer) = self.usage_writer().cloned() {
            tokio::task::spawn_blocking(move || writer.flush())
                .await
                .map_err(EngineError::join)??;
        }
        Ok(())
    }

    /// A read-only view of the usage database this engine writes (the app's screens read
    /// through it); `None` when the engine records elsewhere.
    pub fn usage_reader(&self) -> Option<Arc<UsageReader>> {
        self.inner.usage.as_ref().map(|(_, reader)| reader.clone())
    }

    /// [`Engine::usage_reader`] for a screen that needs the history: an error without one.
    pub fn usage_history(&self) -> Result<Arc<UsageReader>, EngineError> {
        self.usage_reader().ok_or(EngineError::NoUsageHistory)
    }

    /// Stop accepting connections, let in-flight requests finish, stop the server task, send
    /// the telemetry spans still queued (a few seconds at most), then write every buffered
    /// usage row.
    pub async fn shutdown(&self) {
        let server = self.inner.server.lock().await.take();
        if let Some((stop, task)) = server {
            let _ = stop.send(());
            let _ = task.await;
        }
        if let Some(telemetry) = &self.inner.telemetry {
            telemetry.shutdown().await;
        }
        if let Some(writer) = self.usage_writer().cloned() {
            let _ = tokio::task::spawn_blocking(move || writer.shutdown()).await;
        }
        if let Some(cache) = self.inner.gateway.cache().cloned() {
            let _ = tokio::task::spawn_blocking(move || cache.shutdown()).await;
        }
    }

    /// Has the response cache's writer commit the answers it holds, so that a new engine on
    /// the same data dir (or a reader of the database) finds them. They are served from
    /// memory meanwhile; nothing to do without a cache.
    pub async fn flush_cache(&self) -> Result<(), EngineError> {
        if let Some(cache) = self.inner.gateway.cache().cloned() {
            tokio::task::spawn_blocking(move || cache.flush())
                .await
                .map_err(EngineError::join)?;
        }
        Ok(())
    }
}

/// Keep the usage writer's prices, backends and retention in step with config changes.
fn follow_config(gateway: &Arc<Gateway>, writer: Arc<UsageWriter>) {
    let mut events = gateway.subscribe();
    let gateway = Arc::downgrade(gateway);
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(EngineEvent::ConfigChanged) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    match gateway.upgrade() {
                        Some(gateway) => writer.set_config(&gateway.config()),
                        None => return,
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}
