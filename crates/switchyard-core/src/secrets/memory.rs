use std::collections::HashMap;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};

use super::{SecretError, SecretStore};

/// Secrets kept in memory only: for unit tests and for runs that must not touch the keychain.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<HashMap<String, SecretString>>,
}

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        // A poisoned map still holds valid entries: keep going.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError> {
        Ok(self.lock().get(account).cloned())
    }

    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError> {
        self.lock().insert(
            account.to_owned(),
            SecretString::from(secret.expose_secret().to_owned()),
        );
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        Ok(self.lock().remove(account).is_some())
    }
}
