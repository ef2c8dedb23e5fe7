//! Checking one configured backend the way requests reach it: its key, its model list.
//!
//! - `outcome`: the typed result, its sentences, the classification of an answer (pure).
//! - `probe`: the one HTTP call.
//! - `cloud`: Bedrock's and Vertex's checks (their credentials, their signed or token call).

mod cloud;
mod outcome;
mod probe;

pub use outcome::{BackendCheck, CheckOutcome, CheckedModel};
pub use probe::{CheckKey, CheckSettings, check_backend};
