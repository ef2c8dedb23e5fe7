//! The import as a pure function: a LiteLLM config, the current Switchyard config, the
//! profile to import into and what the keychain holds → the new config, the keys to store and
//! the report. No I/O here (`apply.rs` reads, writes and stores).
//!
//! `model_list` entries become backends and targets; entries sharing a `model_name` become
//! one rule with several targets. Each entry's extra `litellm_params` key is read by one
//! function in `params.rs`, each setting by one function in `settings.rs`.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};

use super::deployment::{self, Deployment, KeySpec};
use super::report::{Outcome, ReportRow};
use super::wire::{LiteLlmConfig, ModelEntry};
use super::{params, settings};
use crate::config::{BackendConfig, BackendKind, Config, Rule, Strategy, TargetSpec};
use crate::pricing::ModelPrice;
use crate::providers::{endpoint_form, unique_backend_id};

/// What an import changes.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: Config,
    /// Keys written in the file, for the keychain (the config never holds them).
    pub keys: Vec<KeyToStore>,
    pub rows: Vec<ReportRow>,
}

#[derive(Debug, Clone)]
pub struct KeyToStore {
    pub backend: String,
    pub key: SecretString,
}

/// What the keychain holds for the config's backends, read before mapping.
#[derive(Debug, Clone, Default)]
pub struct StoredKeys(HashMap<String, StoredKey>);

#[derive(Debug, Clone)]
pub enum StoredKey {
    Absent,
    Present(SecretString),
    /// The keychain could not be read.
    Unknown,
}

impl StoredKeys {
    pub fn insert(&mut self, backend: &str, key: StoredKey) {
        self.0.insert(backend.to_owned(), key);
    }

    fn get(&self, backend: &str) -> &StoredKey {
        self.0.get(backend).unwrap_or(&StoredKey::Unknown)
    }

    pub(super) fn lookup(&self, backend: &str) -> Option<&StoredKey> {
        self.0.get(backend)
    }
}

/// The import of `lite` into `profile` of `current` (the profile is created if missing).
pub fn plan(lite: &LiteLlmConfig, current: &Config, profile: &str, stored: &StoredKeys) -> Plan {
    let mut mapper = Mapper {
        lite,
        stored,
        config: current.clone(),
        profile: profile.to_owned(),
        chosen: Vec::new(),
        groups: Vec::new(),
        aliases: Vec::new(),
        deployments: Vec::new(),
        ordered_by: None,
        balanced_by: None,
        global_allowed_fails: None,
        global_cooldown_s: None,
        global_retries: None,
        global_first_byte: None,
        cache: None,
        prices: Vec::new(),
        keys: Vec::new(),
        rows: Vec::new(),
    };
    for bad in &lite.malformed {
        mapper.row(
            Outcome::NotImported,
            bad.line,
            bad.item.clone(),
            bad.why.clone(),
        );
    }
    for entry in &lite.models {
        mapper.entry(entry);
    }
    if lite.models.is_empty() {
        mapper.row(
            Outcome::NotImported,
            0,
            "model_list",
            "the file lists no models, so there is nothing to route",
        );
    }
    settings::apply_all(&mut mapper);
    mapper.finish()
}

/// A backend this import uses: found in the config or new.
pub(super) struct Chosen {
    pub id: String,
    /// The first deployment that reached it (provider and URL as LiteLLM had them), for the
    /// report.
    provider: String,
    litellm_url: String,
    line: u32,
    kind: BackendKind,
    endpoint: String,
    /// Bedrock's and Vertex's place (their endpoint when `endpoint` is empty).
    region: Option<String>,
    project: Option<String>,
    key: KeyIdentity,
    created: bool,
    /// How its key is set up, for the report.
    key_note: String,
    notes: Vec<String>,
    /// Set by the entries' own `litellm_params` (`timeout`, `num_retries`, ...), which win
    /// over the global settings.
    pub retries: Option<u32>,
    pub first_byte_s: Option<u64>,
    pub max_in_flight: Option<u32>,
    /// Rate limits: the sum over the entries that reach this backend (each LiteLLM
    /// deployment has its own; Switchyard limits the backend as a whole).
    pub rpm: Option<u32>,
    pub tpm: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyIdentity {
    None,
    Env(String),
    Literal(String),
}

/// The entries sharing a `model_name`: one rule.
pub(super) struct Group {
    pub name: String,
    pub line: u32,
    pub members: Vec<Member>,
    pub fallbacks: Vec<TargetSpec>,
}

pub(super) struct Member {
    pub target: TargetSpec,
    /// `litellm_params.weight` (simple-shuffle's share).
    pub weight: Option<f64>,
}

/// A `model_group_alias`: a rule matching `name` with the targets of a group or of one
/// deployment.
pub(super) struct Alias {
    pub name: String,
    /// What the file points it at (a `model_name`, or an entry's `litellm_params.model`).
    pub written: String,
    pub line: u32,
    pub to: AliasTo,
}

pub(super) enum AliasTo {
    Group(usize),
    Target(TargetSpec),
}

/// A price from `input_cost_per_token` / `output_cost_per_token` (USD per token).
pub(super) struct PriceNote {
    /// The entry's place in `model_list`.
    pub entry: usize,
    pub model: Option<String>,
    pub item: String,
    pub line: u32,
    pub input: Option<f64>,
    pub output: Option<f64>,
}

pub(super) struct Mapper<'a> {
    pub lite: &'a LiteLlmConfig,
    stored: &'a StoredKeys,
    config: Config,
    pub profile: String,
    pub chosen: Vec<Chosen>,
    pub groups: Vec<Group>,
    pub aliases: Vec<Alias>,
    /// Each imported entry's `litellm_params.model` and target: LiteLLM also finds a
    /// deployment by that string when a fallback or alias names no group.
    deployments: Vec<(String, TargetSpec)>,
    /// The routing strategy when it is not simple-shuffle: rules try their targets in order.
    pub ordered_by: Option<String>,
    /// A LiteLLM strategy Switchyard has an equivalent of (least-busy, latency, usage).
    pub balanced_by: Option<Strategy>,
    /// `router_settings.allowed_fails` / `cooldown_time`, onto the imported backends.
    pub global_allowed_fails: Option<u32>,
    pub global_cooldown_s: Option<u64>,
    pub global_retries: Option<u32>,
    pub global_first_byte: Option<u64>,
    /// `litellm_settings.cache: true`: Switchyard's response cache turned on for the
    /// profile, with `cache_params.ttl` when given.
    pub cache: Option<Option<u64>>,
    pub prices: Vec<PriceNote>,
    keys: Vec<KeyToStore>,
    rows: Vec<ReportRow>,
}

impl Mapper<'_> {
    pub fn row(
        &mut self,
        outcome: Outcome,
        line: u32,
        item: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.rows.push(ReportRow {
            outcome,
            line: (line > 0).then_some(line),
            item: item.into(),
            detail: detail.into(),
        });
    }

    fn entry(&mut self, entry: &ModelEntry) {
        let model = entry.param("model").and_then(|n| n.scalar_text());
        let item = match &model {
            Some(model) => format!("{} ({model})", entry.label()),
            None => entry.label(),
        };
        let Some(name) = entry
            .model_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
        else {
            self.row(
                Outcome::NotImported,
                entry.line,
                item,
                "it has no model_name (the name clients ask for), so no rule can match it",
            );
            return;
        };
        let deployment = match deployment::read(entry) {
            Ok(deployment) => deployment,
            Err(why) => {
                self.row(Outcome::NotImported, entry.line, item, why);
                return;
            }
        };
        let backend = self.choose_backend(&deployment, entry.line);
        let target = TargetSpec {
            backend,
            model: deployment.model.clone(),
            weight: None,
            vision: None,
        };
        let group = match self.groups.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    name: name.clone(),
                    line: entry.line,
                    members: Vec::new(),
                    fallbacks: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        if self.groups[group]
            .members
            .iter()
            .any(|m| m.target == target)
        {
            self.row(
                Outcome::NotNeeded,
                entry.line,
                item,
                format!(
                    "the same backend and model as an earlier entry of {name}: one target serves both"
                ),
            );
            return;
        }
        self.groups[group].members.push(Member {
            target: target.clone(),
            weight: None,
        });
        if let Some(model) = model {
            self.deployments.push((model, target.clone()));
        }
        params::apply_all(self, entry, group, &target);
    }

    /// The backend for `d`: one this import already chose, one of the config with the same
    /// kind, endpoint and key, or a new one.
    fn choose_backend(&mut self, d: &Deployment, line: u32) -> String {
        let endpoint = endpoint_form(&d.base_url);
        let identity = match &d.key {
            KeySpec::None => KeyIdentity::None,
            KeySpec::Env { var, .. } => KeyIdentity::Env(var.clone()),
            KeySpec::Literal(key) => KeyIdentity::Literal(key.expose_secret().to_owned()),
        };
        if let Some(chosen) = self.chosen.iter_mut().find(|c| {
            c.kind == d.kind
                && c.endpoint == endpoint
                && c.region == d.region
                && c.project == d.project
                && c.key == identity
        }) {
            chosen.notes.extend(d.notes.iter().cloned());
            return chosen.id.clone();
        }
        let reusable = self
            .config
            .backends
            .iter()
            .filter(|b| {
                b.kind == d.kind
                    && endpoint_form(&b.base_url) == endpoint
                    && b.region() == d.region.as_deref()
                    && b.project() == d.project.as_deref()
            })
            .filter(|b| {
                !self
                    .chosen
                    .iter()
                    .any(|c| c.id == b.id && c.key != identity)
            })
            .find_map(|b| self.key_fits(b, &d.key).map(|note| (b.id.clone(), note)));
        let (id, created, key_note) = match reusable {
            Some((id, (note, set_env))) => {
                if let (Some(var), Some(b)) = (
                    set_env,
                    self.config.backends.iter_mut().find(|b| b.id == id),
                ) {
                    b.api_key_env = Some(var.into());
                }
                if let KeySpec::Literal(key) = &d.key
                    && !matches!(self.stored.get(&id), StoredKey::Present(k) if k.expose_secret() == key.expose_secret())
                {
                    self.keys.push(KeyToStore {
                        backend: id.clone(),
                        key: key.clone(),
                    });
                }
                (id, false, note)
            }
            None => {
                let id = self.new_backend(d);
                let note = match &d.key {
                    KeySpec::None => String::new(),
                    KeySpec::Env { var, implied } => {
                        let why = if *implied {
                            " (none written: LiteLLM's usual variable)"
                        } else {
                            ""
                        };
                        format!("key from ${var}{why}")
                    }
                    KeySpec::Literal(key) => {
                        self.keys.push(KeyToStore {
                            backend: id.clone(),
                            key: key.clone(),
                        });
                        "key stored in the keychain".to_owned()
                    }
                };
                (id, true, note)
            }
        };
        self.chosen.push(Chosen {
            id: id.clone(),
            provider: d.provider.clone(),
            litellm_url: d.place(),
            line,
            kind: d.kind,
            endpoint,
            region: d.region.clone(),
            project: d.project.clone(),
            key: identity,
            created,
            key_note,
            notes: d.notes.clone(),
            retries: None,
            first_byte_s: None,
            max_in_flight: None,
            rpm: None,
            tpm: None,
        });
        id
    }

    /// Whether `backend` (already in the config) can serve a deployment whose key is `key`:
    /// the report's note and the `api_key_env` to set on it.
    fn key_fits(&self, backend: &BackendConfig, key: &KeySpec) -> Option<(String, Option<String>)> {
        let stored = self.stored.get(&backend.id);
        match (key, &backend.api_key_env) {
            (KeySpec::None, _) => Some((String::new(), None)),
            (KeySpec::Env { var, .. }, Some(own)) => (own.names() == std::slice::from_ref(var))
                .then(|| (format!("key from ${var}"), None)),
            (KeySpec::Env { var, implied }, None) => match stored {
                StoredKey::Present(_) if *implied => {
                    Some(("its key in the keychain kept".to_owned(), None))
                }
                StoredKey::Present(_) => Some((
                    format!("its key in the keychain kept (the file reads ${var})"),
                    None,
                )),
                StoredKey::Absent | StoredKey::Unknown => {
                    Some((format!("api_key_env = \"{var}\" set"), Some(var.clone())))
                }
            },
            (KeySpec::Literal(_), Some(_)) => None,
            (KeySpec::Literal(key), None) => match stored {
                StoredKey::Present(own) if own.expose_secret() == key.expose_secret() => {
                    Some(("the same key already in the keychain".to_owned(), None))
                }
                StoredKey::Present(_) => None,
                StoredKey::Absent | StoredKey::Unknown => {
                    Some(("key stored in the keychain".to_owned(), None))
                }
            },
        }
    }

    fn new_backend(&mut self, d: &Deployment) -> String {
        let taken: Vec<String> = self.config.backends.iter().map(|b| b.id.clone()).collect();
        let id = unique_backend_id(&d.id_hint, &taken);
        let mut backend = BackendConfig::new(id.clone(), d.kind, d.base_url.clone());
        backend.region.clone_from(&d.region);
        backend.project.clone_from(&d.project);
        if let KeySpec::Env { var, .. } = &d.key {
            backend.api_key_env = Some(var.clone().into());
        }
        self.config.backends.push(backend);
        id
    }

    /// The targets a fallback or alias name stands for: a group's, else the deployment whose
    /// `litellm_params.model` it is (as LiteLLM's router does).
    pub fn resolve(&self, name: &str) -> Option<Vec<TargetSpec>> {
        if let Some(group) = self.groups.iter().find(|g| g.name == name) {
            return Some(group.members.iter().map(|m| m.target.clone()).collect());
        }
        self.deployments
            .iter()
            .find(|(model, _)| model == name)
            .map(|(_, target)| vec![target.clone()])
    }

    /// Whether `name` names a `model_name` of the file, imported or not.
    pub fn names_a_model(&self, name: &str) -> bool {
        self.lite
            .models
            .iter()
            .any(|e| e.model_name.as_deref().map(str::trim) == Some(name))
    }

    pub fn chosen_mut(&mut self, id: &str) -> Option<&mut Chosen> {
        self.chosen.iter_mut().find(|c| c.id == id)
    }

    /// Groups with several targets, whose strategy the routing strategy decides.
    pub fn balanced_groups(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| g.members.len() > 1)
            .map(|g| g.name.clone())
            .collect()
    }

    fn finish(mut self) -> Plan {
        let profile_is_new = !self.config.profiles.contains_key(&self.profile);
        let profile_strategy = self
            .config
            .profiles
            .get(&self.profile)
            .and_then(|p| p.strategy);
        let mut rules: Vec<(Rule, u32, String)> = Vec::new();
        for group in &self.groups {
            let rule = self.group_rule(group, profile_strategy);
            let item = match group.members.len() {
                1 => format!("model_name {}", group.name),
                n => format!("model_name {} ({n} entries)", group.name),
            };
            rules.push((rule, group.line, item));
        }
        for alias in &self.aliases {
            let mut rule = match &alias.to {
                AliasTo::Group(i) => rules[*i].0.clone(),
                AliasTo::Target(target) => Rule {
                    pattern: String::new(),
                    when: None,
                    targets: vec![target.clone()],
                    fallbacks: Vec::new(),
                    strategy: None,
                },
            };
            rule.pattern.clone_from(&alias.name);
            rules.push((
                rule,
                alias.line,
                format!(
                    "router_settings.model_group_alias: {} → {}",
                    alias.name, alias.written
                ),
            ));
        }
        let via_entry: Vec<&str> = self
            .aliases
            .iter()
            .filter(|a| matches!(a.to, AliasTo::Target(_)))
            .map(|a| a.written.as_str())
            .collect();
        let mut rule_rows = Vec::new();
        let profile = self
            .config
            .profiles
            .entry(self.profile.clone())
            .or_default();
        for (rule, line, item) in rules {
            let place = profile
                .rules
                .iter()
                .position(|r| r.pattern == rule.pattern && r.when.is_none());
            let change = match place {
                Some(i) if profile.rules[i] == rule => "unchanged",
                Some(i) => {
                    profile.rules[i] = rule.clone();
                    "replaces the rule that was there"
                }
                None => {
                    profile.rules.push(rule.clone());
                    "new rule"
                }
            };
            let mut detail = format!("{} ({change})", describe_rule(&rule));
            if let Some(written) = via_entry.iter().find(|w| item.ends_with(&format!("→ {w}"))) {
                detail.push_str(&format!(
                    "; {written} is an entry's model, not a model_name: LiteLLM finds that entry by it"
                ));
            }
            detail.push_str(&name_note(&rule.pattern));
            rule_rows.push(ReportRow {
                outcome: Outcome::Imported,
                line: (line > 0).then_some(line),
                item,
                detail,
            });
        }
        if profile_is_new && !rule_rows.is_empty() {
            rule_rows.insert(
                0,
                ReportRow {
                    outcome: Outcome::Imported,
                    line: None,
                    item: "(the rules below)".to_owned(),
                    detail: format!(
                        "new profile {:?}: it has no default route, so a model no rule matches gets an error",
                        self.profile
                    ),
                },
            );
        }
        if let Some(ttl) = self.cache {
            profile.cache = true;
            self.config.cache.enabled = true;
            if let Some(ttl) = ttl {
                self.config.cache.ttl_s = ttl;
            }
        }
        let backend_rows = self.apply_backend_settings();
        self.apply_prices();
        let mut rows = rule_rows;
        rows.extend(backend_rows);
        self.rows.sort_by_key(|row| row.line);
        rows.append(&mut self.rows);
        Plan {
            config: self.config,
            keys: self.keys,
            rows,
        }
    }

    fn group_rule(&self, group: &Group, profile_strategy: Option<Strategy>) -> Rule {
        let mut targets: Vec<TargetSpec> = group.members.iter().map(|m| m.target.clone()).collect();
        let strategy = if targets.len() < 2 {
            None
        } else if let Some(strategy) = self.balanced_by {
            Some(strategy)
        } else if self.ordered_by.is_some() {
            // Ordered is the default unless the profile says weighted.
            (profile_strategy == Some(Strategy::Weighted)).then_some(Strategy::Ordered)
        } else {
            let weights =
                integer_weights(&group.members.iter().map(|m| m.weight).collect::<Vec<_>>());
            for (target, weight) in targets.iter_mut().zip(weights) {
                target.weight = weight;
            }
            Some(Strategy::Weighted)
        };
        Rule {
            pattern: group.name.clone(),
            when: None,
            targets,
            fallbacks: group.fallbacks.clone(),
            strategy,
        }
    }

    /// Retries, timeouts and concurrency onto the backends; a row per backend.
    fn apply_backend_settings(&mut self) -> Vec<ReportRow> {
        let mut rows = Vec::new();
        for chosen in &self.chosen {
            let Some(backend) = self.config.backends.iter_mut().find(|b| b.id == chosen.id) else {
                continue;
            };
            if let Some(retries) = chosen.retries.or(self.global_retries) {
                backend.retries = retries;
            }
            if let Some(seconds) = chosen.first_byte_s.or(self.global_first_byte) {
                backend.timeout_first_byte_s = seconds;
            }
            if let Some(limit) = chosen.max_in_flight {
                backend.max_in_flight = limit;
            }
            if chosen.rpm.is_some() {
                backend.rpm = chosen.rpm;
            }
            if let Some(fails) = self.global_allowed_fails {
                backend.allowed_fails = fails;
            }
            if let Some(seconds) = self.global_cooldown_s {
                backend.cooldown_s = Some(seconds);
            }
            if chosen.tpm.is_some() {
                backend.tpm = chosen.tpm;
            }
            let mut detail = if chosen.created {
                format!(
                    "new backend {:?} ({}, {})",
                    chosen.id,
                    chosen.kind.as_str(),
                    if backend.kind.is_cloud_claude() {
                        chosen.litellm_url.as_str()
                    } else {
                        backend.base_url.as_str()
                    }
                )
            } else {
                format!("backend {:?} (already in the config)", chosen.id)
            };
            for note in std::iter::once(&chosen.key_note).chain(&chosen.notes) {
                if !note.is_empty() && !detail.contains(note.as_str()) {
                    detail.push_str(&format!("; {note}"));
                }
            }
            rows.push(ReportRow {
                outcome: Outcome::Imported,
                line: (chosen.line > 0).then_some(chosen.line),
                item: format!("{}/ at {}", chosen.provider, chosen.litellm_url),
                detail,
            });
        }
        rows
    }

    fn apply_prices(&mut self) {
        let notes = std::mem::take(&mut self.prices);
        for note in notes {
            match (note.model, note.input, note.output) {
                (Some(model), Some(input), Some(output)) => {
                    let per_million = |usd: f64| (usd * 1e12).round() / 1e6;
                    let price = ModelPrice {
                        input: per_million(input),
                        output: per_million(output),
                        cache_read: None,
                        cache_write: None,
                    };
                    self.row(
                        Outcome::Imported,
                        note.line,
                        note.item,
                        format!(
                            "pricing.{model:?}: input {} and output {} USD per million tokens",
                            price.input, price.output
                        ),
                    );
                    self.config.pricing.insert(model, price);
                }
                (None, _, _) => self.row(
                    Outcome::NotImported,
                    note.line,
                    note.item,
                    "a price needs one model name, and this entry passes any name through",
                ),
                _ => self.row(
                    Outcome::NotImported,
                    note.line,
                    note.item,
                    "a price needs both input_cost_per_token and output_cost_per_token",
                ),
            }
        }
    }
}

/// LiteLLM's weights (any positive numbers, `0.9` / `0.1`) as Switchyard's whole ones, in
/// the same proportions; `None` everywhere when no target has one or they are all equal.
fn integer_weights(weights: &[Option<f64>]) -> Vec<Option<u32>> {
    if weights.iter().all(Option::is_none) {
        return vec![None; weights.len()];
    }
    let values: Vec<f64> = weights.iter().map(|w| w.unwrap_or(1.0)).collect();
    // Up to three decimals, then reduced by the common divisor.
    let scaled: Vec<u64> = values
        .iter()
        .map(|v| ((v * 1000.0).round() as u64).max(1))
        .collect();
    let divisor = scaled.iter().copied().fold(0, gcd).max(1);
    let whole: Vec<u32> = scaled
        .iter()
        .map(|v| u32::try_from(v / divisor).unwrap_or(u32::MAX))
        .collect();
    if whole.iter().all(|w| *w == whole[0]) {
        return vec![None; weights.len()];
    }
    whole.into_iter().map(Some).collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `ollama: qwen2.5:7b`, `anthropic (the requested name)`, `openai: gpt-4o (weight 3)`.
pub(super) fn describe_target(target: &TargetSpec) -> String {
    let mut text = match &target.model {
        Some(model) => format!("{}: {model}", target.backend),
        None => format!("{} (the requested name)", target.backend),
    };
    if let Some(weight) = target.weight {
        text.push_str(&format!(" (weight {weight})"));
    }
    text
}

pub(super) fn describe_targets(targets: &[TargetSpec]) -> String {
    targets
        .iter()
        .map(describe_target)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_rule(rule: &Rule) -> String {
    let mut text = format!(
        "rule {:?} → {}",
        rule.pattern,
        describe_targets(&rule.targets)
    );
    if rule.targets.len() > 1 {
        text.push_str(match rule.strategy {
            Some(Strategy::Weighted) if rule.targets.iter().any(|t| t.weight.is_some()) => {
                ", shared by weight (simple-shuffle)"
            }
            Some(Strategy::Weighted) => ", shared equally (simple-shuffle)",
            _ => ", tried in this order",
        });
    }
    if !rule.fallbacks.is_empty() {
        text.push_str(&format!(
            "; fallbacks {}",
            describe_targets(&rule.fallbacks)
        ));
    }
    text
}

/// Claude Code asks for Claude names; any other name only when told to.
fn name_note(pattern: &str) -> String {
    let lower = pattern.to_ascii_lowercase();
    let claude = ["claude", "opus", "sonnet", "haiku"]
        .iter()
        .any(|w| lower.contains(w))
        || pattern.chars().all(|c| c == '*');
    if claude {
        String::new()
    } else {
        format!(
            "; not a Claude name: Claude Code asks for it only when told to (claude --model {pattern})"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_keep_their_proportions_as_whole_numbers() {
        assert_eq!(integer_weights(&[None, None]), [None, None]);
        assert_eq!(integer_weights(&[Some(0.9), Some(0.1)]), [Some(9), Some(1)]);
        assert_eq!(integer_weights(&[Some(2.0), None]), [Some(2), Some(1)]);
        assert_eq!(integer_weights(&[Some(3.0), Some(3.0)]), [None, None]);
        assert_eq!(
            integer_weights(&[Some(0.25), Some(0.5)]),
            [Some(1), Some(2)]
        );
    }
}
