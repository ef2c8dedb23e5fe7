//! What the commands share: the engine handle, the usage history reader, today's counters and
//! desktop preferences.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use switchyard_core::usage::{Today, UsageReader};

use crate::engine::Engine;
use crate::prefs::Prefs;

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

    pub fn today(&self) -> Today {
        self.today.lock().map(|t| t.clone()).unwrap_or_default()
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
