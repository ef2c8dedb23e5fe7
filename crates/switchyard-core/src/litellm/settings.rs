//! `router_settings`, `litellm_settings`, `general_settings` and other top-level keys: one
//! function per setting. A setting Switchyard cannot follow yet says so in its row; giving it
//! a home later is a change to its function here.

use super::map::{Alias, AliasTo, Mapper, describe_targets};
use super::report::Outcome;
use super::wire::Setting;
use super::yaml::{Node, Value};
use crate::config::{Strategy, TargetSpec};

type Handler = fn(&mut Mapper<'_>, &Setting);

/// The function for a setting, and its phase: later phases read what earlier ones built
/// (default fallbacks apply to rules left without their own; an alias copies its group's
/// finished rule).
fn handler(section: &str, key: &str) -> (u8, Handler) {
    let either = matches!(section, "router_settings" | "litellm_settings");
    match (section, key) {
        ("router_settings", "routing_strategy") => (0, routing_strategy),
        (_, "fallbacks") if either => (0, fallbacks),
        (_, "context_window_fallbacks") if either => (0, context_window_fallbacks),
        (_, "content_policy_fallbacks") if either => (0, content_policy_fallbacks),
        (_, "default_fallbacks") if either => (1, default_fallbacks),
        (_, "num_retries") if either => (0, num_retries),
        ("router_settings", "timeout" | "stream_timeout")
        | ("litellm_settings", "request_timeout") => (0, timeout),
        ("router_settings", "model_group_alias") => (2, model_group_alias),
        ("router_settings", "allowed_fails" | "allowed_fails_policy") => (0, allowed_fails),
        ("router_settings", "cooldown_time") => (0, cooldown_time),
        ("router_settings", "retry_policy") => (0, retry_policy),
        (_, "cache" | "cache_responses") => (0, cache),
        (_, "cache_params") => (1, cache),
        (_, k) if k.starts_with("redis_") => (0, redis),
        (
            "litellm_settings",
            "success_callback" | "failure_callback" | "callbacks" | "service_callback",
        )
        | ("general_settings", "alerting") => (0, callbacks),
        ("general_settings", "master_key") => (0, master_key),
        ("general_settings", k) if k.starts_with("database") => (0, database),
        ("litellm_settings", "stream") => (0, stream),
        ("litellm_settings", "drop_params") => (0, drop_params),
        ("litellm_settings", "set_verbose" | "json_logs") => (0, logging),
        (_, "max_parallel_requests" | "global_max_parallel_requests") => (0, global_limit),
        ("", "environment_variables") => (0, environment_variables),
        _ => (0, unknown),
    }
}

/// Every setting of the file, phase by phase, in file order within a phase.
pub(super) fn apply_all(m: &mut Mapper<'_>) {
    let lite = m.lite;
    let mut settings: Vec<(u8, Handler, &Setting)> = lite
        .settings
        .iter()
        .map(|s| {
            let (phase, f) = handler(s.section, &s.key);
            (phase, f, s)
        })
        .collect();
    settings.sort_by_key(|(phase, _, _)| *phase);
    for (_, f, setting) in settings {
        f(m, setting);
    }
}

/// `router_settings.num_retries: 3`; collections are named, not printed.
fn item(s: &Setting) -> String {
    match s.node.scalar_text() {
        Some(text) => format!("{}: {text}", s.path()),
        None => s.path(),
    }
}

fn row(m: &mut Mapper<'_>, s: &Setting, outcome: Outcome, detail: impl Into<String>) {
    m.row(outcome, s.node.line, item(s), detail);
}

/// A LiteLLM duration in seconds, rounded up to Switchyard's whole seconds.
pub(super) fn seconds(node: &Node) -> Option<u64> {
    let value = node.as_f64().filter(|v| *v > 0.0 && *v < 1e9)?;
    Some((value.ceil() as u64).max(1))
}

fn names(list: &[String]) -> String {
    list.join(", ")
}

fn routing_strategy(m: &mut Mapper<'_>, s: &Setting) {
    let name = s.node.scalar_text().unwrap_or_default();
    let balanced = m.balanced_groups();
    if name == "simple-shuffle" {
        if balanced.is_empty() {
            row(
                m,
                s,
                Outcome::NotNeeded,
                "no model_name has several entries, so there is nothing to share",
            );
        } else {
            row(
                m,
                s,
                Outcome::Imported,
                format!(
                    "strategy = \"weighted\" on the rules of {} (shares from litellm_params.weight, equal without)",
                    names(&balanced)
                ),
            );
        }
        return;
    }
    let equivalent = match name.as_str() {
        "least-busy" => Some(Strategy::LeastBusy),
        "latency-based-routing" => Some(Strategy::LowestLatency),
        "usage-based-routing" | "usage-based-routing-v2" => Some(Strategy::Usage),
        _ => None,
    };
    if let Some(strategy) = equivalent {
        m.balanced_by = Some(strategy);
        if balanced.is_empty() {
            row(
                m,
                s,
                Outcome::NotNeeded,
                "no model_name has several entries, so there is nothing to balance",
            );
        } else {
            row(
                m,
                s,
                Outcome::Imported,
                format!(
                    "strategy = \"{}\" on the rules of {} ({})",
                    strategy.as_str(),
                    names(&balanced),
                    strategy.describe()
                ),
            );
        }
        return;
    }
    let what = if name == "cost-based-routing" {
        format!(
            "{name} is not supported (Switchyard balances by weight, requests in flight, latency or tokens this minute)"
        )
    } else {
        format!("{name:?} is not one of LiteLLM's routing strategies")
    };
    m.ordered_by = Some(name);
    if balanced.is_empty() {
        row(
            m,
            s,
            Outcome::NotNeeded,
            format!("{what}; no model_name has several entries, so there is nothing to balance"),
        );
        return;
    }
    let weighted: Vec<String> = m
        .groups
        .iter()
        .filter(|g| g.members.len() > 1 && g.members.iter().any(|m| m.weight.is_some()))
        .map(|g| g.name.clone())
        .collect();
    let mut detail = format!(
        "{what}: the rules of {} try their targets in the order written",
        names(&balanced)
    );
    if !weighted.is_empty() {
        detail.push_str(&format!(
            " (the weights of {} are dropped)",
            names(&weighted)
        ));
    }
    row(m, s, Outcome::NotImported, detail);
}

/// `[{a: [b, c]}, ...]` (also a single mapping, or one name instead of a list) as pairs.
fn fallback_pairs(node: &Node) -> Option<Vec<(String, Vec<String>)>> {
    let maps: Vec<&Node> = match &node.value {
        Value::List(items) => items.iter().collect(),
        Value::Map(_) => vec![node],
        _ => return None,
    };
    let mut pairs = Vec::new();
    for map in maps {
        for (from, to) in map.as_map()? {
            let to = match &to.value {
                Value::List(items) => items.iter().filter_map(Node::scalar_text).collect(),
                Value::Str(one) => vec![one.clone()],
                _ => return None,
            };
            pairs.push((from.clone(), to));
        }
    }
    Some(pairs)
}

/// Adds `to`'s targets as fallbacks of the rule for `from`; the row's detail, or why not.
fn add_fallbacks(m: &mut Mapper<'_>, from: &str, to: &[String]) -> Result<String, String> {
    let Some(group) = m.groups.iter().position(|g| g.name == from) else {
        return Err(if m.names_a_model(from) {
            format!("{from} itself was not imported (see its entry)")
        } else {
            format!("there is no model_name {from} in model_list")
        });
    };
    let mut added: Vec<TargetSpec> = Vec::new();
    let mut missing = Vec::new();
    for name in to {
        match m.resolve(name) {
            Some(targets) => {
                for mut target in targets {
                    target.weight = None;
                    let group = &m.groups[group];
                    let known = group.members.iter().any(|m| {
                        m.target.backend == target.backend && m.target.model == target.model
                    }) || group.fallbacks.contains(&target)
                        || added.contains(&target);
                    if !known {
                        added.push(target);
                    }
                }
            }
            None => missing.push(name.clone()),
        }
    }
    m.groups[group].fallbacks.extend(added.iter().cloned());
    let mut detail = if added.is_empty() {
        format!("rule {from:?}: no fallback to add")
    } else {
        format!("rule {from:?}: fallbacks {}", describe_targets(&added))
    };
    if !missing.is_empty() {
        detail.push_str(&format!(
            "; {} not imported or not in model_list",
            names(&missing)
        ));
    }
    if added.is_empty() {
        Err(detail)
    } else {
        Ok(detail)
    }
}

fn fallbacks_with(m: &mut Mapper<'_>, s: &Setting, why: &str) {
    let Some(pairs) = fallback_pairs(&s.node) else {
        row(
            m,
            s,
            Outcome::NotImported,
            "expects a list of {model_name: [fallback model_names]}; this value names none",
        );
        return;
    };
    for (from, to) in pairs {
        let item = format!("{}: {from} → {}", s.path(), names(&to));
        let (outcome, detail) = match add_fallbacks(m, &from, &to) {
            Ok(detail) => (Outcome::Imported, format!("{detail}{why}")),
            Err(why) => (Outcome::NotImported, why),
        };
        m.row(outcome, s.node.line, item, detail);
    }
}

fn fallbacks(m: &mut Mapper<'_>, s: &Setting) {
    fallbacks_with(m, s, "");
}

fn context_window_fallbacks(m: &mut Mapper<'_>, s: &Setting) {
    fallbacks_with(
        m,
        s,
        " (Switchyard skips a target whose context window cannot hold the prompt for the next target or fallback, so these serve as ordinary fallbacks)",
    );
}

fn content_policy_fallbacks(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotImported,
        "a refusal for content policy is answered as it is (the request's fault, not the backend's); Switchyard does not fall back on it",
    );
}

fn default_fallbacks(m: &mut Mapper<'_>, s: &Setting) {
    let to: Vec<String> = match &s.node.value {
        Value::List(items) => items.iter().filter_map(Node::scalar_text).collect(),
        Value::Str(one) => vec![one.clone()],
        _ => Vec::new(),
    };
    let bare: Vec<String> = m
        .groups
        .iter()
        .filter(|g| g.fallbacks.is_empty() && !to.contains(&g.name))
        .map(|g| g.name.clone())
        .collect();
    let mut done = Vec::new();
    for from in &bare {
        if add_fallbacks(m, from, &to).is_ok() {
            done.push(from.clone());
        }
    }
    if done.is_empty() {
        row(
            m,
            s,
            Outcome::NotImported,
            "no rule without fallbacks of its own could take them",
        );
    } else {
        row(
            m,
            s,
            Outcome::Imported,
            format!(
                "fallbacks {} on the rules without their own: {}",
                names(&to),
                names(&done)
            ),
        );
    }
}

/// Whether a setting that LiteLLM lets win over `s` is in the file.
fn decided_by(m: &Mapper<'_>, s: &Setting, stronger: &[(&str, &str)]) -> Option<String> {
    let rank = stronger
        .iter()
        .position(|(sec, key)| *sec == s.section && *key == s.key)?;
    stronger[..rank].iter().find_map(|(sec, key)| {
        m.lite
            .settings
            .iter()
            .any(|o| o.section == *sec && o.key == *key)
            .then(|| format!("{sec}.{key}"))
    })
}

/// The backends this import uses whose own entries did not set the value; and the others.
fn backends_split(
    m: &Mapper<'_>,
    own: impl Fn(&super::map::Chosen) -> bool,
) -> (Vec<String>, Vec<String>) {
    let (set_own, global): (Vec<_>, Vec<_>) = m.chosen.iter().partition(|c| own(c));
    (
        global.iter().map(|c| c.id.clone()).collect(),
        set_own.iter().map(|c| c.id.clone()).collect(),
    )
}

fn num_retries(m: &mut Mapper<'_>, s: &Setting) {
    const ORDER: [(&str, &str); 2] = [
        ("router_settings", "num_retries"),
        ("litellm_settings", "num_retries"),
    ];
    if let Some(winner) = decided_by(m, s, &ORDER) {
        row(m, s, Outcome::NotNeeded, format!("{winner} decides"));
        return;
    }
    let n = s
        .node
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1e6);
    let Some(n) = n.map(|n| n as u32) else {
        row(m, s, Outcome::NotImported, "not a whole number of retries");
        return;
    };
    m.global_retries = Some(n);
    let (global, own) = backends_split(m, |c| c.retries.is_some());
    let mut detail = if global.is_empty() {
        "no imported backend takes it".to_owned()
    } else {
        format!(
            "retries = {n} on {} (each retries a failed attempt before the next target)",
            names(&global)
        )
    };
    if !own.is_empty() {
        detail.push_str(&format!("; {} set their own", names(&own)));
    }
    row(m, s, Outcome::Imported, detail);
}

fn timeout(m: &mut Mapper<'_>, s: &Setting) {
    // Claude Code always streams, so LiteLLM's stream timeout is the one it would meet.
    const ORDER: [(&str, &str); 3] = [
        ("router_settings", "stream_timeout"),
        ("router_settings", "timeout"),
        ("litellm_settings", "request_timeout"),
    ];
    if let Some(winner) = decided_by(m, s, &ORDER) {
        row(m, s, Outcome::NotNeeded, format!("{winner} decides"));
        return;
    }
    let Some(secs) = seconds(&s.node) else {
        row(m, s, Outcome::NotImported, "not a number of seconds");
        return;
    };
    m.global_first_byte = Some(secs);
    let (global, own) = backends_split(m, |c| c.first_byte_s.is_some());
    let mut detail = if global.is_empty() {
        "no imported backend takes it".to_owned()
    } else {
        format!(
            "timeout_first_byte_s = {secs} on {} (LiteLLM's limit is on the whole request; Switchyard's on the wait for the first byte, then timeout_idle_s between chunks)",
            names(&global)
        )
    };
    if !own.is_empty() {
        detail.push_str(&format!("; {} set their own", names(&own)));
    }
    row(m, s, Outcome::Imported, detail);
}

fn model_group_alias(m: &mut Mapper<'_>, s: &Setting) {
    let Some(entries) = s.node.as_map() else {
        row(
            m,
            s,
            Outcome::NotImported,
            "expects a mapping of {alias: model_name}",
        );
        return;
    };
    for (alias, to) in entries {
        // `{model: group, hidden: true}` is the long form.
        let target = to
            .get("model")
            .unwrap_or(to)
            .scalar_text()
            .unwrap_or_default();
        let item = format!("{}: {alias} → {target}", s.path());
        if m.groups.iter().any(|g| g.name == *alias) || m.names_a_model(alias) {
            m.row(
                Outcome::NotImported,
                to.line,
                item,
                format!("a model_name {alias} exists, and LiteLLM sends that name to it"),
            );
            continue;
        }
        let to_alias = match m.groups.iter().position(|g| g.name == target) {
            Some(i) => Some(AliasTo::Group(i)),
            None => m
                .resolve(&target)
                .and_then(|targets| targets.into_iter().next())
                .map(AliasTo::Target),
        };
        match to_alias {
            Some(to_alias) => m.aliases.push(Alias {
                name: alias.clone(),
                written: target.clone(),
                line: to.line,
                to: to_alias,
            }),
            None => m.row(
                Outcome::NotImported,
                to.line,
                item,
                format!(
                    "{target} is neither an imported model_name nor an imported entry's model (LiteLLM would answer {alias} with an error too)"
                ),
            ),
        }
    }
}

fn allowed_fails(m: &mut Mapper<'_>, s: &Setting) {
    let Some(n) = s
        .node
        .as_f64()
        .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= f64::from(u32::MAX))
    else {
        row(
            m,
            s,
            Outcome::NotImported,
            "not a whole number of failures (an allowed_fails_policy per kind of error is not supported)",
        );
        return;
    };
    let n = n as u32;
    m.global_allowed_fails = Some(n);
    row(
        m,
        s,
        Outcome::Imported,
        format!(
            "allowed_fails = {n} on the imported backends (failures within a minute let pass before one cools down)"
        ),
    );
}

fn cooldown_time(m: &mut Mapper<'_>, s: &Setting) {
    let Some(seconds) = seconds(&s.node) else {
        row(m, s, Outcome::NotImported, "not a number of seconds");
        return;
    };
    m.global_cooldown_s = Some(seconds);
    row(
        m,
        s,
        Outcome::Imported,
        format!(
            "cooldown_s = {seconds} on the imported backends (how long a failing one is tried last)"
        ),
    );
}

fn retry_policy(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotImported,
        "retries per kind of error are not supported; each backend's retries covers unreachable, timeout, 429 and 5xx",
    );
}

/// `cache: true` turns Switchyard's response cache on for the profile (exact repeats, kept in
/// its SQLite file); `cache_params` gives its TTL. Semantic caches have no equivalent.
fn cache(m: &mut Mapper<'_>, s: &Setting) {
    match s.key.as_str() {
        "cache" | "cache_responses" if s.node.as_bool() == Some(false) => row(
            m,
            s,
            Outcome::NotNeeded,
            "the response cache stays off, as it is by default in Switchyard",
        ),
        "cache" | "cache_responses" => {
            m.cache.get_or_insert(None);
            let profile = m.profile.clone();
            row(
                m,
                s,
                Outcome::Imported,
                format!(
                    "[cache] enabled = true and cache = true on profile {profile:?}: a repeated request is answered from Switchyard's SQLite file without calling the backend"
                ),
            );
        }
        _ => cache_params(m, s),
    }
}

fn cache_params(m: &mut Mapper<'_>, s: &Setting) {
    let kind = s.node.get("type").and_then(Node::as_str).unwrap_or("local");
    if kind.contains("semantic") {
        row(
            m,
            s,
            Outcome::NotImported,
            format!(
                "a {kind} cache answers similar requests; Switchyard's answers exact repeats only, so it is not turned on for this"
            ),
        );
        return;
    }
    let ttl = s.node.get("ttl").and_then(seconds);
    let mut detail = match ttl {
        Some(ttl) => format!("ttl_s = {ttl} in [cache]"),
        None => "the cache's own TTL kept (ttl_s in [cache])".to_owned(),
    };
    if kind != "local" {
        detail.push_str(&format!(
            "; the {kind} server is not used: answers are kept in Switchyard's SQLite file"
        ));
    }
    if m.cache.is_some() {
        m.cache = Some(ttl);
        row(m, s, Outcome::Imported, detail);
    } else {
        row(
            m,
            s,
            Outcome::NotImported,
            "cache_params without cache: true: the cache stays off",
        );
    }
}

fn redis(m: &mut Mapper<'_>, s: &Setting) {
    m.row(
        Outcome::NotImported,
        s.node.line,
        s.path(),
        "Redis is not used: Switchyard is one process on this machine and keeps its state in memory and SQLite",
    );
}

fn callbacks(m: &mut Mapper<'_>, s: &Setting) {
    let named: Vec<String> = match &s.node.value {
        Value::List(items) => items.iter().filter_map(Node::scalar_text).collect(),
        Value::Str(one) => vec![one.clone()],
        _ => Vec::new(),
    };
    let item = match named.is_empty() {
        true => s.path(),
        false => format!("{}: {}", s.path(), names(&named)),
    };
    m.row(
        Outcome::NotImported,
        s.node.line,
        item,
        "logging and alerting integrations are not supported; Switchyard keeps its own usage history (switchyard usage, the app's History)",
    );
}

fn master_key(m: &mut Mapper<'_>, s: &Setting) {
    // Never the value: it is a secret.
    m.row(
        Outcome::NotImported,
        s.node.line,
        s.path(),
        "Switchyard has its own local token for clients (switchyard token; switchyard env sets Claude Code up with it)",
    );
}

fn database(m: &mut Mapper<'_>, s: &Setting) {
    // Never the value: a database URL carries its password.
    let postgres = s
        .node
        .as_str()
        .is_some_and(|url| url.trim_start().starts_with("postgres"));
    let mut detail = "Switchyard keeps its usage history in its own SQLite file".to_owned();
    if postgres {
        detail.push_str("; Postgres is not used");
    }
    m.row(Outcome::NotImported, s.node.line, s.path(), detail);
}

fn stream(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotNeeded,
        "Switchyard streams whenever the client asks",
    );
}

fn drop_params(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotNeeded,
        "Switchyard's translators send each kind of backend only what it takes",
    );
}

fn logging(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotNeeded,
        "Switchyard's own logging is set with RUST_LOG",
    );
}

fn global_limit(m: &mut Mapper<'_>, s: &Setting) {
    row(
        m,
        s,
        Outcome::NotImported,
        "a limit across all backends is not supported; each backend's max_in_flight limits it alone (set from an entry's litellm_params.max_parallel_requests)",
    );
}

fn environment_variables(m: &mut Mapper<'_>, s: &Setting) {
    // The names only: the values are often keys.
    let named: Vec<String> = s
        .node
        .as_map()
        .map(|entries| entries.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    m.row(
        Outcome::NotImported,
        s.node.line,
        format!("{}: {}", s.path(), names(&named)),
        "Switchyard reads variables from the environment it runs in: set them there (their values were not imported)",
    );
}

fn unknown(m: &mut Mapper<'_>, s: &Setting) {
    // Only the name: an unknown value may be a secret.
    m.row(
        Outcome::NotImported,
        s.node.line,
        s.path(),
        "Switchyard has no such setting",
    );
}
