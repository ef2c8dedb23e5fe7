//! How each backend is doing right now, for the mapping screen's targets: ready, cooling down
//! after failures, or at its rate limit, with what the balancing strategies see.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::Engine;
use crate::config::DEFAULT_KEY_NAME;
use crate::gateway::KeyHealth;
use crate::usage::now_ms;

/// One backend's state; times are Unix ms so the window can say "until 10:42".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackendState {
    pub backend: String,
    /// Tried last until then, after failures (`allowed_fails`, `cooldown_s`).
    pub cooling_until_ms: Option<i64>,
    /// At its `rpm` / `tpm` until then: skipped to the next target meanwhile.
    pub limited_until_ms: Option<i64>,
    /// Requests sent in the last minute, and its `rpm` (when it has one).
    pub requests_last_minute: Option<u64>,
    pub rpm: Option<u32>,
    /// Tokens counted in the last minute, and its `tpm` (when it has one).
    pub tokens_last_minute: Option<u64>,
    pub tpm: Option<u64>,
    pub in_flight: u64,
    /// A backend with several keys: each key's state, in the order written (empty otherwise).
    pub keys: Vec<KeyState>,
}

/// One key of a pool as the requests left it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeyState {
    pub name: String,
    pub health: KeyHealth,
}

fn unix_ms_in(from_now: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(from_now.as_millis()).unwrap_or(i64::MAX))
}

impl Engine {
    /// Every configured backend's state, in config order.
    pub fn backend_states(&self) -> Vec<BackendState> {
        let gateway = self.gateway();
        let now = Instant::now();
        self.config()
            .backends
            .iter()
            .map(|b| {
                let limits = gateway.rate_limits.usage(b, now);
                BackendState {
                    backend: b.id.clone(),
                    cooling_until_ms: gateway
                        .cooldowns
                        .cooling_until(&b.id)
                        .map(|until| unix_ms_in(until.saturating_duration_since(now))),
                    limited_until_ms: limits.and_then(|l| l.free_in).map(unix_ms_in),
                    requests_last_minute: limits.filter(|_| b.rpm.is_some()).map(|l| l.requests),
                    rpm: b.rpm,
                    tokens_last_minute: limits.filter(|_| b.tpm.is_some()).map(|l| l.tokens),
                    tpm: b.tpm,
                    in_flight: gateway.load.in_flight(&b.id) as u64,
                    keys: match b.has_key_pool() {
                        true => gateway
                            .keys()
                            .health(b, now)
                            .into_iter()
                            .map(|(key, health)| KeyState {
                                name: key.name().unwrap_or(DEFAULT_KEY_NAME).to_owned(),
                                health,
                            })
                            .collect(),
                        false => Vec::new(),
                    },
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::engine::test_support::engine_with;

    #[tokio::test]
    async fn states_show_limits_cooldowns_and_requests_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine_with(
            dir.path(),
            "listen = \"127.0.0.1:0\"\nactive_profile = \"p\"\n[[backends]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:9\"\nrpm = 1\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:10\"\n[profiles.p]\ndefault = { backend = \"a\" }\n",
        )
        .await;
        let fresh = engine.backend_states();
        assert_eq!(fresh.len(), 2);
        assert_eq!(
            (
                fresh[0].requests_last_minute,
                fresh[0].rpm,
                fresh[0].limited_until_ms
            ),
            (Some(0), Some(1), None)
        );
        assert_eq!(
            fresh[1].requests_last_minute, None,
            "no limit, nothing counted"
        );

        let gateway = engine.gateway();
        let a = engine.config().backend("a").unwrap().clone();
        assert!(
            gateway
                .rate_limits
                .acquire(&a, 0, std::time::Instant::now())
                .unwrap()
                .is_ok()
        );
        gateway.cooldowns.fail("b", Duration::from_secs(30), 0);
        gateway.load.begin("b");
        let states = engine.backend_states();
        let now = crate::usage::now_ms();
        let limited = states[0].limited_until_ms.expect("a is at its rpm");
        assert!(
            (now + 55_000..=now + 61_000).contains(&limited),
            "{limited} vs {now}"
        );
        assert_eq!(states[0].requests_last_minute, Some(1));
        let cooling = states[1].cooling_until_ms.expect("b cools down");
        assert!((now + 25_000..=now + 31_000).contains(&cooling));
        assert_eq!(states[1].in_flight, 1);
        engine.shutdown().await;
    }
}
