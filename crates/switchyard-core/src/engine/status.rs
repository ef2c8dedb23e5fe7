//! The gateway's state at a glance, as the Overview and the tray show it.

use serde::Serialize;

use super::{Engine, LastError};
use crate::usage::now_ms;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GatewayStatus {
    /// `127.0.0.1:4747`
    pub listen_addr: String,
    /// `http://127.0.0.1:4747`, what `ANTHROPIC_BASE_URL` should be.
    pub base_url: String,
    pub active_profile: String,
    pub profiles: Vec<String>,
    pub paused: bool,
    /// Today (UTC) from the usage database, earlier runs and `switchyard serve` included.
    pub requests_today: u64,
    pub errors_today: u64,
    pub tokens_today: u64,
    /// Spend today on requests with a known price.
    pub cost_today_usd: f64,
    /// Requests today whose cost is unknown (not counted in `cost_today_usd`).
    pub unpriced_today: u64,
    /// The latest failed request, until one succeeds or the gateway is paused or resumed.
    pub last_error: Option<LastError>,
    /// Requests are routed but not recorded (a full disk, an unusable database), or the
    /// history was started anew: a sentence saying which.
    pub usage_warning: Option<String>,
}

impl Engine {
    /// The status with today's counters as last read (no I/O: the tray draws this on the UI
    /// thread; see [`Engine::follow_today`]). Counters from an earlier day count as none.
    pub fn status(&self) -> GatewayStatus {
        let config = self.config();
        let addr = self.listen_addr();
        let today = self.inner.today.get();
        let totals = if today.is_current(now_ms()) {
            today.totals.clone()
        } else {
            Default::default()
        };
        GatewayStatus {
            listen_addr: addr.to_string(),
            base_url: self.gateway_url(),
            active_profile: config.active_profile.clone(),
            profiles: config.profiles.keys().cloned().collect(),
            paused: self.is_paused(),
            requests_today: totals.requests,
            errors_today: totals.errors,
            tokens_today: totals.input_tokens.saturating_add(totals.output_tokens),
            cost_today_usd: totals.cost_usd,
            unpriced_today: totals.unpriced,
            last_error: self.last_error(),
            usage_warning: self.gateway().usage_warning(),
        }
    }
}
