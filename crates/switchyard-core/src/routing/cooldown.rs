use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A failure older than this no longer counts against a backend's `allowed_fails`.
const FAIL_WINDOW: Duration = Duration::from_secs(60);

/// Backends that recently failed (down, 429, 5xx) and should be tried last for a while.
#[derive(Debug, Default)]
pub struct Cooldowns {
    until: Mutex<HashMap<String, Instant>>,
    /// Recent failures per backend, for `allowed_fails`.
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Cooldowns {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A failure (retries spent): the backend cools down for `for_how_long` once more than
    /// `allowed_fails` failures fell within a minute.
    pub fn fail(&self, backend: &str, for_how_long: Duration, allowed_fails: u32) {
        let now = Instant::now();
        if allowed_fails > 0 {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            let recent = failures.entry(backend.to_owned()).or_default();
            while recent
                .front()
                .is_some_and(|at| now.saturating_duration_since(*at) >= FAIL_WINDOW)
            {
                recent.pop_front();
            }
            recent.push_back(now);
            if recent.len() <= allowed_fails as usize {
                return;
            }
            recent.clear();
        }
        self.lock().insert(backend.to_owned(), now + for_how_long);
    }

    pub fn succeed(&self, backend: &str) {
        let mut map = self.lock();
        if !map.is_empty() {
            map.remove(backend);
        }
        drop(map);
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if !failures.is_empty() {
            failures.remove(backend);
        }
    }

    pub fn is_cooling(&self, backend: &str) -> bool {
        self.cooling_until(backend).is_some()
    }

    /// When the backend's cooldown ends, if it is cooling down now.
    pub fn cooling_until(&self, backend: &str) -> Option<Instant> {
        let map = self.lock();
        map.get(backend)
            .copied()
            .filter(|until| *until > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_fails_let_failures_pass_within_a_minute() {
        let cooldowns = Cooldowns::default();
        cooldowns.fail("a", Duration::from_secs(30), 0);
        assert!(
            cooldowns.is_cooling("a"),
            "no failures allowed: the first cools down"
        );

        cooldowns.fail("b", Duration::from_secs(30), 2);
        cooldowns.fail("b", Duration::from_secs(30), 2);
        assert!(!cooldowns.is_cooling("b"), "two failures allowed");
        cooldowns.fail("b", Duration::from_secs(30), 2);
        assert!(cooldowns.is_cooling("b"), "the third cools down");

        cooldowns.succeed("b");
        assert!(!cooldowns.is_cooling("b"));
        cooldowns.fail("b", Duration::from_secs(30), 2);
        assert!(
            !cooldowns.is_cooling("b"),
            "a success starts the count again"
        );
    }
}
