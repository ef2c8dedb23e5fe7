//! What the commands share: the engine handle and the desktop preferences.

use std::sync::{Arc, Mutex};

use switchyard_core::engine::Engine;

use crate::prefs::Prefs;

pub struct AppState {
    pub engine: Engine,
    pub prefs: Mutex<Prefs>,
    pub tray_host: bool,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn prefs(&self) -> Prefs {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }
}
