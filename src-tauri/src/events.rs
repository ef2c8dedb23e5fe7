//! Events the Rust side pushes to the window (typed on both sides via tauri-specta).

use serde::Serialize;
use specta::Type;

use crate::commands::overview::{GatewayStatus, RequestRow};

/// A request went through the gateway (ok or not).
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct RequestFinished {
    pub row: RequestRow,
}

/// Something the Overview shows changed: profile, pause, counters.
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct StatusChanged {
    pub status: GatewayStatus,
}
