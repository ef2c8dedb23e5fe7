//! What the commands share: the engine handle, the recent-requests buffer and desktop preferences.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use switchyard_core::usage::UsageRecord;

use crate::engine::Engine;
use crate::prefs::Prefs;

/// Requests kept in memory for the Overview and (until the SQLite usage store is wired) Usage.
const RECENT_CAP: usize = 10_000;

pub struct AppState {
    pub engine: Engine,
    pub recent: Mutex<VecDeque<UsageRecord>>,
    pub prefs: Mutex<Prefs>,
    pub last_error: Mutex<Option<String>>,
    pub tray_host: bool,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(engine: Engine, prefs: Prefs, tray_host: bool) -> Self {
        Self {
            engine,
            recent: Mutex::new(VecDeque::new()),
            prefs: Mutex::new(prefs),
            last_error: Mutex::new(None),
            tray_host,
        }
    }

    pub fn push_record(&self, record: UsageRecord) {
        if record.error_message.is_some()
            && let Ok(mut last) = self.last_error.lock()
        {
            *last = record.error_message.clone();
        }
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() >= RECENT_CAP {
                recent.pop_front();
            }
            recent.push_back(record);
        }
    }

    pub fn records(&self) -> Vec<UsageRecord> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
