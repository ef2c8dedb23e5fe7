//! The one error type every command returns. The window shows `message` (a sentence), may
//! branch on `kind`, and shows it under `field` when a form's field is at fault. What kind an
//! engine error is, and its field, the engine decides (`engine::Problem`).

use serde::Serialize;
use specta::Type;
use switchyard_core::config::ConfigError;
use switchyard_core::engine::{
    BackendOpError, ClaudeCodeError, EngineError, FormField, Problem, ProblemKind, ProfileError,
    RouteTestError, SettingsError, SetupError,
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
    /// Engine messages often start lower-case (they are also log lines); the window shows
    /// them as sentences.
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Self {
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

    fn of(problem: &impl Problem) -> Self {
        Self {
            field: problem.field(),
            ..Self::new(problem.kind(), problem.to_string())
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
    SetupError
);

pub type CmdResult<T> = Result<T, CommandError>;
