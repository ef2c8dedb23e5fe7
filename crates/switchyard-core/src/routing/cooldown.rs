use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Backends that recently failed (down, 429, 5xx) and should be tried last for a while.
#[derive(Debug, Default)]
pub struct Cooldowns {
    until: Mutex<HashMap<String, Instant>>,
}

impl Cooldowns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.until.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn fail(&self, backend: &str, for_how_long: Duration) {
        self.lock()
            .insert(backend.to_owned(), Instant::now() + for_how_long);
    }

    pub fn succeed(&self, backend: &str) {
        let mut map = self.lock();
        if !map.is_empty() {
            map.remove(backend);
        }
    }

    pub fn is_cooling(&self, backend: &str) -> bool {
        let map = self.lock();
        map.get(backend)
            .is_some_and(|until| *until > Instant::now())
    }
}
