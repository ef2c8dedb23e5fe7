//! Events the Rust side pushes to the window (typed on both sides via tauri-specta).

use serde::Serialize;
use specta::Type;
use switchyard_core::usage::RequestRow;

use switchyard_core::engine::GatewayStatus;

/// A request went through the gateway (ok or not), announced as soon as it finished; its row
/// reaches the usage database a moment later ([`UsageChanged`]).
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct RequestFinished {
    pub row: RequestRow,
}

/// New requests are in the usage database: history, totals and today's counters can be
/// re-read.
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct UsageChanged {
    pub status: GatewayStatus,
}

/// Something the Overview shows changed: profile, pause, counters.
#[derive(Debug, Clone, Serialize, Type, tauri_specta::Event)]
pub struct StatusChanged {
    pub status: GatewayStatus,
}
