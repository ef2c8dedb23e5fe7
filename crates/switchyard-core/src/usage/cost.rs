use std::collections::HashMap;

use crate::config::Config;
use crate::pricing::{PriceTable, cost};

use super::UsageRecord;

/// A record with what it cost, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedRecord {
    pub record: UsageRecord,
    /// Answered by a backend on this machine or the private network.
    pub local: bool,
    /// What the request cost (0 for local backends); `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// What it would have cost at the requested (Claude) model's price: the baseline savings
    /// are measured against.
    pub cloud_equiv_usd: Option<f64>,
}

/// Prices records: the price table (bundled + config overrides) and which backends are local.
#[derive(Debug, Clone, Default)]
pub struct Pricer {
    table: PriceTable,
    local: HashMap<String, bool>,
}

impl Pricer {
    pub fn new(table: PriceTable, local_backends: HashMap<String, bool>) -> Self {
        Pricer {
            table,
            local: local_backends,
        }
    }

    pub fn from_config(config: &Config) -> Self {
        Pricer {
            table: PriceTable::with_overrides(&config.pricing),
            local: config
                .backends
                .iter()
                .map(|b| (b.id.clone(), b.is_local()))
                .collect(),
        }
    }

    pub fn price(&self, record: UsageRecord) -> PricedRecord {
        let local = record
            .backend
            .as_deref()
            .and_then(|b| self.local.get(b).copied())
            .unwrap_or(false);
        let at = |model: &str| self.table.price(model).map(|p| cost(p, &record.usage));
        let cloud_equiv_usd = at(&record.requested_model);
        // A cache hit called no backend: free wherever the original was answered, and its
        // cloud-equivalent (the original's tokens at the requested model's price) is saved.
        let cost_usd = if local || record.cache_hit {
            Some(0.0)
        } else {
            at(record
                .upstream_model
                .as_deref()
                .unwrap_or(&record.requested_model))
        };
        PricedRecord {
            record,
            local,
            cost_usd,
            cloud_equiv_usd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anthropic::Usage;
    use crate::config::parse;
    use crate::usage::RequestStatus;
    use std::path::Path;

    fn record(backend: &str) -> UsageRecord {
        UsageRecord {
            started_at_ms: 0,
            client: None,
            session_id: None,
            agent_id: None,
            parent_agent_id: None,
            requested_model: "claude-sonnet-4-5".into(),
            profile: "p".into(),
            backend: Some(backend.into()),
            backend_kind: Some("anthropic".into()),
            upstream_model: Some("claude-sonnet-4-5".into()),
            stream: false,
            status: RequestStatus::Ok,
            http_status: 200,
            error_type: None,
            error_message: None,
            usage: Usage {
                input_tokens: 1_000_000,
                ..Usage::default()
            },
            ttft_ms: None,
            latency_ms: 1,
            attempts: 1,
            rule: None,
            notes: None,
            cache_hit: false,
            key_name: None,
            capture_id: None,
        }
    }

    /// A loopback proxy in front of a cloud provider says `local = false`: its requests cost
    /// money and save nothing, while the same URL without the field counts as local.
    #[test]
    fn a_loopback_backend_marked_not_local_is_priced_as_cloud() {
        let text = "active_profile = \"p\"\n[[backends]]\nid = \"proxy\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:8082\"\nlocal = false\n[[backends]]\nid = \"engine\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:8083\"\n[profiles.p]\ndefault = { backend = \"proxy\" }\n";
        let pricer = Pricer::from_config(&parse(text, Path::new("t.toml")).unwrap());

        let proxied = pricer.price(record("proxy"));
        assert!(!proxied.local);
        // Sonnet input is $3 per million tokens in the bundled table.
        assert_eq!(proxied.cost_usd, Some(3.0));

        let engine = pricer.price(record("engine"));
        assert!(engine.local);
        assert_eq!(engine.cost_usd, Some(0.0));
    }
}
