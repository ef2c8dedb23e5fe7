//! AWS credentials for a Bedrock backend: the text stored for it (keychain entry or its
//! `api_key_env` variable), else what the AWS tools themselves read on a headless machine (the
//! standard environment variables, then the shared credentials file).
//!
//! A stored credential is one of:
//! - `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]` (AWS never puts `:` in any of the three);
//! - a JSON object with `access_key_id`, `secret_access_key` and optionally `session_token`
//!   (`aws configure export-credentials`' `AccessKeyId` / `SecretAccessKey` / `SessionToken`
//!   spelling is read too);
//! - anything else without `:` or whitespace: a Bedrock API key, sent as a bearer token.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::backends::bedrock::{AwsCredentials, BedrockAuth};

/// The variable a Bedrock API key is read from (the AWS SDKs and Claude Code read it too).
pub const BEARER_ENV: &str = "AWS_BEARER_TOKEN_BEDROCK";
pub const ACCESS_KEY_ENV: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_KEY_ENV: &str = "AWS_SECRET_ACCESS_KEY";
pub const SESSION_TOKEN_ENV: &str = "AWS_SESSION_TOKEN";
pub const PROFILE_ENV: &str = "AWS_PROFILE";
pub const CREDENTIALS_FILE_ENV: &str = "AWS_SHARED_CREDENTIALS_FILE";

/// The largest shared credentials file read (a real one is a few hundred bytes a profile).
const MAX_FILE: u64 = 1 << 20;

/// Why stored or found AWS credentials cannot be used. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsCredentialError {
    #[error(
        "the stored AWS credentials are not ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]: {0}"
    )]
    Colon(&'static str),
    #[error(
        "the stored AWS credentials are not a JSON object with access_key_id and secret_access_key: {0}"
    )]
    Json(String),
    #[error("the stored Bedrock credential is empty or holds whitespace")]
    Blank,
    #[error("{variable} is set but {missing} is not: set both, or neither")]
    HalfSet {
        variable: &'static str,
        missing: &'static str,
    },
    #[error("the shared credentials file {path} cannot be read: {detail}")]
    File { path: PathBuf, detail: String },
    #[error(
        "profile [{profile}] of {path} has no {missing} (set aws_access_key_id and aws_secret_access_key in it)"
    )]
    Profile {
        path: PathBuf,
        profile: String,
        missing: &'static str,
    },
}

/// Where a Bedrock backend's credentials were found, for logs and the check's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsSource {
    /// The backend's keychain entry or `api_key_env` variable.
    Stored,
    /// `AWS_BEARER_TOKEN_BEDROCK`.
    BearerEnv,
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`).
    KeyEnv,
    /// A profile of the shared credentials file.
    SharedFile { path: PathBuf, profile: String },
}

impl std::fmt::Display for AwsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AwsSource::Stored => f.write_str("the backend's stored credential"),
            AwsSource::BearerEnv => write!(f, "{BEARER_ENV}"),
            AwsSource::KeyEnv => write!(f, "{ACCESS_KEY_ENV} / {SECRET_KEY_ENV}"),
            AwsSource::SharedFile { path, profile } => {
                write!(f, "profile [{profile}] of {}", path.display())
            }
        }
    }
}

/// The JSON spelling of stored credentials.
#[derive(Deserialize)]
struct CredentialsWire {
    #[serde(alias = "AccessKeyId", alias = "aws_access_key_id")]
    access_key_id: String,
    #[serde(alias = "SecretAccessKey", alias = "aws_secret_access_key")]
    secret_access_key: String,
    #[serde(default, alias = "SessionToken", alias = "aws_session_token")]
    session_token: Option<String>,
}

fn sigv4(key: &str, secret: &str, token: Option<&str>) -> BedrockAuth {
    BedrockAuth::SigV4(AwsCredentials {
        access_key_id: key.to_owned(),
        secret_access_key: SecretString::from(secret.to_owned()),
        session_token: token
            .filter(|t| !t.is_empty())
            .map(|t| SecretString::from(t.to_owned())),
    })
}

/// A stored credential (see the module) as what Bedrock requests are signed or sent with.
pub fn parse_stored(text: &SecretString) -> Result<BedrockAuth, AwsCredentialError> {
    let text = text.expose_secret().trim();
    if text.starts_with('{') {
        // serde_json's message names a position or a field, never a value.
        let wire: CredentialsWire =
            serde_json::from_str(text).map_err(|e| AwsCredentialError::Json(e.to_string()))?;
        let key = wire.access_key_id.trim();
        let secret = wire.secret_access_key.trim();
        if key.is_empty() || secret.is_empty() {
            return Err(AwsCredentialError::Json(
                "access_key_id or secret_access_key is empty".to_owned(),
            ));
        }
        return Ok(sigv4(
            key,
            secret,
            wire.session_token.as_deref().map(str::trim),
        ));
    }
    if text.is_empty() || text.contains(char::is_whitespace) {
        return Err(AwsCredentialError::Blank);
    }
    if !text.contains(':') {
        return Ok(BedrockAuth::ApiKey(SecretString::from(text.to_owned())));
    }
    let parts: Vec<&str> = text.split(':').collect();
    match parts.as_slice() {
        [key, secret] | [key, secret, _] if key.is_empty() || secret.is_empty() => Err(
            AwsCredentialError::Colon("the access key id or the secret is empty"),
        ),
        [_, _, ""] => Err(AwsCredentialError::Colon(
            "the session token after the second ':' is empty",
        )),
        [key, secret] => Ok(sigv4(key, secret, None)),
        [key, secret, token] => Ok(sigv4(key, secret, Some(token))),
        _ => Err(AwsCredentialError::Colon(
            "more than three ':'-separated parts",
        )),
    }
}

/// What the AWS tools read on a machine without a stored credential: `AWS_BEARER_TOKEN_BEDROCK`,
/// then `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, then the profile
/// `AWS_PROFILE` (else `default`) of `AWS_SHARED_CREDENTIALS_FILE` (else
/// `~/.aws/credentials`). `Ok(None)`: none of them is there.
pub fn from_environment(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<Option<(BedrockAuth, AwsSource)>, AwsCredentialError> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if let Some(key) = var(BEARER_ENV) {
        return Ok(Some((
            BedrockAuth::ApiKey(SecretString::from(key)),
            AwsSource::BearerEnv,
        )));
    }
    match (var(ACCESS_KEY_ENV), var(SECRET_KEY_ENV)) {
        (Some(key), Some(secret)) => {
            let token = var(SESSION_TOKEN_ENV);
            return Ok(Some((
                sigv4(&key, &secret, token.as_deref()),
                AwsSource::KeyEnv,
            )));
        }
        (Some(_), None) => {
            return Err(AwsCredentialError::HalfSet {
                variable: ACCESS_KEY_ENV,
                missing: SECRET_KEY_ENV,
            });
        }
        (None, Some(_)) => {
            return Err(AwsCredentialError::HalfSet {
                variable: SECRET_KEY_ENV,
                missing: ACCESS_KEY_ENV,
            });
        }
        (None, None) => {}
    }
    let Some(path) = var(CREDENTIALS_FILE_ENV)
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".aws").join("credentials")))
    else {
        return Ok(None);
    };
    let profile = var(PROFILE_ENV).unwrap_or_else(|| "default".to_owned());
    let text = match read_small(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(AwsCredentialError::File {
                path,
                detail: err.to_string(),
            });
        }
    };
    let Some(section) = profile_section(&text, &profile) else {
        return Ok(None);
    };
    let missing = |what| AwsCredentialError::Profile {
        path: path.clone(),
        profile: profile.clone(),
        missing: what,
    };
    let key = section
        .get("aws_access_key_id")
        .ok_or_else(|| missing("aws_access_key_id"))?;
    let secret = section
        .get("aws_secret_access_key")
        .ok_or_else(|| missing("aws_secret_access_key"))?;
    let auth = sigv4(key, secret, section.get("aws_session_token"));
    Ok(Some((auth, AwsSource::SharedFile { path, profile })))
}

fn read_small(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_FILE)
        .read_to_string(&mut text)?;
    Ok(text)
}

/// The non-empty `key = value` pairs of one profile of an AWS INI file.
struct Section<'a>(Vec<(String, &'a str)>);

impl Section<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// `[name]` (or `[profile name]`, as `~/.aws/config` writes it) of an INI text. Comment lines
/// start with `#` or `;`; keys are compared lowercased; a profile written twice is read as one.
fn profile_section<'a>(text: &'a str, profile: &str) -> Option<Section<'a>> {
    let mut inside = false;
    let mut found = false;
    let mut pairs = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = header.trim();
            let name = name.strip_prefix("profile ").map_or(name, str::trim);
            inside = name == profile;
            found |= inside;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim();
            if !value.is_empty() {
                pairs.push((key.trim().to_ascii_lowercase(), value));
            }
        }
    }
    found.then_some(Section(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn stored(text: &str) -> Result<BedrockAuth, AwsCredentialError> {
        parse_stored(&SecretString::from(text.to_owned()))
    }

    fn keys(auth: &BedrockAuth) -> (String, String, Option<String>) {
        match auth {
            BedrockAuth::SigV4(c) => (
                c.access_key_id.clone(),
                c.secret_access_key.expose_secret().to_owned(),
                c.session_token
                    .as_ref()
                    .map(|t| t.expose_secret().to_owned()),
            ),
            BedrockAuth::ApiKey(_) => panic!("an API key, not SigV4"),
        }
    }

    #[test]
    fn stored_credentials_in_every_spelling() {
        let plain = stored(" AKIDEXAMPLE:wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY\n").unwrap();
        assert_eq!(
            keys(&plain),
            (
                "AKIDEXAMPLE".into(),
                "wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                None
            )
        );
        let temporary = stored("ASIAEXAMPLE:secret:IQoJb3JpZ2luX2VjEJr//+token==").unwrap();
        assert_eq!(
            keys(&temporary).2.as_deref(),
            Some("IQoJb3JpZ2luX2VjEJr//+token==")
        );
        let json = stored(
            r#"{"access_key_id":"AKID","secret_access_key":"s3cret","session_token":"tok"}"#,
        )
        .unwrap();
        assert_eq!(
            keys(&json),
            ("AKID".into(), "s3cret".into(), Some("tok".into()))
        );
        // `aws configure export-credentials --format process`.
        let exported = stored(
            r#"{"Version":1,"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(
            keys(&exported),
            ("ASIA1".into(), "s".into(), Some("t".into()))
        );
        match stored("ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl").unwrap() {
            BedrockAuth::ApiKey(key) => {
                assert_eq!(key.expose_secret(), "ABSKQmVkcm9ja0FQSUtleS1leGFtcGxl");
            }
            BedrockAuth::SigV4(_) => panic!("an API key has no ':'"),
        }
    }

    #[test]
    fn malformed_credentials_say_why_without_the_secret() {
        for (text, expected) in [
            ("AKID:", "empty"),
            (":topsecret", "empty"),
            ("AKID:topsecret:", "session token"),
            ("a:b:c:d", "three"),
            ("", "empty or holds whitespace"),
            ("two words", "whitespace"),
            (r#"{"access_key_id":"AKID"}"#, "secret_access_key"),
            (
                r#"{"access_key_id":"","secret_access_key":"topsecret"}"#,
                "empty",
            ),
            (
                r#"{"access_key_id":"AKID","secret_access_key":["topsecret"]}"#,
                "JSON",
            ),
        ] {
            let err = stored(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(!err.contains("topsecret"), "{err}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_environment_comes_first_the_bearer_key_before_access_keys() {
        let both = env(&[
            (BEARER_ENV, "ABSKkey"),
            (ACCESS_KEY_ENV, "AKID"),
            (SECRET_KEY_ENV, "s"),
        ]);
        let (auth, source) = from_environment(&both, None).unwrap().unwrap();
        assert!(matches!(auth, BedrockAuth::ApiKey(_)));
        assert_eq!(source, AwsSource::BearerEnv);

        let keyed = env(&[
            (ACCESS_KEY_ENV, "AKID"),
            (SECRET_KEY_ENV, "s"),
            (SESSION_TOKEN_ENV, "t"),
        ]);
        let (auth, source) = from_environment(&keyed, None).unwrap().unwrap();
        assert_eq!(keys(&auth), ("AKID".into(), "s".into(), Some("t".into())));
        assert_eq!(source, AwsSource::KeyEnv);

        assert_eq!(
            from_environment(&env(&[(ACCESS_KEY_ENV, "AKID")]), None).unwrap_err(),
            AwsCredentialError::HalfSet {
                variable: ACCESS_KEY_ENV,
                missing: SECRET_KEY_ENV
            }
        );
        assert!(from_environment(&env(&[]), None).unwrap().is_none());
    }

    #[test]
    fn the_shared_credentials_file_and_its_profiles() {
        let home = tempfile::tempdir().unwrap();
        let aws = home.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            "# written by aws configure\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default/secret\n\n[profile work]\n; temporary\naws_access_key_id=ASIAWORK\naws_secret_access_key=work+secret\naws_session_token = work-token\n[broken]\naws_access_key_id = AKIDONLY\n",
        )
        .unwrap();
        let (auth, source) = from_environment(&env(&[]), Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(
            keys(&auth),
            ("AKIDDEFAULT".into(), "default/secret".into(), None)
        );
        assert_eq!(
            source,
            AwsSource::SharedFile {
                path: aws.join("credentials"),
                profile: "default".into()
            }
        );
        let (auth, _) = from_environment(&env(&[(PROFILE_ENV, "work")]), Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(
            keys(&auth),
            (
                "ASIAWORK".into(),
                "work+secret".into(),
                Some("work-token".into())
            )
        );
        let err =
            from_environment(&env(&[(PROFILE_ENV, "broken")]), Some(home.path())).unwrap_err();
        assert!(err.to_string().contains("aws_secret_access_key"), "{err}");
        assert!(
            from_environment(&env(&[(PROFILE_ENV, "absent")]), Some(home.path()))
                .unwrap()
                .is_none()
        );
        // AWS_SHARED_CREDENTIALS_FILE wins over the home folder's file.
        let other = home.path().join("other-credentials");
        std::fs::write(
            &other,
            "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n",
        )
        .unwrap();
        let picked = env(&[(CREDENTIALS_FILE_ENV, other.to_str().unwrap())]);
        let (auth, _) = from_environment(&picked, Some(home.path()))
            .unwrap()
            .unwrap();
        assert_eq!(keys(&auth).0, "AKIDOTHER");
        // No file at all: nothing found, no error.
        let empty = tempfile::tempdir().unwrap();
        assert!(
            from_environment(&env(&[]), Some(empty.path()))
                .unwrap()
                .is_none()
        );
    }
}
