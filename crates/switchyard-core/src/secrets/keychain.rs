use secrecy::{ExposeSecret, SecretString};

use super::{SecretError, SecretStore};

/// The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
/// through the `keyring` crate. Entries live under the service name given at construction.
pub struct KeychainStore {
    service: String,
}

impl KeychainStore {
    pub const DEFAULT_SERVICE: &'static str = "switchyard";

    pub fn new(service: impl Into<String>) -> Self {
        KeychainStore {
            service: service.into(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, account).map_err(|err| map_error(account, err))
    }
}

impl Default for KeychainStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_SERVICE)
    }
}

fn map_error(account: &str, err: keyring::Error) -> SecretError {
    match err {
        keyring::Error::NoDefaultStore => SecretError::Unavailable {
            detail: "no credential store could be opened (is a D-Bus session bus running?)"
                .to_owned(),
        },
        keyring::Error::PlatformFailure(inner) => SecretError::Unavailable {
            detail: inner.to_string(),
        },
        keyring::Error::NoStorageAccess(inner) => SecretError::Locked {
            detail: inner.to_string(),
        },
        keyring::Error::BadEncoding(_) => SecretError::BadEncoding {
            account: account.to_owned(),
        },
        other => SecretError::Other {
            detail: other.to_string(),
        },
    }
}

impl SecretStore for KeychainStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError> {
        match self.entry(account)?.get_password() {
            Ok(secret) => Ok(Some(SecretString::from(secret))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_error(account, err)),
        }
    }

    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError> {
        self.entry(account)?
            .set_password(secret.expose_secret())
            .map_err(|err| map_error(account, err))
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(map_error(account, err)),
        }
    }
}
