use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::{BackendConfig, KeyRef, key_account};
use crate::secrets::{SecretError, SecretStore};

/// The key a request is sent with, and which of the backend's keys it is (never the secret
/// in anything but `secret`).
#[derive(Debug, Clone)]
pub struct PickedKey {
    pub key: KeyRef,
    pub secret: Option<Arc<SecretString>>,
    /// Whether the backend rotates over several keys: only then is a key set aside after a
    /// 401/403 or a 429 (a lone key's errors are answered as they come).
    pub pooled: bool,
}

impl PickedKey {
    /// The key's name for the usage row and the log: in a pool the backend's own entry is
    /// `default`; a lone unnamed key has none.
    pub fn name(&self) -> Option<&str> {
        self.key
            .name()
            .or(self.pooled.then_some(crate::config::DEFAULT_KEY_NAME))
    }
}

/// Why no key of a pool can be used now.
#[derive(Debug)]
pub enum NoKey {
    /// Every usable key is cooling down after a 429; the first is free again then.
    Cooling { retry_after: Duration },
    /// Every key was rejected, is missing, or the keychain failed.
    Unusable(ApiError),
}

/// What the gateway knows of one key of a pool.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyHealth {
    Ready,
    /// The upstream answered 401/403 with it: not used again until it is set anew.
    Rejected {
        status: u16,
        since_ms: i64,
    },
    /// The upstream answered 429 with it: not used until then.
    CoolingDown {
        until_ms: i64,
    },
}

#[derive(Debug, Clone, Copy)]
enum Mark {
    Rejected { status: u16, since_ms: i64 },
    Cooling { until: Instant, until_ms: i64 },
}

/// Provider keys read once from the keychain (each read is a D-Bus round trip) and kept in
/// memory only; absence is cached too, so local backends cost nothing per request. A backend
/// with several keys has them rotated, and a key the upstream refused is set aside.
#[derive(Default)]
pub struct KeyCache {
    /// Keychain reads by account.
    keys: Mutex<HashMap<String, Option<Arc<SecretString>>>>,
    /// Set-aside keys by (backend, key name).
    marks: Mutex<HashMap<(String, String), Mark>>,
    /// Where each backend's rotation starts next.
    turns: Mutex<HashMap<String, Arc<AtomicUsize>>>,
}

/// The name a key's marks are kept under (the backend's own entry is `default`).
fn mark_name(key: &KeyRef) -> String {
    key.name()
        .unwrap_or(crate::config::DEFAULT_KEY_NAME)
        .to_owned()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl KeyCache {
    /// Forget the secrets read (after a key was set or deleted, or the config changed); what
    /// was learnt about the keys stays.
    pub fn clear(&self) {
        lock(&self.keys).clear();
    }

    /// Forget what was learnt about a key (it was set anew or removed).
    pub fn reset(&self, backend: &str, name: Option<&str>) {
        let name = name.unwrap_or(crate::config::DEFAULT_KEY_NAME).to_owned();
        lock(&self.marks).remove(&(backend.to_owned(), name));
    }

    /// The key of a single-key backend, or the first usable key of a pool (for probes that
    /// need one key: count_tokens, checks).
    pub async fn get(
        &self,
        backend: &BackendConfig,
        store: &Arc<dyn SecretStore>,
    ) -> Result<Option<Arc<SecretString>>, ApiError> {
        match self.pick(backend, store, Instant::now()).await {
            Ok(picked) => Ok(picked.secret),
            Err(NoKey::Unusable(err)) => Err(err),
            Err(NoKey::Cooling { .. }) => {
                // A probe may use a cooling key: it is throttled, not refused.
                self.secret(backend, &backend.first_key_ref(), store).await
            }
        }
    }

    /// The key to send the next request to `backend` with: its only key, or the next usable
    /// key of its pool in turn.
    pub async fn pick(
        &self,
        backend: &BackendConfig,
        store: &Arc<dyn SecretStore>,
        now: Instant,
    ) -> Result<PickedKey, NoKey> {
        if !backend.has_key_pool() {
            let key = backend.first_key_ref();
            let secret = self
                .secret(backend, &key, store)
                .await
                .map_err(NoKey::Unusable)?;
            return Ok(PickedKey {
                key,
                secret,
                pooled: false,
            });
        }
        let refs = backend.key_refs();
        let turn = {
            let mut turns = lock(&self.turns);
            turns.entry(backend.id.clone()).or_default().clone()
        };
        let start = turn.fetch_add(1, Ordering::Relaxed);
        let mut cooling: Option<Duration> = None;
        let mut why: Vec<String> = Vec::new();
        for offset in 0..refs.len() {
            let key = &refs[(start + offset) % refs.len()];
            let name = mark_name(key);
            let mark = lock(&self.marks)
                .get(&(backend.id.clone(), name.clone()))
                .copied();
            match mark {
                Some(Mark::Rejected { status, .. }) => {
                    why.push(format!("{name} was refused ({status})"));
                    continue;
                }
                Some(Mark::Cooling { until, .. }) if until > now => {
                    let wait = until - now;
                    cooling = Some(cooling.map_or(wait, |c| c.min(wait)));
                    why.push(format!("{name} is cooling down"));
                    continue;
                }
                _ => {}
            }
            match self.secret(backend, key, store).await {
                Ok(Some(secret)) => {
                    return Ok(PickedKey {
                        key: key.clone(),
                        secret: Some(secret),
                        pooled: true,
                    });
                }
                Ok(None) => why.push(match key {
                    KeyRef::Env(var) => format!("{var} is not set"),
                    KeyRef::Keychain(_) => format!("{name} is not in the keychain"),
                }),
                Err(err) => why.push(format!("{name}: {}", err.message)),
            }
        }
        if let Some(retry_after) = cooling {
            return Err(NoKey::Cooling { retry_after });
        }
        Err(NoKey::Unusable(
            ApiError::new(
                ErrorType::AuthenticationError,
                format!(
                    "no key of backend {:?} can be used: {}. Set a working key with `switchyard key set {} --name NAME` or in the app's backend form",
                    backend.id,
                    why.join("; "),
                    backend.id
                ),
            )
            .with_status(500),
        ))
    }

    /// The upstream refused `picked` (401/403): set it aside until it is set anew.
    pub fn rejected(&self, backend: &str, picked: &PickedKey, status: u16) {
        if !picked.pooled {
            return;
        }
        lock(&self.marks).insert(
            (backend.to_owned(), mark_name(&picked.key)),
            Mark::Rejected {
                status,
                since_ms: crate::usage::now_ms(),
            },
        );
    }

    /// The upstream throttled `picked` (429): set it aside for `pause`.
    pub fn throttled(&self, backend: &str, picked: &PickedKey, pause: Duration, now: Instant) {
        if !picked.pooled {
            return;
        }
        let until_ms = crate::usage::now_ms()
            .saturating_add(i64::try_from(pause.as_millis()).unwrap_or(i64::MAX));
        lock(&self.marks).insert(
            (backend.to_owned(), mark_name(&picked.key)),
            Mark::Cooling {
                until: now + pause,
                until_ms,
            },
        );
    }

    /// What is known of each of the backend's keys, in the order written.
    pub fn health(&self, backend: &BackendConfig, now: Instant) -> Vec<(KeyRef, KeyHealth)> {
        let marks = lock(&self.marks);
        backend
            .key_refs()
            .into_iter()
            .map(|key| {
                let health = match marks.get(&(backend.id.clone(), mark_name(&key))) {
                    Some(&Mark::Rejected { status, since_ms }) => {
                        KeyHealth::Rejected { status, since_ms }
                    }
                    Some(&Mark::Cooling { until, until_ms }) if until > now => {
                        KeyHealth::CoolingDown { until_ms }
                    }
                    _ => KeyHealth::Ready,
                };
                (key, health)
            })
            .collect()
    }

    /// One key's secret: its environment variable, else its keychain entry (cached).
    async fn secret(
        &self,
        backend: &BackendConfig,
        key: &KeyRef,
        store: &Arc<dyn SecretStore>,
    ) -> Result<Option<Arc<SecretString>>, ApiError> {
        let name = match key {
            KeyRef::Env(var) => {
                return match std::env::var(var) {
                    Ok(value) if !value.is_empty() => {
                        Ok(Some(Arc::new(SecretString::from(value))))
                    }
                    // In a pool, an unset variable is one unusable key among others.
                    _ if backend.has_key_pool() => Ok(None),
                    _ => Err(ApiError::new(
                        ErrorType::AuthenticationError,
                        format!(
                            "backend {:?} reads its key from the environment variable {var}, which is not set where Switchyard runs",
                            backend.id
                        ),
                    )
                    .with_status(500)),
                };
            }
            KeyRef::Keychain(name) => name.as_deref(),
        };
        let account = key_account(&backend.id, name);
        if let Some(found) = lock(&self.keys).get(&account) {
            return Ok(found.clone());
        }
        let store = store.clone();
        let read = {
            let account = account.clone();
            tokio::task::spawn_blocking(move || store.get(&account))
                .await
                .map_err(|err| ApiError::new(ErrorType::ApiError, err.to_string()))?
        };
        let secret = match read {
            Ok(secret) => secret.map(Arc::new),
            // A local engine rarely needs a key: with no keychain (a headless machine) or a
            // locked one, serve it without a key rather than failing every request. The
            // absence is cached like any other, so the keychain is asked once.
            Err(err @ (SecretError::Unavailable { .. } | SecretError::Locked { .. }))
                if backend.is_local() =>
            {
                tracing::warn!(
                    backend = %backend.id,
                    "serving the local backend without a key: {err}"
                );
                None
            }
            // Bedrock and Vertex then look where their cloud's tools look (the environment,
            // the credentials file): a headless machine often has those and no keychain.
            Err(err @ (SecretError::Unavailable { .. } | SecretError::Locked { .. }))
                if backend.kind.is_cloud_claude() =>
            {
                tracing::warn!(
                    backend = %backend.id,
                    "no keychain, so the cloud's own credentials are looked for: {err}"
                );
                None
            }
            Err(err) => {
                return Err(ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "cannot read the key of backend {:?}: {err}. Or give the backend `api_key_env` to read its key from the environment",
                        backend.id
                    ),
                ));
            }
        };
        lock(&self.keys).insert(account, secret.clone());
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keychain that cannot be reached, as on a headless machine without a Secret Service.
    struct NoKeychain;

    impl SecretStore for NoKeychain {
        fn get(&self, _: &str) -> Result<Option<SecretString>, SecretError> {
            Err(SecretError::Unavailable {
                detail: "no D-Bus session".into(),
            })
        }
        fn set(&self, _: &str, _: &SecretString) -> Result<(), SecretError> {
            Err(SecretError::Unavailable {
                detail: "no D-Bus session".into(),
            })
        }
        fn delete(&self, _: &str) -> Result<bool, SecretError> {
            Err(SecretError::Unavailable {
                detail: "no D-Bus session".into(),
            })
        }
    }

    fn backend(id: &str, base_url: &str) -> BackendConfig {
        toml::from_str(&format!(
            "id = {id:?}\nkind = \"openai_chat\"\nbase_url = {base_url:?}\n"
        ))
        .unwrap()
    }

    #[tokio::test]
    async fn local_backend_is_served_without_a_keychain() {
        let store: Arc<dyn SecretStore> = Arc::new(NoKeychain);
        let cache = KeyCache::default();
        let key = cache
            .get(&backend("llama", "http://127.0.0.1:8080/v1"), &store)
            .await
            .unwrap();
        assert!(key.is_none());
    }

    #[tokio::test]
    async fn cloud_backend_without_a_keychain_names_the_way_out() {
        let store: Arc<dyn SecretStore> = Arc::new(NoKeychain);
        let cache = KeyCache::default();
        let err = cache
            .get(&backend("deepseek", "https://api.deepseek.com/v1"), &store)
            .await
            .unwrap_err();
        assert_eq!(err.status(), 500);
        assert!(err.message.contains("\"deepseek\""), "{}", err.message);
        assert!(err.message.contains("api_key_env"), "{}", err.message);
    }

    /// A loopback proxy to a cloud provider (`local = false`) needs its key like any cloud.
    #[tokio::test]
    async fn a_loopback_backend_marked_not_local_needs_its_key() {
        let store: Arc<dyn SecretStore> = Arc::new(NoKeychain);
        let cache = KeyCache::default();
        let mut proxy = backend("proxy", "http://127.0.0.1:8082/v1");
        proxy.local = Some(false);
        let err = cache.get(&proxy, &store).await.unwrap_err();
        assert!(err.message.contains("\"proxy\""), "{}", err.message);
    }
}
