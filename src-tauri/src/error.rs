//! The one error type every command returns. The window shows `message` (a sentence), may
//! branch on `kind`, and shows it under `field` when a form's field is at fault. What kind an
//! engine error is, and its field, the engine decides (`engine::Problem`).

use serde::Serialize;
use specta::Type;
use switchyard_core::config::ConfigError;
use switchyard_core::engine::{
    BackendOpError, CaptureOpError, ClaudeCodeError, EngineError, FormField, ImportFileError,
    Problem, ProblemKind, ProfileError, ProjectFolderError, RouteTestError, SettingsError,
    SetupError,
};
use switchyard_core::usage::UsageError;

pub use switchyard_core::engine::ProblemKind as ErrorKind;

#[derive(Debug, Clone, Serialize, Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub kind: ProblemKind,
    pub message: String,
    /// The form field at fault, so the window can show `message` under it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<FormField>,
}

impl CommandError {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
        }
    }

    fn of(problem: &impl Problem) -> Self {
        Self {
            kind: problem.kind(),
            message: problem.sentence(),
            field: problem.field(),
        }
    }
}

macro_rules! from_problems {
    ($($error:ty),*) => {$(
        impl From<$error> for CommandError {
            fn from(e: $error) -> Self {
                Self::of(&e)
            }
        }
    )*};
}

from_problems!(
    EngineError,
    UsageError,
    ConfigError,
    BackendOpError,
    ProfileError,
    SettingsError,
    ClaudeCodeError,
    RouteTestError,
    SetupError,
    ProjectFolderError,
    ImportFileError,
    CaptureOpError
);

pub type CmdResult<T> = Result<T, CommandError>;
