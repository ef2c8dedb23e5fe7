//! An imported entry's `litellm_params` beyond what reaches the model (`model`, `api_base`,
//! `api_key`): one function per key. Supporting one more LiteLLM key later is a change to its
//! function here.

use super::map::{Chosen, Mapper, PriceNote};
use super::report::Outcome;
use super::wire::{ModelEntry, Param};
use crate::config::TargetSpec;

/// The keys `deployment.rs` reads to find the endpoint (and, for Bedrock and Vertex,
/// `deployment::CLOUD_KEYS`).
const ENDPOINT_KEYS: &[&str] = &[
    "model",
    "api_base",
    "base_url",
    "api_key",
    "custom_llm_provider",
];

fn is_endpoint_key(key: &str) -> bool {
    ENDPOINT_KEYS.contains(&key) || super::deployment::CLOUD_KEYS.contains(&key)
}

/// What a handler gets: the entry, its group (index into `Mapper::groups`) and target.
pub(super) struct Ctx<'e> {
    pub entry: &'e ModelEntry,
    pub group: usize,
    pub target: &'e TargetSpec,
    pub param: &'e Param,
}

impl Ctx<'_> {
    /// `model_list[0] claude-4-sonnet: rpm 1000`, naming a dotted top-level key as written.
    fn item(&self) -> String {
        let value = self
            .param
            .node
            .scalar_text()
            .unwrap_or_else(|| "…".to_owned());
        let mut item = format!("{}: {} {value}", self.entry.label(), self.param.key);
        if self.param.dotted {
            item.push_str(&format!(
                " (top-level key model_list[{}].litellm_params.{})",
                self.entry.index, self.param.key
            ));
        }
        item
    }

    fn line(&self) -> u32 {
        self.param.node.line
    }

    fn whole_number(&self) -> Option<u32> {
        let n = self.param.node.as_f64()?;
        (n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX)).then_some(n as u32)
    }
}

type Handler = fn(&mut Mapper<'_>, &Ctx<'_>);

fn handler(key: &str) -> Handler {
    match key {
        "rpm" | "tpm" => rate_limit,
        "weight" => weight,
        "timeout" | "stream_timeout" => timeout,
        "num_retries" | "max_retries" => retries,
        "max_parallel_requests" => max_parallel_requests,
        "input_cost_per_token" | "output_cost_per_token" => cost,
        "extra_headers" | "headers" => headers,
        _ => unknown,
    }
}

/// Every extra key of `entry` (imported into `group` as `target`), then its other fields.
pub(super) fn apply_all(m: &mut Mapper<'_>, entry: &ModelEntry, group: usize, target: &TargetSpec) {
    for param in &entry.params {
        let ctx = Ctx {
            entry,
            group,
            target,
            param,
        };
        if is_endpoint_key(&param.key) {
            if param.dotted {
                m.row(
                    Outcome::NotImported,
                    ctx.line(),
                    format!(
                        "model_list[{}].litellm_params.{} (top level)",
                        entry.index, param.key
                    ),
                    "LiteLLM does not read a dotted key at the top level, and the entry's own litellm_params decide where it points",
                );
            }
            continue;
        }
        handler(&param.key)(m, &ctx);
    }
    for (key, node) in &entry.other {
        let why = match key.as_str() {
            "model_info" => {
                "Switchyard learns a model's context window from the engine (or the backend's context_length); the rest is LiteLLM's bookkeeping"
            }
            _ => "Switchyard has no such setting",
        };
        m.row(
            Outcome::NotImported,
            node.line,
            format!("{}: {key}", entry.label()),
            why,
        );
    }
}

/// Sets one of the entry's backend settings (its `slot` in [`Chosen`]) to `value`, merged with
/// what other entries sharing the backend set, and adds the row saying what it became; `Err`
/// is why the value was not taken.
fn onto_backend<T: Copy>(
    m: &mut Mapper<'_>,
    ctx: &Ctx<'_>,
    value: Result<T, &'static str>,
    slot: fn(&mut Chosen) -> &mut Option<T>,
    merge: fn(T, T) -> T,
    detail: impl FnOnce(T, &str) -> String,
) {
    let value = match value {
        Ok(value) => value,
        Err(why) => {
            m.row(Outcome::NotImported, ctx.line(), ctx.item(), why);
            return;
        }
    };
    let id = ctx.target.backend.clone();
    let mut kept = value;
    if let Some(chosen) = m.chosen_mut(&id) {
        let slot = slot(chosen);
        kept = slot.map_or(value, |old| merge(old, value));
        *slot = Some(kept);
    }
    m.row(Outcome::Imported, ctx.line(), ctx.item(), detail(kept, &id));
}

/// `rpm` / `tpm`: the backend's limits, summed over the entries that share it (each LiteLLM
/// deployment has its own).
fn rate_limit(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    let n = ctx
        .whole_number()
        .filter(|n| *n > 0)
        .ok_or("not a whole number above 0");
    let dotted = ctx.param.dotted;
    let detail = move |key: &str, what: &str, kept: u64, id: &str| {
        let mut detail = format!(
            "{key} = {kept} on backend {id:?} ({what}, the sum of its entries'; at the limit a request goes to the next target)"
        );
        if dotted {
            detail.push_str(
                "; LiteLLM itself ignores this dotted top-level spelling, taken here as meant",
            );
        }
        detail
    };
    if ctx.param.key == "tpm" {
        onto_backend(
            m,
            ctx,
            n.map(u64::from),
            |c| &mut c.tpm,
            u64::saturating_add,
            |kept, id| detail("tpm", "tokens per minute", kept, id),
        );
    } else {
        onto_backend(
            m,
            ctx,
            n,
            |c| &mut c.rpm,
            u32::saturating_add,
            |kept, id| detail("rpm", "requests per minute", u64::from(kept), id),
        );
    }
}

fn weight(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    match ctx.param.node.as_f64().filter(|w| *w > 0.0) {
        Some(w) => {
            if let Some(member) = m.groups[ctx.group]
                .members
                .iter_mut()
                .find(|member| member.target == *ctx.target)
            {
                member.weight = Some(w);
            }
        }
        None => m.row(
            Outcome::NotImported,
            ctx.line(),
            ctx.item(),
            "a weight is a number above 0",
        ),
    }
}

// Entries sharing a backend share its settings: the longest timeout, the most retries and the
// widest concurrency keep them all working.
fn timeout(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    let seconds = super::settings::seconds(&ctx.param.node).ok_or("not a number of seconds");
    onto_backend(
        m,
        ctx,
        seconds,
        |c| &mut c.first_byte_s,
        u64::max,
        |kept, id| {
            format!(
                "timeout_first_byte_s = {kept} on backend {id:?} (the wait for the first byte; a stream then has timeout_idle_s between chunks)"
            )
        },
    );
}

fn retries(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    let n = ctx.whole_number().ok_or("not a whole number of retries");
    onto_backend(
        m,
        ctx,
        n,
        |c| &mut c.retries,
        u32::max,
        |kept, id| format!("retries = {kept} on backend {id:?}"),
    );
}

fn max_parallel_requests(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    let n = ctx
        .whole_number()
        .filter(|n| *n > 0)
        .ok_or("not a whole number above 0");
    onto_backend(
        m,
        ctx,
        n,
        |c| &mut c.max_in_flight,
        u32::max,
        |kept, id| format!("max_in_flight = {kept} on backend {id:?} (further requests wait)"),
    );
}

fn cost(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    let Some(usd) = ctx.param.node.as_f64().filter(|v| *v >= 0.0) else {
        m.row(
            Outcome::NotImported,
            ctx.line(),
            ctx.item(),
            "not a price in USD per token",
        );
        return;
    };
    let model = ctx.target.model.clone();
    let input = ctx.param.key == "input_cost_per_token";
    let note = match m.prices.iter_mut().find(|n| n.entry == ctx.entry.index) {
        Some(note) => note,
        None => {
            m.prices.push(PriceNote {
                entry: ctx.entry.index,
                model,
                item: format!("{}: costs per token", ctx.entry.label()),
                line: ctx.line(),
                input: None,
                output: None,
            });
            let last = m.prices.len() - 1;
            &mut m.prices[last]
        }
    };
    if input {
        note.input = Some(usd);
    } else {
        note.output = Some(usd);
    }
}

fn headers(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    m.row(
        Outcome::NotImported,
        ctx.line(),
        format!("{}: {}", ctx.entry.label(), ctx.param.key),
        "headers can carry credentials, which never go in the config: add the ones that do not to the backend's `headers` by hand",
    );
}

fn unknown(m: &mut Mapper<'_>, ctx: &Ctx<'_>) {
    // Only the key: an unknown value may be a secret.
    m.row(
        Outcome::NotImported,
        ctx.line(),
        format!("{}: {}", ctx.entry.label(), ctx.param.key),
        "Switchyard has no such setting",
    );
}
