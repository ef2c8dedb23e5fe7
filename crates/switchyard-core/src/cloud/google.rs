//! Google credentials for a Vertex backend: a service account's key file (stored as its JSON
//! text, or as the path of the file, or found through `GOOGLE_APPLICATION_CREDENTIALS`),
//! exchanged at its own `token_uri` for an access token, which is kept per backend and key
//! and replaced before it expires.
//!
//! The assertion and the answer are `backends::vertex::token`'s (pure); this module adds the
//! HTTP call, with the gateway's rules: no redirect followed (the assertion is a credential
//! for an hour), a bounded read, a deadline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use xxhash_rust::xxh3::xxh3_128;

use crate::backends::vertex::token::{
    AccessToken, FORM_CONTENT_TYPE, ServiceAccount, ServiceAccountError, TokenResponseError,
    parse_token_response,
};

/// The variable Google's tools read a key file's path from.
pub const APPLICATION_CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The largest key file read (a real one is about 2.4 KB).
const MAX_KEY_FILE: u64 = 1 << 20;
/// The most of a token answer read (a real one is a few hundred bytes, plus an id token).
const MAX_ANSWER: usize = 64 * 1024;
/// How long a token exchange may take, answer included.
pub const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(20);

/// Why no access token could be had. Never holds the key or the assertion.
#[derive(Debug, thiserror::Error)]
pub enum GoogleCredentialError {
    #[error(transparent)]
    Account(#[from] ServiceAccountError),
    #[error("the service-account key file {path} cannot be read: {detail}")]
    File { path: PathBuf, detail: String },
    #[error(
        "no Google credentials: store the service account's key file (its JSON) with `switchyard key set ID` or in the app, or set {APPLICATION_CREDENTIALS_ENV} to its path where Switchyard runs"
    )]
    Missing,
    #[error("the token endpoint {url} could not be reached: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(
        "the token endpoint {url} answered with a redirect (HTTP {status}); Switchyard follows none: set the key file's token_uri to the final address"
    )]
    Redirected { url: String, status: u16 },
    #[error(transparent)]
    Refused(#[from] TokenResponseError),
}

impl GoogleCredentialError {
    /// Whether the same credentials may work a moment later (the endpoint was down or
    /// busy), rather than being wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            GoogleCredentialError::Unreachable { .. } => true,
            GoogleCredentialError::Refused(
                TokenResponseError::Rejected { status, .. }
                | TokenResponseError::Malformed { status, .. },
            ) => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Where a service account's key file is.
#[derive(Clone)]
pub enum KeySource {
    /// Its JSON text, stored for the backend.
    Text(Arc<SecretString>),
    /// A path: stored for the backend, or from `GOOGLE_APPLICATION_CREDENTIALS`.
    File(PathBuf),
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Text(_) => f.write_str("KeySource::Text(..)"),
            KeySource::File(path) => f.debug_tuple("KeySource::File").field(path).finish(),
        }
    }
}

impl KeySource {
    /// The stored credential (a key file's JSON, or a path to one), else
    /// `GOOGLE_APPLICATION_CREDENTIALS` as `env` has it.
    pub fn find(
        stored: Option<Arc<SecretString>>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<KeySource, GoogleCredentialError> {
        if let Some(text) = stored {
            let trimmed = text.expose_secret().trim();
            if trimmed.starts_with('{') {
                return Ok(KeySource::Text(text));
            }
            if !trimmed.is_empty() {
                return Ok(KeySource::File(PathBuf::from(trimmed)));
            }
        }
        match env(APPLICATION_CREDENTIALS_ENV) {
            Some(path) if !path.trim().is_empty() => {
                Ok(KeySource::File(PathBuf::from(path.trim())))
            }
            _ => Err(GoogleCredentialError::Missing),
        }
    }

    /// What identifies the credentials without reading a file: a new key means a new token.
    fn fingerprint(&self) -> u128 {
        match self {
            KeySource::Text(text) => xxh3_128(text.expose_secret().as_bytes()),
            KeySource::File(path) => xxh3_128(path.as_os_str().as_encoded_bytes()),
        }
    }

    /// The service account, read and checked.
    pub fn account(&self) -> Result<ServiceAccount, GoogleCredentialError> {
        match self {
            KeySource::Text(text) => Ok(ServiceAccount::from_json(
                text.expose_secret().trim().as_bytes(),
            )?),
            KeySource::File(path) => {
                use std::io::Read;
                let read = |path: &PathBuf| -> std::io::Result<Vec<u8>> {
                    let mut bytes = Vec::new();
                    std::fs::File::open(path)?
                        .take(MAX_KEY_FILE)
                        .read_to_end(&mut bytes)?;
                    Ok(bytes)
                };
                let bytes = read(path).map_err(|e| GoogleCredentialError::File {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
                Ok(ServiceAccount::from_json(&bytes)?)
            }
        }
    }
}

/// A fresh access token for `account`: one exchange at its `token_uri`.
pub async fn exchange(
    client: &reqwest::Client,
    account: &ServiceAccount,
    now: SystemTime,
) -> Result<AccessToken, GoogleCredentialError> {
    let request = account.token_request(now)?;
    let url = request.url.clone();
    let unreachable = |detail: String| GoogleCredentialError::Unreachable {
        url: url.clone(),
        detail,
    };
    let sent = client
        .post(&request.url)
        .header(http::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
        .body(request.body.expose_secret().to_owned())
        .send();
    let response = match tokio::time::timeout(EXCHANGE_TIMEOUT, sent).await {
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {} s",
                EXCHANGE_TIMEOUT.as_secs()
            )));
        }
        Ok(Err(err)) => return Err(unreachable(err.to_string())),
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return Err(GoogleCredentialError::Redirected { url, status });
    }
    let body = tokio::time::timeout(
        EXCHANGE_TIMEOUT,
        crate::net::read_bounded(response, MAX_ANSWER),
    )
    .await
    .map_err(|_| unreachable("the answer did not finish in time".to_owned()))?
    .map_err(|err| unreachable(err.to_string()))?;
    Ok(parse_token_response(status, &body, SystemTime::now())?)
}

struct Cached {
    source: u128,
    token: AccessToken,
}

/// Access tokens by backend and key, each refreshed when it is five minutes from expiry.
/// Requests that find the token due wait for one exchange instead of each making their own.
#[derive(Default)]
pub struct TokenCache {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
}

impl TokenCache {
    /// `Authorization`'s value for requests under `slot` (backend id and key name) with the
    /// key `source`.
    pub async fn bearer(
        &self,
        slot: &str,
        source: &KeySource,
        client: &reqwest::Client,
    ) -> Result<SecretString, GoogleCredentialError> {
        let cell = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(slot.to_owned()).or_default().clone()
        };
        let mut cached = cell.lock().await;
        let fingerprint = source.fingerprint();
        if let Some(found) = cached.as_ref()
            && found.source == fingerprint
            && !found.token.needs_refresh(SystemTime::now())
        {
            return Ok(found.token.bearer());
        }
        let account = source.account()?;
        let token = exchange(client, &account, SystemTime::now()).await?;
        let bearer = token.bearer();
        *cached = Some(Cached {
            source: fingerprint,
            token,
        });
        Ok(bearer)
    }

    /// Forget every token (keys were set anew, or the config changed).
    pub fn clear(&self) {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_stored_text_or_a_path_or_the_environment() {
        let none = |_: &str| None;
        let json = Arc::new(SecretString::from(
            " {\"type\":\"service_account\"} ".to_owned(),
        ));
        assert!(matches!(
            KeySource::find(Some(json), &none),
            Ok(KeySource::Text(_))
        ));
        let path = Arc::new(SecretString::from("/keys/sa.json\n".to_owned()));
        assert!(matches!(
            KeySource::find(Some(path), &none),
            Ok(KeySource::File(p)) if p == std::path::Path::new("/keys/sa.json")
        ));
        let adc = |name: &str| {
            (name == APPLICATION_CREDENTIALS_ENV).then(|| "/etc/gcp/key.json".to_owned())
        };
        assert!(matches!(
            KeySource::find(None, &adc),
            Ok(KeySource::File(p)) if p == std::path::Path::new("/etc/gcp/key.json")
        ));
        let err = KeySource::find(None, &none).unwrap_err();
        assert!(matches!(err, GoogleCredentialError::Missing));
        assert!(
            err.to_string().contains(APPLICATION_CREDENTIALS_ENV),
            "{err}"
        );
    }

    #[test]
    fn an_unreadable_key_file_is_named_and_its_contents_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = KeySource::File(dir.path().join("absent.json"));
        let err = missing.account().unwrap_err();
        assert!(err.to_string().contains("absent.json"), "{err}");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{\"private_key\": \"-----BEGIN canary\"}").unwrap();
        let err = KeySource::File(garbage).account().unwrap_err().to_string();
        assert!(!err.contains("canary"), "{err}");
        assert!(
            !format!(
                "{:?}",
                KeySource::Text(Arc::new("{secret}".to_owned().into()))
            )
            .contains("secret}")
        );
    }

    #[test]
    fn transient_failures_are_told_from_refusals() {
        let refused = GoogleCredentialError::Refused(TokenResponseError::Rejected {
            status: 400,
            error: "invalid_grant".into(),
            description: None,
        });
        assert!(!refused.is_transient());
        let busy = GoogleCredentialError::Refused(TokenResponseError::Malformed {
            status: 503,
            detail: "html".into(),
        });
        assert!(busy.is_transient());
        assert!(
            GoogleCredentialError::Unreachable {
                url: "u".into(),
                detail: "d".into()
            }
            .is_transient()
        );
    }
}
