//! What the commands share: the engine handle, the usage history reader, today's counters and
//! desktop preferences.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use switchyard_core::usage::{Today, UsageReader};

use crate::error::CmdResult;
use crate::prefs::Prefs;
use switchyard_core::engine::Engine;
use switchyard_core::engine::GatewayStatus;

pub struct AppState {
    pub engine: Engine,
    /// `None` when the engine records no usage (started with another sink).
    pub usage: Option<Arc<UsageReader>>,
    /// Today's totals, cached so the tray can draw its status line without a query on the
    /// UI thread.
    pub today: Mutex<Today>,
    /// Poked for every finished request; the task waiting on it makes the writer commit,
    /// then tells the window the history changed.
    pub stored: Notify,
    pub prefs: Mutex<Prefs>,
    pub tray_host: bool,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(
        engine: Engine,
        usage: Option<Arc<UsageReader>>,
        prefs: Prefs,
        tray_host: bool,
    ) -> Self {
        Self {
            engine,
            usage,
            today: Mutex::new(Today::default()),
            stored: Notify::new(),
            prefs: Mutex::new(prefs),
            tray_host,
        }
    }

    /// The gateway's status with the cached counters (no I/O: the tray calls this on the UI
    /// thread).
    pub fn status(&self) -> GatewayStatus {
        self.engine.status(&self.today())
    }

    /// Re-reads today's totals from the usage database (on the blocking pool).
    pub async fn refresh_today(&self) -> CmdResult<()> {
        let Some(reader) = self.usage.clone() else {
            return Ok(());
        };
        let fresh = reader.today().await?;
        if let Ok(mut today) = self.today.lock() {
            *today = fresh;
        }
        Ok(())
    }

    pub fn today(&self) -> Today {
        self.today.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
