//! Why an inspector operation failed.

use super::CaptureError;

/// Why an inspector operation failed; each message is a sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum CaptureOpError {
    #[error(
        "Captures are not available: Switchyard has no usage database to keep them in (see the usage history's message)"
    )]
    Unavailable,
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("There is no backend called {0}: choose one of the configured backends")]
    NoBackend(String),
    #[error("There is no profile called {0}")]
    NoProfile(String),
    #[error("The captured request cannot be sent again: {0}")]
    BadRequest(String),
    #[error("Choose how long to capture: between 1 minute and 24 hours")]
    BadWindow,
    #[error("{0}")]
    Internal(String),
}
