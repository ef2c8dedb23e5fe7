//! Rate limits per backend (`rpm`, `tpm`): a sliding minute of what was sent. A target at its
//! limit is skipped for the next one; the client gets a 429 only when nothing is left, told
//! when the earliest limit frees up. Tokens are counted with the local estimate when a
//! request is sent and corrected with the upstream's usage when it finishes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::BackendConfig;

const WINDOW: Duration = Duration::from_secs(60);

/// One request counted against a backend's window: corrected by [`RateLimits::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    backend: String,
    id: u64,
}

/// Why a backend cannot take a request now, and when it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtLimit {
    pub retry_after: Duration,
    /// Which limit: requests (`rpm`) or tokens (`tpm`).
    pub tokens: bool,
}

/// A backend's last minute against its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitUsage {
    pub requests: u64,
    pub tokens: u64,
    /// At a limit now: how long until a request fits again.
    pub free_in: Option<Duration>,
}

#[derive(Debug, Default)]
struct Window {
    /// Requests sent in the last minute, oldest first: (when, id, tokens counted).
    sent: VecDeque<(Instant, u64, u64)>,
    tokens: u64,
}

impl Window {
    fn prune(&mut self, now: Instant) {
        while let Some(&(at, _, tokens)) = self.sent.front() {
            if now.saturating_duration_since(at) < WINDOW {
                break;
            }
            self.tokens = self.tokens.saturating_sub(tokens);
            self.sent.pop_front();
        }
    }

    /// When the window will have room for `tokens` more (a request larger than the whole
    /// limit waits for an empty window, then goes alone rather than never).
    fn tokens_free_at(&self, now: Instant, tpm: u64, tokens: u64) -> Duration {
        let mut in_window = self.tokens;
        for &(at, _, counted) in &self.sent {
            if in_window + tokens <= tpm {
                break;
            }
            in_window = in_window.saturating_sub(counted);
            if in_window + tokens <= tpm || in_window == 0 {
                return (at + WINDOW).saturating_duration_since(now);
            }
        }
        Duration::ZERO
    }
}

#[derive(Debug, Default)]
pub struct RateLimits {
    windows: Mutex<HashMap<String, Window>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl RateLimits {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Window>> {
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a request of about `tokens` against `backend`'s limits, or says when it can go.
    /// `None` when the backend has no limits (nothing is kept for it).
    pub fn acquire(
        &self,
        backend: &BackendConfig,
        tokens: u64,
        now: Instant,
    ) -> Option<Result<Ticket, AtLimit>> {
        if backend.rpm.is_none() && backend.tpm.is_none() {
            return None;
        }
        let mut windows = self.lock();
        let window = windows.entry(backend.id.clone()).or_default();
        window.prune(now);
        if let Some(rpm) = backend.rpm
            && window.sent.len() >= rpm as usize
        {
            let oldest = window.sent[window.sent.len() - rpm as usize].0;
            return Some(Err(AtLimit {
                retry_after: (oldest + WINDOW).saturating_duration_since(now),
                tokens: false,
            }));
        }
        if let Some(tpm) = backend.tpm
            && window.tokens > 0
            && window.tokens.saturating_add(tokens) > tpm
        {
            return Some(Err(AtLimit {
                retry_after: window.tokens_free_at(now, tpm, tokens),
                tokens: true,
            }));
        }
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        window.sent.push_back((now, id, tokens));
        window.tokens = window.tokens.saturating_add(tokens);
        Some(Ok(Ticket {
            backend: backend.id.clone(),
            id,
        }))
    }

    /// What `backend` used of its limits in the last minute: requests, tokens, and when it
    /// has room again if it is at a limit now (`None` for a backend without limits).
    pub fn usage(&self, backend: &BackendConfig, now: Instant) -> Option<LimitUsage> {
        if backend.rpm.is_none() && backend.tpm.is_none() {
            return None;
        }
        let mut windows = self.lock();
        let window = windows.entry(backend.id.clone()).or_default();
        window.prune(now);
        let requests = window.sent.len();
        let free_in = match (backend.rpm, backend.tpm) {
            (Some(rpm), _) if requests >= rpm as usize => {
                let oldest = window.sent[requests - rpm as usize].0;
                Some((oldest + WINDOW).saturating_duration_since(now))
            }
            (_, Some(tpm)) if window.tokens >= tpm => Some(window.tokens_free_at(now, tpm, 1)),
            _ => None,
        };
        Some(LimitUsage {
            requests: requests as u64,
            tokens: window.tokens,
            free_in,
        })
    }

    /// Replaces a request's estimate with the tokens it really used (input and output).
    pub fn settle(&self, ticket: &Ticket, tokens: u64) {
        let mut windows = self.lock();
        let Some(window) = windows.get_mut(&ticket.backend) else {
            return;
        };
        // Ids are handed out in increasing order and entries leave from the front: the window
        // stays sorted by id, whatever its size (an rpm of thousands).
        if let Ok(at) = window.sent.binary_search_by_key(&ticket.id, |e| e.1)
            && let Some(entry) = window.sent.get_mut(at)
        {
            window.tokens = window.tokens.saturating_sub(entry.2).saturating_add(tokens);
            entry.2 = tokens;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(rpm: Option<u32>, tpm: Option<u64>) -> BackendConfig {
        let mut b: BackendConfig =
            toml::from_str("id = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:1\"\n")
                .unwrap();
        b.rpm = rpm;
        b.tpm = tpm;
        b
    }

    #[test]
    fn requests_per_minute_slide() {
        let limits = RateLimits::default();
        let b = backend(Some(2), None);
        let t0 = Instant::now();
        assert!(limits.acquire(&b, 0, t0).unwrap().is_ok());
        assert!(
            limits
                .acquire(&b, 0, t0 + Duration::from_secs(10))
                .unwrap()
                .is_ok()
        );
        let refused = limits
            .acquire(&b, 0, t0 + Duration::from_secs(20))
            .unwrap()
            .unwrap_err();
        // The first request leaves the window at t0 + 60 s: 40 s from now.
        assert_eq!(refused.retry_after, Duration::from_secs(40));
        assert!(!refused.tokens);
        assert!(
            limits
                .acquire(&b, 0, t0 + Duration::from_secs(60))
                .unwrap()
                .is_ok()
        );
        assert!(
            limits
                .acquire(&b, 0, t0 + Duration::from_secs(61))
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn tokens_per_minute_count_the_estimate_then_the_real_usage() {
        let limits = RateLimits::default();
        let b = backend(None, Some(1000));
        let t0 = Instant::now();
        let first = limits.acquire(&b, 600, t0).unwrap().unwrap();
        let refused = limits
            .acquire(&b, 600, t0 + Duration::from_secs(5))
            .unwrap()
            .unwrap_err();
        assert!(refused.tokens);
        assert_eq!(refused.retry_after, Duration::from_secs(55));
        // The first request really used 300: now there is room.
        limits.settle(&first, 300);
        assert!(
            limits
                .acquire(&b, 600, t0 + Duration::from_secs(6))
                .unwrap()
                .is_ok()
        );
        // A request bigger than the whole limit goes alone once the window is empty.
        assert!(
            limits
                .acquire(&b, 5000, t0 + Duration::from_secs(7))
                .unwrap()
                .is_err()
        );
        assert!(
            limits
                .acquire(&b, 5000, t0 + Duration::from_secs(67))
                .unwrap()
                .is_ok()
        );
    }

    #[test]
    fn a_backend_without_limits_keeps_nothing() {
        let limits = RateLimits::default();
        assert!(
            limits
                .acquire(&backend(None, None), 10, Instant::now())
                .is_none()
        );
        assert!(limits.lock().is_empty());
    }
}
