use std::path::PathBuf;

use crate::config::{ConfigError, Issue};
use crate::secrets::SecretError;

/// Why an import did not happen; every message is a sentence for a person. Nothing was
/// changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the LiteLLM file is not valid YAML: line {line}, column {column}: {message}")]
    Yaml {
        line: u64,
        column: u64,
        message: String,
    },
    #[error("{0:?} cannot be a profile name: give a name such as litellm")]
    BadProfile(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "the imported config would not be valid, so nothing was changed:{}",
        issues.iter().map(|i| format!("\n  - {i}")).collect::<String>()
    )]
    Invalid { issues: Vec<Issue> },
    #[error(
        "the key of backend {backend} could not be stored in the keychain, so nothing was changed: {source} (or write the key in the LiteLLM file as api_key: os.environ/NAME and import again)"
    )]
    Keychain {
        backend: String,
        source: SecretError,
    },
    #[error("cannot write the backup {path} of the config, so nothing was changed: {source}")]
    Backup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("an internal task failed: {0}")]
    Internal(String),
}

impl From<super::yaml::YamlError> for ImportError {
    fn from(err: super::yaml::YamlError) -> Self {
        ImportError::Yaml {
            line: err.line,
            column: err.column,
            message: err.message,
        }
    }
}
