//! The one error type every command returns. The window shows `message` and may branch on `kind`.

use serde::Serialize;
use specta::Type;

use switchyard_core::engine::{BackendField, BackendOpError, SettingsField};
use switchyard_core::usage::UsageError;

use switchyard_core::engine::EngineError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The user typed something the engine refuses (bad URL, duplicate id, ...).
    InvalidInput,
    NotFound,
    /// The OS keychain is missing, locked or refused the operation.
    Keychain,
    /// A backend or the gateway answered with an error or did not answer.
    Upstream,
    /// Reading or writing a file failed.
    Io,
    /// The feature is not available in this build or on this machine.
    Unavailable,
    /// Anything else from the engine.
    Engine,
}

#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ErrorKind,
    pub message: String,
    /// The form field at fault, so the window can show `message` under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FormField>,
}

/// A field of one of the window's forms (each form knows its own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(untagged)]
pub enum FormField {
    Backend(BackendField),
    Settings(SettingsField),
}

impl CommandError {
    /// Engine messages often start lower-case (they are also log lines); the window shows
    /// them as sentences.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message: String = message.into();
        let mut chars = message.chars();
        let message = match chars.next() {
            Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
            _ => message,
        };
        Self {
            kind,
            message,
            field: None,
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn upstream(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }
}

impl From<EngineError> for CommandError {
    fn from(e: EngineError) -> Self {
        Self::from_engine(&e)
    }
}

impl CommandError {
    pub(crate) fn from_engine(e: &EngineError) -> Self {
        use switchyard_core::config::ConfigError;
        let kind = match e {
            EngineError::Secret(_) => ErrorKind::Keychain,
            EngineError::Config(ConfigError::Read { .. } | ConfigError::Write { .. }) => {
                ErrorKind::Io
            }
            EngineError::Config(_) | EngineError::NonLoopback(_) => ErrorKind::InvalidInput,
            EngineError::TokenFromEnv => ErrorKind::Unavailable,
            EngineError::Bind { .. } => ErrorKind::Io,
            _ => ErrorKind::Engine,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<BackendOpError> for CommandError {
    fn from(e: BackendOpError) -> Self {
        let kind = match &e {
            BackendOpError::Field { field, message } => {
                return Self {
                    kind: ErrorKind::InvalidInput,
                    message: message.clone(),
                    field: Some(FormField::Backend(*field)),
                };
            }
            BackendOpError::NotFound(_) => ErrorKind::NotFound,
            BackendOpError::InUse { .. } | BackendOpError::RepointToItself(_) => {
                ErrorKind::InvalidInput
            }
            BackendOpError::KeyMove { .. } | BackendOpError::Keychain(_) => ErrorKind::Keychain,
            BackendOpError::CheckFailed(_) => ErrorKind::Upstream,
            BackendOpError::Engine(engine) => return CommandError::from_engine(engine),
        };
        Self::new(kind, e.to_string())
    }
}

impl From<std::io::Error> for CommandError {
    fn from(e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, e.to_string())
    }
}

impl From<UsageError> for CommandError {
    fn from(e: UsageError) -> Self {
        let kind = match &e {
            UsageError::TooNew { .. } | UsageError::NeedsUpgrade { .. } => ErrorKind::Unavailable,
            UsageError::WriterStopped | UsageError::Task(_) => ErrorKind::Engine,
            _ => ErrorKind::Io,
        };
        Self::new(kind, e.to_string())
    }
}

pub type CmdResult<T> = Result<T, CommandError>;

#[cfg(test)]
mod tests {
    use switchyard_core::usage::UsageReader;

    use super::*;

    #[tokio::test]
    async fn a_missing_usage_database_is_a_readable_error() {
        let dir = tempfile::tempdir().unwrap();
        let reader = UsageReader::new(dir.path().join("nope").join("usage.sqlite3"));
        let err = CommandError::from(reader.today().await.unwrap_err());
        assert_eq!(err.kind, ErrorKind::Io);
        assert!(
            err.message.starts_with("Usage database "),
            "{}",
            err.message
        );
        assert!(err.message.contains("usage.sqlite3"), "{}", err.message);
    }
}
