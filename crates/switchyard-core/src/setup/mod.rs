//! The first hour: what to suggest to a new user (engines found, a mapping for Claude Code's
//! model families). The operations that apply the suggestions are the engine's
//! (`engine/setup.rs`).

mod suggest;

pub use suggest::{FamilyModels, suggest};
