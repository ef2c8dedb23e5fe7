//! What the balancing strategies read about each target: requests in flight per backend
//! (`least_busy`), a moving time to first token per backend and model (`lowest_latency`) and
//! the tokens a backend served in the current minute (`usage`). Kept in memory, updated by
//! each request's recorder; a fresh start knows nothing and spreads by the order written.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Weight of the newest sample in the moving time to first token.
const LATENCY_WEIGHT: f64 = 0.3;

#[derive(Debug, Default)]
pub struct Load {
    in_flight: Mutex<HashMap<String, usize>>,
    /// Milliseconds to the first byte, per (backend, upstream model).
    latency: Mutex<HashMap<(String, String), f64>>,
    /// (minute since the epoch, tokens served in it), per backend.
    minute_tokens: Mutex<HashMap<String, (u64, u64)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn this_minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60)
}

impl Load {
    pub fn begin(&self, backend: &str) {
        *lock(&self.in_flight).entry(backend.to_owned()).or_default() += 1;
    }

    pub fn end(&self, backend: &str) {
        if let Some(n) = lock(&self.in_flight).get_mut(backend) {
            *n = n.saturating_sub(1);
        }
    }

    pub fn in_flight(&self, backend: &str) -> usize {
        lock(&self.in_flight).get(backend).copied().unwrap_or(0)
    }

    /// A request answered: its time to first byte and the tokens it used.
    pub fn answered(&self, backend: &str, model: &str, ttft_ms: Option<u64>, tokens: u64) {
        if let Some(ms) = ttft_ms {
            let mut latency = lock(&self.latency);
            let entry = latency
                .entry((backend.to_owned(), model.to_owned()))
                .or_insert(ms as f64);
            *entry += LATENCY_WEIGHT * (ms as f64 - *entry);
        }
        self.add_tokens(backend, this_minute(), tokens);
    }

    fn add_tokens(&self, backend: &str, minute: u64, tokens: u64) {
        let mut minutes = lock(&self.minute_tokens);
        let entry = minutes.entry(backend.to_owned()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(tokens);
    }

    /// The moving time to first token; `None` before the first answer.
    pub fn latency_ms(&self, backend: &str, model: &str) -> Option<f64> {
        lock(&self.latency)
            .get(&(backend.to_owned(), model.to_owned()))
            .copied()
    }

    /// Tokens `backend` served in the current minute.
    pub fn minute_tokens(&self, backend: &str) -> u64 {
        self.tokens_in(backend, this_minute())
    }

    fn tokens_in(&self, backend: &str, minute: u64) -> u64 {
        lock(&self.minute_tokens)
            .get(backend)
            .filter(|(m, _)| *m == minute)
            .map_or(0, |(_, tokens)| *tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_latency_and_minute_tokens() {
        let load = Load::default();
        load.begin("a");
        load.begin("a");
        load.end("a");
        assert_eq!(load.in_flight("a"), 1);
        assert_eq!(load.in_flight("b"), 0);
        load.end("b");
        assert_eq!(load.in_flight("b"), 0, "never below zero");

        load.answered("a", "m", Some(100), 10);
        assert_eq!(load.latency_ms("a", "m"), Some(100.0));
        load.answered("a", "m", Some(200), 5);
        assert_eq!(load.latency_ms("a", "m"), Some(130.0));
        assert_eq!(load.latency_ms("a", "other"), None);

        load.add_tokens("c", 7, 40);
        load.add_tokens("c", 7, 2);
        assert_eq!(load.tokens_in("c", 7), 42);
        load.add_tokens("c", 8, 1);
        assert_eq!(load.tokens_in("c", 8), 1, "a new minute starts from zero");
        assert_eq!(load.tokens_in("c", 7), 0);
    }
}
