//! What kind of problem an operation's error is, and which form field it is about, decided
//! once here so the app, the CLI and the tests read every engine error the same way.

use serde::Serialize;

use super::{
    BackendField, BackendOpError, ClaudeCodeError, EngineError, ImportFileError, KeyOpError,
    ProfileError, ProjectFolderError, RouteTestError, SettingsError, SettingsField, SetupError,
};
use crate::capture::CaptureOpError;
use crate::config::ConfigError;
use crate::usage::UsageError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
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

/// A field of one of the app's forms (each form knows its own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(untagged)]
pub enum FormField {
    Backend(BackendField),
    Settings(SettingsField),
}

/// An engine error as the user meets it: its kind, for a form the field at fault, and the
/// sentence to show.
pub trait Problem: std::fmt::Display {
    fn kind(&self) -> ProblemKind;
    fn field(&self) -> Option<FormField> {
        None
    }
    /// `Display` as a sentence: engine messages start lower-case (they are log lines too).
    fn sentence(&self) -> String {
        let message = self.to_string();
        let mut chars = message.chars();
        match chars.next() {
            Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
            _ => message,
        }
    }
}

impl Problem for EngineError {
    fn kind(&self) -> ProblemKind {
        match self {
            EngineError::Secret(_) => ProblemKind::Keychain,
            EngineError::Config(ConfigError::Read { .. } | ConfigError::Write { .. })
            | EngineError::Bind { .. } => ProblemKind::Io,
            EngineError::Config(_) | EngineError::NonLoopback(_) | EngineError::BadListenVar(_) => {
                ProblemKind::InvalidInput
            }
            EngineError::TokenFromEnv | EngineError::NoDataDir | EngineError::NoUsageHistory => {
                ProblemKind::Unavailable
            }
            EngineError::Usage(e) => e.kind(),
            EngineError::Internal(_) => ProblemKind::Engine,
        }
    }
}

impl Problem for UsageError {
    fn kind(&self) -> ProblemKind {
        match self {
            UsageError::TooNew { .. } | UsageError::NeedsUpgrade { .. } => ProblemKind::Unavailable,
            UsageError::WriterStopped | UsageError::Task(_) => ProblemKind::Engine,
            _ => ProblemKind::Io,
        }
    }
}

impl Problem for BackendOpError {
    fn kind(&self) -> ProblemKind {
        match self {
            BackendOpError::Field { .. }
            | BackendOpError::InUse { .. }
            | BackendOpError::RepointToItself(_) => ProblemKind::InvalidInput,
            BackendOpError::NotFound(_) => ProblemKind::NotFound,
            BackendOpError::KeyMove { .. } | BackendOpError::Keychain(_) => ProblemKind::Keychain,
            BackendOpError::CheckFailed(_) => ProblemKind::Upstream,
            BackendOpError::Keys(e) => e.kind(),
            BackendOpError::Engine(e) => e.kind(),
        }
    }
    fn field(&self) -> Option<FormField> {
        match self {
            BackendOpError::Field { field, .. } => Some(FormField::Backend(*field)),
            BackendOpError::Keys(e) => e.field(),
            _ => None,
        }
    }
}

impl Problem for KeyOpError {
    fn kind(&self) -> ProblemKind {
        match self {
            KeyOpError::NoBackend(_) | KeyOpError::NoSuchKey { .. } => ProblemKind::NotFound,
            KeyOpError::BadName(_)
            | KeyOpError::FromEnvironment(_)
            | KeyOpError::Empty
            | KeyOpError::Credential(_) => ProblemKind::InvalidInput,
            KeyOpError::Keychain(_) => ProblemKind::Keychain,
            KeyOpError::Config(ConfigError::Read { .. } | ConfigError::Write { .. }) => {
                ProblemKind::Io
            }
            KeyOpError::Config(_) => ProblemKind::InvalidInput,
        }
    }
    fn field(&self) -> Option<FormField> {
        match self {
            KeyOpError::BadName(_) => Some(FormField::Backend(BackendField::KeyName)),
            KeyOpError::Empty | KeyOpError::Credential(_) => {
                Some(FormField::Backend(BackendField::ApiKey))
            }
            _ => None,
        }
    }
}

impl Problem for CaptureOpError {
    fn kind(&self) -> ProblemKind {
        match self {
            CaptureOpError::Unavailable => ProblemKind::Unavailable,
            CaptureOpError::Capture(crate::capture::CaptureError::NotFound(_))
            | CaptureOpError::NoBackend(_)
            | CaptureOpError::NoProfile(_) => ProblemKind::NotFound,
            CaptureOpError::BadRequest(_) | CaptureOpError::BadWindow => ProblemKind::InvalidInput,
            CaptureOpError::Capture(_) => ProblemKind::Io,
            CaptureOpError::Internal(_) => ProblemKind::Engine,
        }
    }
}

impl Problem for ProfileError {
    fn kind(&self) -> ProblemKind {
        match self {
            ProfileError::NotFound(_) => ProblemKind::NotFound,
            ProfileError::Engine(e) => e.kind(),
            _ => ProblemKind::InvalidInput,
        }
    }
}

impl Problem for SettingsError {
    fn kind(&self) -> ProblemKind {
        match self {
            SettingsError::Engine(e) => e.kind(),
            _ => ProblemKind::InvalidInput,
        }
    }
    fn field(&self) -> Option<FormField> {
        SettingsError::field(self).map(FormField::Settings)
    }
}

impl Problem for ClaudeCodeError {
    fn kind(&self) -> ProblemKind {
        match self {
            ClaudeCodeError::NoSettingsPath => ProblemKind::Unavailable,
            ClaudeCodeError::Settings(_) => ProblemKind::Io,
            ClaudeCodeError::Engine(e) => e.kind(),
        }
    }
}

impl Problem for ProjectFolderError {
    fn kind(&self) -> ProblemKind {
        match self {
            ProjectFolderError::Project(crate::claude_code::ProjectError::NotAFolder(_)) => {
                ProblemKind::InvalidInput
            }
            ProjectFolderError::Project(crate::claude_code::ProjectError::CreateDir { .. }) => {
                ProblemKind::Io
            }
            ProjectFolderError::Profile(e) => e.kind(),
            ProjectFolderError::ClaudeCode(e) => e.kind(),
        }
    }
}

impl Problem for RouteTestError {
    fn kind(&self) -> ProblemKind {
        match self {
            RouteTestError::NoModel => ProblemKind::InvalidInput,
            RouteTestError::Gateway { .. } => ProblemKind::Upstream,
        }
    }
}

impl Problem for SetupError {
    fn kind(&self) -> ProblemKind {
        match self {
            SetupError::Backend(e) => e.kind(),
            SetupError::Profile(e) => e.kind(),
        }
    }
    fn field(&self) -> Option<FormField> {
        match self {
            SetupError::Backend(e) => e.field(),
            SetupError::Profile(e) => e.field(),
        }
    }
}

impl Problem for crate::litellm::ImportError {
    fn kind(&self) -> ProblemKind {
        use crate::litellm::ImportError;
        match self {
            ImportError::Yaml { .. } | ImportError::BadProfile(_) | ImportError::Invalid { .. } => {
                ProblemKind::InvalidInput
            }
            ImportError::Config(e) => e.kind(),
            ImportError::Keychain { .. } => ProblemKind::Keychain,
            ImportError::Backup { .. } => ProblemKind::Io,
            ImportError::Internal(_) => ProblemKind::Engine,
        }
    }
}

impl Problem for ImportFileError {
    fn kind(&self) -> ProblemKind {
        match self {
            ImportFileError::TooLarge { .. }
            | ImportFileError::NotAFile { .. }
            | ImportFileError::NotText { .. } => ProblemKind::InvalidInput,
            ImportFileError::Read { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                ProblemKind::NotFound
            }
            ImportFileError::Read { .. } => ProblemKind::Io,
            ImportFileError::Import(e) => e.kind(),
        }
    }
}

impl Problem for ConfigError {
    fn kind(&self) -> ProblemKind {
        match self {
            ConfigError::Read { .. } | ConfigError::Write { .. } => ProblemKind::Io,
            _ => ProblemKind::InvalidInput,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_name_their_field_and_others_their_kind() {
        let field = BackendOpError::Field {
            field: BackendField::BaseUrl,
            message: "Enter a URL that starts with http://".into(),
        };
        assert_eq!(field.kind(), ProblemKind::InvalidInput);
        assert_eq!(
            field.field(),
            Some(FormField::Backend(BackendField::BaseUrl))
        );
        assert_eq!(
            Problem::field(&SettingsError::Port),
            Some(FormField::Settings(SettingsField::Port))
        );
        assert_eq!(
            ProfileError::NotFound("work".into()).kind(),
            ProblemKind::NotFound
        );
        // Wrapped engine errors keep the engine's kind.
        let wrapped = ProfileError::Engine(EngineError::TokenFromEnv);
        assert_eq!(wrapped.kind(), ProblemKind::Unavailable);
        // Shown as a sentence; the log line keeps its lower case.
        assert!(wrapped.to_string().starts_with("the local token"));
        assert!(wrapped.sentence().starts_with("The local token comes from"));
        assert_eq!(field.sentence(), field.to_string());
        assert_eq!(wrapped.field(), None);
        // The window gets `"base_url"`, the name its form uses, not a tagged enum.
        assert_eq!(
            serde_json::to_string(&FormField::Backend(BackendField::BaseUrl)).unwrap(),
            "\"base_url\""
        );
    }
}
