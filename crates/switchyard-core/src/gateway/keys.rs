use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::BackendConfig;
use crate::secrets::{SecretError, SecretStore, backend_account};

/// Provider keys read once from the keychain (each read is a D-Bus round trip) and kept in
/// memory only. Absence is cached too, so local backends cost nothing per request.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, Option<Arc<SecretString>>>>,
}

impl KeyCache {
    pub fn clear(&self) {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub async fn get(
        &self,
        backend: &BackendConfig,
        store: &Arc<dyn SecretStore>,
    ) -> Result<Option<Arc<SecretString>>, ApiError> {
        if let Some(var) = &backend.api_key_env {
            return match std::env::var(var) {
                Ok(value) if !value.is_empty() => Ok(Some(Arc::new(SecretString::from(value)))),
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
        if let Some(found) = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&backend.id)
        {
            return Ok(found.clone());
        }
        let store = store.clone();
        let account = backend_account(&backend.id);
        let read = tokio::task::spawn_blocking(move || store.get(&account))
            .await
            .map_err(|err| ApiError::new(ErrorType::ApiError, err.to_string()))?;
        let key = match read {
            Ok(key) => key.map(Arc::new),
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
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(backend.id.clone(), key.clone());
        Ok(key)
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
