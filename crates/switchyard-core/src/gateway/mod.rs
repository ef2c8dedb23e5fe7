//! The gateway's shared state: live config, local token, provider keys (cached from the
//! keychain), HTTP clients, per-backend concurrency limits, cooldowns, the usage sink.

mod keys;

pub use keys::{KeyCache, KeyHealth, NoKey, PickedKey};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use secrecy::SecretString;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, oneshot};

use crate::budget::SpendTotals;
use crate::cache::ResponseCache;
use crate::config::{BackendConfig, Config};
use crate::discovery::ContextLengths;
use crate::metrics::Metrics;
use crate::routing::{Cooldowns, Load, RateLimits};
use crate::secrets::SecretStore;
use crate::usage::{RequestStatus, UsageRecord, UsageSink};

/// Something that happened in the engine, for the desktop app and other observers.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    RequestFinished(Box<UsageRecord>),
    ProfileChanged(String),
    ConfigChanged,
    PausedChanged(bool),
    /// Today's counters changed (see `Engine::follow_today`): requests were committed to the
    /// usage database, or another process wrote to it, or the day rolled over.
    UsageStored,
}

pub struct Gateway {
    config: ArcSwap<Config>,
    config_path: PathBuf,
    listen: SocketAddr,
    allow_any_host: bool,
    token: ArcSwap<SecretString>,
    secrets: Arc<dyn SecretStore>,
    keys: keys::KeyCache,
    /// Bedrock and Vertex credentials found outside the keychain, and Vertex access tokens.
    cloud: crate::cloud::CloudAuth,
    clients: Mutex<HashMap<u64, reqwest::Client>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
    pub cooldowns: Cooldowns,
    /// Each backend's last minute, for its `rpm` / `tpm` (kept across config edits, which
    /// would otherwise let a burst through).
    pub rate_limits: RateLimits,
    /// In-flight requests, moving latency and this minute's tokens, for the balancing
    /// strategies.
    pub load: Load,
    /// Models' context windows: the config's override, else what the engine reports.
    pub context_lengths: ContextLengths,
    sink: Arc<dyn UsageSink>,
    /// The response cache, when the engine has a usage database to keep it in.
    cache: Option<Arc<ResponseCache>>,
    /// The request inspector's captures, in the same database.
    captures: Option<Arc<crate::capture::Captures>>,
    telemetry: Option<Arc<crate::telemetry::TelemetryExporter>>,
    /// What happened to the usage database at start (moved aside, or unusable).
    usage_note: Mutex<Option<String>>,
    metrics: Arc<Metrics>,
    spend: Arc<SpendTotals>,
    paused: AtomicBool,
    last_error: Mutex<Option<LastError>>,
    /// Route tests waiting for the record of their request (by the id they sent in
    /// [`ROUTE_TEST_HEADER`]), so a test learns which backend answered *its* request.
    route_tests: Mutex<HashMap<String, oneshot::Sender<UsageRecord>>>,
    events: broadcast::Sender<EngineEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum SwitchProfileError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("an internal task failed: {0}")]
    Task(String),
}

/// The header a route test sends its id in (see [`Gateway::expect_route_test`]).
pub const ROUTE_TEST_HEADER: &str = "x-switchyard-route-test";

/// The latest failed request, while it is the latest news: a request that succeeds after it,
/// or a pause or resume of the gateway, clears it (an error from yesterday is not a status).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LastError {
    pub at_ms: i64,
    pub requested_model: String,
    pub backend: Option<String>,
    pub message: String,
}

pub struct GatewayParts {
    pub config: Config,
    pub config_path: PathBuf,
    pub listen: SocketAddr,
    pub allow_any_host: bool,
    pub token: SecretString,
    pub secrets: Arc<dyn SecretStore>,
    pub sink: Arc<dyn UsageSink>,
    /// The response cache (used by the profiles that turn it on).
    pub cache: Option<Arc<ResponseCache>>,
    /// Where captured requests go (none: nothing is captured).
    pub captures: Option<Arc<crate::capture::Captures>>,
    /// The OpenTelemetry exporter, which takes a captured request's bodies when its spans
    /// carry them.
    pub telemetry: Option<Arc<crate::telemetry::TelemetryExporter>>,
    /// Counters behind `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// Spend so far per day/month, for budgets (kept up to date by the usage writer).
    pub spend: Arc<SpendTotals>,
}

impl Gateway {
    pub fn new(parts: GatewayParts) -> Arc<Self> {
        let (events, _) = broadcast::channel(256);
        Arc::new(Gateway {
            config: ArcSwap::from_pointee(parts.config),
            config_path: parts.config_path,
            listen: parts.listen,
            allow_any_host: parts.allow_any_host,
            token: ArcSwap::from_pointee(parts.token),
            secrets: parts.secrets,
            keys: keys::KeyCache::default(),
            cloud: crate::cloud::CloudAuth::default(),
            clients: Mutex::new(HashMap::new()),
            limits: Mutex::new(HashMap::new()),
            cooldowns: Cooldowns::default(),
            rate_limits: RateLimits::default(),
            load: Load::default(),
            context_lengths: ContextLengths::default(),
            sink: parts.sink,
            cache: parts.cache,
            captures: parts.captures,
            telemetry: parts.telemetry,
            usage_note: Mutex::new(None),
            metrics: parts.metrics,
            spend: parts.spend,
            paused: AtomicBool::new(false),
            last_error: Mutex::new(None),
            route_tests: Mutex::new(HashMap::new()),
            events,
        })
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    pub fn config_path(&self) -> &std::path::Path {
        &self.config_path
    }

    /// Apply a new (already validated and saved) config to the next requests.
    pub fn set_config(&self, config: Config) {
        let profile_changed = self.config.load().active_profile != config.active_profile;
        let profile = config.active_profile.clone();
        if let Some(captures) = &self.captures {
            captures.configure(&config.capture);
        }
        if let Some(cache) = &self.cache {
            cache.configure(&config.cache);
        }
        self.config.store(Arc::new(config));
        self.keys.clear();
        self.cloud.clear();
        self.context_lengths.clear();
        self.emit(EngineEvent::ConfigChanged);
        if profile_changed {
            self.emit(EngineEvent::ProfileChanged(profile));
        }
    }

    /// Switch the active profile: persisted in the config file (comments kept), then applied.
    pub async fn switch_profile(&self, name: &str) -> Result<(), SwitchProfileError> {
        let path = self.config_path.clone();
        let name = name.to_owned();
        let config =
            tokio::task::spawn_blocking(move || crate::config::set_active_profile(&path, &name))
                .await
                .map_err(|e| SwitchProfileError::Task(e.to_string()))??;
        self.set_config(config);
        Ok(())
    }

    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    pub fn allow_any_host(&self) -> bool {
        self.allow_any_host
    }

    pub fn token(&self) -> Arc<SecretString> {
        self.token.load_full()
    }

    pub fn set_token(&self, token: SecretString) {
        self.token.store(Arc::new(token));
    }

    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }

    pub fn set_paused(&self, paused: bool) {
        if self.paused.swap(paused, Ordering::Relaxed) != paused {
            *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = None;
            self.emit(EngineEvent::PausedChanged(paused));
        }
    }

    pub fn set_usage_note(&self, note: Option<String>) {
        *self.usage_note.lock().unwrap_or_else(|e| e.into_inner()) = note;
    }

    /// Why the usage history is not (or was not) recorded as it should be, as a sentence.
    pub fn usage_warning(&self) -> Option<String> {
        self.sink.problem().or_else(|| {
            self.usage_note
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    pub fn emit(&self, event: EngineEvent) {
        // No subscriber is fine: the GUI may not be open.
        let _ = self.events.send(event);
    }

    /// The response cache, when there is one (whether a request uses it is the config's say:
    /// `Config::caches`).
    pub fn cache(&self) -> Option<&Arc<ResponseCache>> {
        self.cache.as_ref()
    }

    /// The OpenTelemetry exporter, when `[telemetry]` sets an endpoint.
    pub fn telemetry(&self) -> Option<&Arc<crate::telemetry::TelemetryExporter>> {
        self.telemetry.as_ref()
    }

    /// The capture store, when there is one.
    pub fn captures(&self) -> Option<&Arc<crate::capture::Captures>> {
        self.captures.as_ref()
    }

    /// Whether capture is available, the window, and the profiles that capture everything.
    pub fn capture_status(&self) -> crate::capture::CaptureStatus {
        let store = self.captures.as_ref();
        crate::capture::CaptureStatus {
            available: store.is_some(),
            window: store.map_or(
                crate::capture::CaptureWindowState {
                    until_ms: None,
                    requests_left: None,
                },
                |s| s.window.state(crate::usage::now_ms()),
            ),
            profiles: self
                .config()
                .profiles
                .iter()
                .filter(|(_, p)| p.capture)
                .map(|(name, _)| name.clone())
                .collect(),
            dropped: store.map_or(0, |s| s.dropped()),
        }
    }

    /// Whether a request under `profile` is captured: the profile says so, or a capture
    /// window is open (which this request then counts against).
    pub fn captures_request(&self, config: &Config, profile: &str) -> bool {
        let Some(captures) = &self.captures else {
            return false;
        };
        config.profiles.get(profile).is_some_and(|p| p.capture)
            || captures.window.take(crate::usage::now_ms())
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn spend(&self) -> &Arc<SpendTotals> {
        &self.spend
    }

    /// Report a finished request to the metrics, the usage sink and observers.
    pub fn record(&self, record: UsageRecord) {
        self.metrics.observe(&record);
        self.note_outcome(&record);
        if self.events.receiver_count() > 0 {
            self.emit(EngineEvent::RequestFinished(Box::new(record.clone())));
        }
        self.sink.record(record);
    }

    fn note_outcome(&self, record: &UsageRecord) {
        let next = match record.status {
            RequestStatus::Ok => None,
            RequestStatus::Error => Some(LastError {
                at_ms: record.started_at_ms,
                requested_model: record.requested_model.clone(),
                backend: record.backend.clone(),
                message: record.error_message.clone().unwrap_or_else(|| {
                    format!("the request failed with HTTP {}", record.http_status)
                }),
            }),
            // The client gave up: says nothing about the gateway or the backend.
            RequestStatus::Cancelled => return,
        };
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = next;
    }

    /// The latest failed request, unless something succeeded since (or the gateway was paused
    /// or resumed).
    pub fn last_error(&self) -> Option<LastError> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Registers a route test: the record of the request that carries `id` in
    /// [`ROUTE_TEST_HEADER`] is sent to the returned receiver. Unknown ids are ignored, so a
    /// client cannot use the header for anything.
    pub fn expect_route_test(&self, id: &str) -> oneshot::Receiver<UsageRecord> {
        let (tx, rx) = oneshot::channel();
        self.route_tests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), tx);
        rx
    }

    /// Forget a route test that gave up waiting.
    pub fn forget_route_test(&self, id: &str) {
        self.route_tests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    pub(crate) fn finish_route_test(&self, id: &str, record: &UsageRecord) {
        let waiting = self
            .route_tests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if let Some(tx) = waiting {
            let _ = tx.send(record.clone());
        }
    }

    /// The HTTP client for a backend (one per connect timeout, sharing connection pools).
    pub fn client(&self, backend: &BackendConfig) -> reqwest::Client {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .entry(backend.timeout_connect_s)
            .or_insert_with(|| {
                crate::net::client(
                    reqwest::Client::builder()
                        .connect_timeout(Duration::from_secs(backend.timeout_connect_s))
                        .pool_idle_timeout(Duration::from_secs(90))
                        // A burst of 1,000 requests left 1,000 idle sockets open otherwise.
                        .pool_max_idle_per_host(32)
                        .tcp_nodelay(true),
                )
            })
            .clone()
    }

    /// Wait for a slot when the backend has `max_in_flight`; hold the permit for the whole
    /// request, stream included.
    pub async fn permit(&self, backend: &BackendConfig) -> Option<OwnedSemaphorePermit> {
        if backend.max_in_flight == 0 {
            return None;
        }
        let semaphore = {
            let mut limits = self.limits.lock().unwrap_or_else(|e| e.into_inner());
            let slots = backend.max_in_flight as usize;
            let entry = limits
                .entry(backend.id.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(slots)));
            if entry.available_permits() > slots {
                *entry = Arc::new(Semaphore::new(slots));
            }
            entry.clone()
        };
        semaphore.acquire_owned().await.ok()
    }

    /// The provider key for a backend: `api_key_env` if set, else the keychain (cached).
    pub async fn backend_key(
        &self,
        backend: &BackendConfig,
    ) -> Result<Option<Arc<SecretString>>, crate::anthropic::ApiError> {
        self.keys.get(backend, &self.secrets).await
    }

    /// The key for the next request to `backend`: its only key, or the next usable one of
    /// its pool.
    pub async fn pick_key(&self, backend: &BackendConfig) -> Result<PickedKey, NoKey> {
        self.keys
            .pick(backend, &self.secrets, std::time::Instant::now())
            .await
    }

    /// The keys of backends with several, as requests left them.
    pub fn keys(&self) -> &KeyCache {
        &self.keys
    }

    /// Forget cached keys (after a key was set or deleted), and the cloud credentials and
    /// access tokens made from them.
    pub fn forget_keys(&self) {
        self.keys.clear();
        self.cloud.clear();
    }

    /// Bedrock and Vertex credentials beyond the stored keys, and Vertex access tokens.
    pub fn cloud(&self) -> &crate::cloud::CloudAuth {
        &self.cloud
    }
}
