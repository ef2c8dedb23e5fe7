//! Provider keys and the local token. They live in the OS keychain only; this module never
//! writes a secret anywhere else and never falls back to plaintext.

mod keychain;
mod memory;

pub use keychain::KeychainStore;
pub use memory::MemoryStore;
pub use secrecy::{ExposeSecret, SecretString};

/// The keychain account holding the gateway's local token.
pub const LOCAL_TOKEN_ACCOUNT: &str = "local-token";

/// The keychain account holding a backend's provider key.
pub fn backend_account(backend_id: &str) -> String {
    format!("backend:{backend_id}")
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "no OS keychain is reachable ({detail}). On a desktop, make sure a Secret Service (GNOME Keyring, KWallet) is running and your session is unlocked; on a headless machine set SWITCHYARD_TOKEN for the local token and `api_key_env` for provider keys instead"
    )]
    Unavailable { detail: String },
    #[error(
        "the OS keychain is locked and nobody answered the unlock prompt ({detail}). Unlock your keyring (log in to the desktop session, or `gnome-keyring-daemon --unlock`) and try again; on a headless machine set SWITCHYARD_TOKEN for the local token and `api_key_env` for provider keys instead"
    )]
    Locked { detail: String },
    #[error("the keychain entry {account:?} is not valid UTF-8 text; delete and set it again")]
    BadEncoding { account: String },
    #[error("the OS keychain failed: {detail}")]
    Other { detail: String },
}

/// A place to keep secrets. Calls may block (D-Bus round trips): call them from
/// `spawn_blocking` on async paths.
pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError>;
    fn set(&self, account: &str, secret: &SecretString) -> Result<(), SecretError>;
    /// Returns whether something was deleted.
    fn delete(&self, account: &str) -> Result<bool, SecretError>;
}

/// A fresh random local token: `sy-` + 40 base62 characters.
pub fn new_local_token() -> SecretString {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    let token: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    SecretString::from(format!("sy-{token}"))
}

/// The local token from `store`, created and stored if absent.
pub fn local_token(store: &dyn SecretStore) -> Result<SecretString, SecretError> {
    if let Some(token) = store.get(LOCAL_TOKEN_ACCOUNT)? {
        return Ok(token);
    }
    rotate_local_token(store)
}

/// Replace the local token with a new one.
pub fn rotate_local_token(store: &dyn SecretStore) -> Result<SecretString, SecretError> {
    let token = new_local_token();
    store.set(LOCAL_TOKEN_ACCOUNT, &token)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_token_is_created_once_then_reused_until_rotated() {
        let store = MemoryStore::default();
        let first = local_token(&store).unwrap();
        assert!(first.expose_secret().starts_with("sy-"));
        assert_eq!(first.expose_secret().len(), 43);
        assert_eq!(
            local_token(&store).unwrap().expose_secret(),
            first.expose_secret()
        );
        let rotated = rotate_local_token(&store).unwrap();
        assert_ne!(rotated.expose_secret(), first.expose_secret());
        assert_eq!(
            local_token(&store).unwrap().expose_secret(),
            rotated.expose_secret()
        );
    }

    #[test]
    fn secrets_never_print() {
        let secret = SecretString::from("sk-canary-123".to_owned());
        assert!(!format!("{secret:?}").contains("canary"));
    }
}
