use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::BackendConfig;
use crate::secrets::{SecretStore, backend_account};

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
        let key = read
            .map_err(|err| {
                ApiError::new(
                    ErrorType::ApiError,
                    format!("cannot read the key of backend {:?}: {err}", backend.id),
                )
            })?
            .map(Arc::new);
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(backend.id.clone(), key.clone());
        Ok(key)
    }
}
