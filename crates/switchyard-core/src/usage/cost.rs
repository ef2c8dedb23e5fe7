use std::collections::HashMap;

use crate::config::Config;
use crate::pricing::{PriceTable, cost, is_local_url};

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
                .map(|b| (b.id.clone(), is_local_url(&b.base_url)))
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
        let cost_usd = if local {
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
