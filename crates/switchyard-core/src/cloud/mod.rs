//! Credentials of the clouds that serve Claude (Bedrock and Vertex backends): what the text
//! stored for a backend means, where the cloud's own tools would find credentials on a
//! headless machine, and Vertex's access tokens.
//!
//! The stored text is a backend's key like any other (keychain entry `backend:<id>`, or its
//! `api_key_env` variable, read and cached by `gateway/keys.rs`), so it never reaches the
//! config, the usage database, a log line or a capture. Only when a backend has neither are
//! the environment and the cloud's credentials file read.
//!
//! - [`aws`]: `ACCESS_KEY_ID:SECRET[:SESSION_TOKEN]`, its JSON spelling, or a Bedrock API key;
//!   else `AWS_BEARER_TOKEN_BEDROCK`, `AWS_ACCESS_KEY_ID`..., `~/.aws/credentials`.
//! - [`google`]: a service-account key file (JSON, or its path; else
//!   `GOOGLE_APPLICATION_CREDENTIALS`) exchanged for an access token, cached and refreshed.

pub mod aws;
pub mod google;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::anthropic::{ApiError, ErrorType};
use crate::backends::bedrock::BedrockAuth;
use crate::config::BackendConfig;

pub use aws::{AwsCredentialError, AwsSource};
pub use google::{GoogleCredentialError, KeySource, TokenCache};

/// How long credentials found in the environment or the shared file are reused before they
/// are looked up again (a tool such as aws-vault may rewrite the file).
const AMBIENT_TTL: Duration = Duration::from_secs(60);

/// The process's environment variable `name`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The user's home folder (where `~/.aws/credentials` is).
pub fn home_dir() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_owned())
}

/// A Bedrock backend's credentials: the stored text when there is one, else what the AWS
/// tools would find. `Err` is a sentence for the client naming the backend and the way out.
pub fn bedrock_credentials(
    backend: &BackendConfig,
    stored: Option<&SecretString>,
    ambient: &dyn Fn() -> Result<Option<(BedrockAuth, AwsSource)>, AwsCredentialError>,
) -> Result<(BedrockAuth, AwsSource), ApiError> {
    let unusable = |err: AwsCredentialError| {
        ApiError::new(
            ErrorType::AuthenticationError,
            format!(
                "backend {:?} has no usable AWS credentials: {err}",
                backend.id
            ),
        )
        .with_status(500)
    };
    if let Some(text) = stored {
        return aws::parse_stored(text)
            .map(|auth| (auth, AwsSource::Stored))
            .map_err(unusable);
    }
    match ambient().map_err(unusable)? {
        Some(found) => Ok(found),
        None => Err(ApiError::new(
            ErrorType::AuthenticationError,
            format!(
                "backend {id:?} has no AWS credentials: store them with `switchyard key set {id}` or in the app (ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN], or a Bedrock API key), or set {} or {} and {} where Switchyard runs, or add them to ~/.aws/credentials",
                aws::BEARER_ENV,
                aws::ACCESS_KEY_ENV,
                aws::SECRET_KEY_ENV,
                id = backend.id,
            ),
        )
        .with_status(500)),
    }
}

/// Ambient AWS credentials as last found, and when.
type AmbientAws = (Instant, Option<(BedrockAuth, AwsSource)>);

/// The gateway's cloud credentials: Vertex access tokens and the AWS credentials found in
/// the environment, both kept between requests.
pub struct CloudAuth {
    tokens: TokenCache,
    ambient_aws: Mutex<Option<AmbientAws>>,
    /// For token exchanges: follows no redirect, has its own deadlines.
    client: reqwest::Client,
}

impl Default for CloudAuth {
    fn default() -> Self {
        CloudAuth {
            tokens: TokenCache::default(),
            ambient_aws: Mutex::new(None),
            client: crate::net::client(
                reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .timeout(google::EXCHANGE_TIMEOUT),
            ),
        }
    }
}

impl CloudAuth {
    /// Forget tokens and found credentials (keys were set anew, the config changed).
    pub fn clear(&self) {
        self.tokens.clear();
        *self.ambient_aws.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// A Bedrock backend's credentials (see [`bedrock_credentials`]); the environment and
    /// the shared file are read at most once a minute.
    pub fn bedrock(
        &self,
        backend: &BackendConfig,
        stored: Option<&SecretString>,
    ) -> Result<BedrockAuth, ApiError> {
        let ambient = || {
            let mut cached = self.ambient_aws.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, found)) = cached.as_ref()
                && at.elapsed() < AMBIENT_TTL
            {
                return Ok(found.clone());
            }
            let found = aws::from_environment(&process_env, home_dir().as_deref())?;
            if let Some((_, source)) = &found {
                tracing::debug!(%source, "AWS credentials found");
            }
            *cached = Some((Instant::now(), found.clone()));
            Ok(found)
        };
        bedrock_credentials(backend, stored, &ambient).map(|(auth, _)| auth)
    }

    /// `Authorization`'s value for a Vertex request sent with the backend's key `key_name`
    /// (its stored text, if any).
    pub async fn vertex_bearer(
        &self,
        backend: &BackendConfig,
        key_name: Option<&str>,
        stored: Option<Arc<SecretString>>,
    ) -> Result<SecretString, GoogleCredentialError> {
        let source = KeySource::find(stored, &process_env)?;
        let slot = format!(
            "{}\u{0}{}",
            backend.id,
            key_name.unwrap_or(crate::config::DEFAULT_KEY_NAME)
        );
        self.tokens.bearer(&slot, &source, &self.client).await
    }

    /// The client token exchanges use (for the backend check's own exchange).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// The region a Bedrock backend's requests are signed for: its `region`, else the one its
/// `base_url` names (`bedrock-runtime.us-east-1.amazonaws.com`, or a VPC endpoint's
/// `vpce-....bedrock-runtime.us-east-1.vpce.amazonaws.com`).
pub fn bedrock_region(backend: &BackendConfig) -> Option<String> {
    if let Some(region) = backend.region() {
        return Some(region.to_owned());
    }
    let url = reqwest::Url::parse(backend.base_url_override()?).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    labels
        .windows(2)
        .find(|pair| {
            matches!(
                pair[0],
                "bedrock-runtime" | "bedrock-runtime-fips" | "bedrock" | "bedrock-fips"
            )
        })
        .map(|pair| pair[1])
        .filter(|region| crate::backends::bedrock::request::is_region_name(region))
        .map(str::to_owned)
}

/// A Vertex credential failure as the error a client gets.
pub fn vertex_error(backend: &BackendConfig, err: &GoogleCredentialError) -> ApiError {
    let kind = if err.is_transient() {
        ErrorType::ApiError
    } else {
        ErrorType::AuthenticationError
    };
    let status = match (err, err.is_transient()) {
        (_, true) => 502,
        (GoogleCredentialError::Refused(_), false) => 401,
        _ => 500,
    };
    ApiError::new(
        kind,
        format!("backend {:?}: no Vertex access token: {err}", backend.id),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackendKind;

    fn bedrock(region: Option<&str>, base_url: &str) -> BackendConfig {
        let mut backend = BackendConfig::new("b", BackendKind::Bedrock, base_url);
        backend.region = region.map(str::to_owned);
        backend
    }

    #[test]
    fn the_signing_region_is_the_configured_one_else_the_urls() {
        assert_eq!(
            bedrock_region(&bedrock(
                Some("eu-west-3"),
                "https://bedrock-runtime.us-east-1.amazonaws.com"
            )),
            Some("eu-west-3".into())
        );
        assert_eq!(
            bedrock_region(&bedrock(
                None,
                "https://bedrock-runtime.us-west-2.amazonaws.com"
            )),
            Some("us-west-2".into())
        );
        assert_eq!(
            bedrock_region(&bedrock(
                None,
                "https://vpce-0abc-xyz.bedrock-runtime.ap-southeast-1.vpce.amazonaws.com"
            )),
            Some("ap-southeast-1".into())
        );
        assert_eq!(
            bedrock_region(&bedrock(None, "http://127.0.0.1:9000")),
            None
        );
        assert_eq!(bedrock_region(&bedrock(None, "")), None);
    }

    #[test]
    fn missing_aws_credentials_name_every_way_to_give_them() {
        let backend = bedrock(Some("us-east-1"), "");
        let none = || Ok(None);
        let err = bedrock_credentials(&backend, None, &none).unwrap_err();
        assert_eq!(err.kind, ErrorType::AuthenticationError);
        for part in [
            "switchyard key set b",
            "AWS_BEARER_TOKEN_BEDROCK",
            "AWS_ACCESS_KEY_ID",
            "~/.aws/credentials",
        ] {
            assert!(err.message.contains(part), "{}", err.message);
        }
        // Stored text wins over anything found around.
        let found = || -> Result<Option<(BedrockAuth, AwsSource)>, AwsCredentialError> {
            panic!("the environment is not read when a credential is stored")
        };
        let stored = SecretString::from("AKIDSTORED:secret".to_owned());
        let (auth, source) = bedrock_credentials(&backend, Some(&stored), &found).unwrap();
        assert_eq!(source, AwsSource::Stored);
        assert!(matches!(auth, BedrockAuth::SigV4(c) if c.access_key_id == "AKIDSTORED"));
        let bad = SecretString::from("AKID:".to_owned());
        let err = bedrock_credentials(&backend, Some(&bad), &found).unwrap_err();
        assert!(
            err.message
                .contains("backend \"b\" has no usable AWS credentials"),
            "{}",
            err.message
        );
    }
}
