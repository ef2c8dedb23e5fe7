use rand::Rng;
use wildmatch::WildMatch;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::{Config, Profile, Strategy, TargetSpec};

use super::{Cooldowns, Facts, Load, Needs};

/// What serves a request: the targets, the fallbacks and how the targets are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'c> {
    pub targets: &'c [TargetSpec],
    pub fallbacks: &'c [TargetSpec],
    pub strategy: Strategy,
    /// The rule that matched (1-based, in file order); `None` for the default route.
    pub rule: Option<usize>,
    /// That rule has conditions (`when`).
    pub conditional: bool,
}

/// The route that serves `model` in `profile` by name alone: conditional rules (which need
/// the request) are passed over. For listing models and the like; requests use
/// [`resolve_for`].
pub fn resolve<'c>(
    config: &'c Config,
    profile_name: &str,
    model: &str,
) -> Result<Route<'c>, ApiError> {
    resolve_with(config, profile_name, model, None::<fn(Needs) -> Facts>)
}

/// The route that serves a request for `model` in `profile`: conditional rules first, in file
/// order (their `match` and every condition must hold), then exact rules, then globs in file
/// order, then the profile's default. `facts` is asked at most once, only when a conditional
/// rule matches the model, for the facts those rules read.
pub fn resolve_for<'c>(
    config: &'c Config,
    profile_name: &str,
    model: &str,
    facts: impl FnOnce(Needs) -> Facts,
) -> Result<Route<'c>, ApiError> {
    resolve_with(config, profile_name, model, Some(facts))
}

fn resolve_with<'c>(
    config: &'c Config,
    profile_name: &str,
    model: &str,
    facts: Option<impl FnOnce(Needs) -> Facts>,
) -> Result<Route<'c>, ApiError> {
    let profile: &Profile = config.profiles.get(profile_name).ok_or_else(|| {
        ApiError::new(
            ErrorType::NotFoundError,
            format!(
                "there is no profile {profile_name:?} in the config (profiles: {})",
                config
                    .profiles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })?;
    let is_glob = |p: &str| p.contains(['*', '?']);
    let matches = |pattern: &str| {
        if is_glob(pattern) {
            WildMatch::new(pattern).matches(model)
        } else {
            pattern == model
        }
    };
    let route = |(i, rule): (usize, &'c crate::config::Rule)| Route {
        targets: &rule.targets,
        fallbacks: &rule.fallbacks,
        strategy: profile.rule_strategy(rule),
        rule: Some(i + 1),
        conditional: rule.when.is_some(),
    };
    let rules = || profile.rules.iter().enumerate();
    let conditional = rules().filter(|(_, r)| r.when.is_some() && matches(&r.pattern));
    if let Some(facts) = facts {
        let candidates: Vec<_> = conditional.collect();
        if !candidates.is_empty() {
            let needs = candidates
                .iter()
                .filter_map(|(_, r)| r.when.as_ref())
                .fold(Needs::default(), |needs, when| needs.and(Needs::of(when)));
            let facts = facts(needs);
            if let Some(found) = candidates
                .into_iter()
                .find(|(_, r)| r.when.as_ref().is_some_and(|w| facts.meet(w)))
            {
                return Ok(route(found));
            }
        }
    }
    let by_name = || rules().filter(|(_, r)| r.when.is_none());
    let exact = by_name().find(|(_, r)| !is_glob(&r.pattern) && r.pattern == model);
    let glob = || {
        by_name().find(|(_, r)| is_glob(&r.pattern) && WildMatch::new(&r.pattern).matches(model))
    };
    if let Some(found) = exact.or_else(glob) {
        return Ok(route(found));
    }
    match &profile.default {
        Some(route) => Ok(Route {
            targets: route.targets(),
            fallbacks: route.fallbacks(),
            strategy: Strategy::effective(route.strategy(), profile.strategy, route.targets()),
            rule: None,
            conditional: false,
        }),
        None => Err(ApiError::new(
            ErrorType::NotFoundError,
            format!(
                "model {model:?} is not mapped in profile {profile_name:?}: add a rule that matches it or a default route (Model mapping in the app, or [profiles.{profile_name}] in the config)"
            ),
        )),
    }
}

impl<'c> Route<'c> {
    /// A route to `target` alone (a replay to a chosen backend and model).
    pub fn only(target: &'c TargetSpec) -> Self {
        Route {
            targets: std::slice::from_ref(target),
            fallbacks: &[],
            strategy: Strategy::Ordered,
            rule: None,
            conditional: false,
        }
    }

    /// Which rule of `profile` routed the request, in words (`default route` without one).
    pub fn label(&self, profile: Option<&Profile>) -> String {
        match (self.rule, profile) {
            (Some(n), Some(profile)) => profile
                .rules
                .get(n - 1)
                .map_or_else(|| format!("rule {n}"), |rule| rule.label(n)),
            (Some(n), None) => format!("rule {n}"),
            (None, _) => "default route".to_owned(),
        }
    }
}

/// One target to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub backend: String,
    /// The model name to send upstream.
    pub model: String,
    pub is_fallback: bool,
    /// `Some(false)`: the target's model cannot read images.
    pub vision: Option<bool>,
}

/// The ordered attempts for a request: the route's targets (in the order written, or in a
/// weighted random order for a `weighted` route), then its fallbacks in order. Backends
/// cooling down after a failure go to the end, so they are tried only when everything else
/// failed.
pub fn plan(
    route: &Route<'_>,
    requested_model: &str,
    cooldowns: &Cooldowns,
    load: &Load,
    rng: &mut impl Rng,
) -> Vec<Attempt> {
    let mut ordered = Vec::with_capacity(route.targets.len() + route.fallbacks.len());
    let model_of = |t: &TargetSpec| {
        t.model
            .clone()
            .unwrap_or_else(|| requested_model.to_owned())
    };
    // Sorts are stable: targets that measure the same keep the order written.
    let by_key = |key: &dyn Fn(&TargetSpec) -> f64| {
        let mut targets: Vec<&TargetSpec> = route.targets.iter().collect();
        targets.sort_by(|a, b| key(a).total_cmp(&key(b)));
        targets
    };
    match route.strategy {
        Strategy::Ordered => ordered.extend(route.targets.iter().map(|t| (t, false))),
        Strategy::LeastBusy => ordered.extend(
            by_key(&|t| load.in_flight(&t.backend) as f64)
                .into_iter()
                .map(|t| (t, false)),
        ),
        Strategy::LowestLatency => ordered.extend(
            by_key(&|t| load.latency_ms(&t.backend, &model_of(t)).unwrap_or(0.0))
                .into_iter()
                .map(|t| (t, false)),
        ),
        Strategy::Usage => ordered.extend(
            by_key(&|t| load.minute_tokens(&t.backend) as f64)
                .into_iter()
                .map(|t| (t, false)),
        ),
        Strategy::Weighted => {
            let mut pool: Vec<&TargetSpec> = route.targets.iter().collect();
            while !pool.is_empty() {
                let total: u64 = pool.iter().map(|t| u64::from(t.weight.unwrap_or(1))).sum();
                let mut pick = rng.random_range(0..total.max(1));
                let index = pool
                    .iter()
                    .position(|t| {
                        let w = u64::from(t.weight.unwrap_or(1));
                        if pick < w {
                            true
                        } else {
                            pick -= w;
                            false
                        }
                    })
                    .unwrap_or(0);
                ordered.push((pool.remove(index), false));
            }
        }
    }
    ordered.extend(route.fallbacks.iter().map(|t| (t, true)));
    let attempt = |(t, is_fallback): (&TargetSpec, bool)| Attempt {
        backend: t.backend.clone(),
        model: model_of(t),
        is_fallback,
        vision: t.vision,
    };
    let (ready, cooling): (Vec<_>, Vec<_>) = ordered
        .into_iter()
        .partition(|(t, _)| !cooldowns.is_cooling(&t.backend));
    ready.into_iter().chain(cooling).map(attempt).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, parse};
    use rand::SeedableRng;
    use std::path::Path;
    use std::time::Duration;

    const TEXT: &str = r#"
active_profile = "local"
[[backends]]
id = "a"
kind = "ollama"
base_url = "http://127.0.0.1:1"
[[backends]]
id = "b"
kind = "anthropic"
base_url = "http://127.0.0.1:2"
[[backends]]
id = "c"
kind = "anthropic"
base_url = "http://127.0.0.1:3"
[profiles.local]
default = { backend = "a", model = "default-model" }
[[profiles.local.rules]]
match = "*sonnet*"
targets = [{ backend = "a", model = "glob-model" }]
fallbacks = [{ backend = "b" }]
[[profiles.local.rules]]
match = "claude-sonnet-4-5"
targets = [{ backend = "b", model = "exact-model" }]
[[profiles.local.rules]]
match = "*opus*"
targets = [{ backend = "c" }, { backend = "a" }, { backend = "b" }]
[[profiles.local.rules]]
match = "*haiku*"
strategy = "weighted"
targets = [{ backend = "a", weight = 3 }, { backend = "b" }]
[[profiles.local.rules]]
match = "old-weights"
targets = [{ backend = "a", weight = 3 }, { backend = "b", weight = 1 }]
[profiles.balanced]
strategy = "weighted"
default = { targets = [{ backend = "a" }, { backend = "b" }] }
[[profiles.balanced.rules]]
match = "pinned"
strategy = "ordered"
targets = [{ backend = "b" }, { backend = "a" }]
[profiles.empty]
"#;

    fn config() -> Config {
        parse(TEXT, Path::new("t.toml")).unwrap()
    }

    fn models(config: &Config, profile: &str, model: &str) -> Vec<String> {
        let route = resolve(config, profile, model).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        plan(
            &route,
            model,
            &Cooldowns::default(),
            &Load::default(),
            &mut rng,
        )
        .into_iter()
        .map(|a| format!("{}:{}", a.backend, a.model))
        .collect()
    }

    /// How often each backend comes first over `runs` plans of `model`'s route.
    fn firsts(config: &Config, profile: &str, model: &str, runs: usize) -> Vec<(String, usize)> {
        let route = resolve(config, profile, model).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut counts: Vec<(String, usize)> = Vec::new();
        for _ in 0..runs {
            let first = plan(
                &route,
                model,
                &Cooldowns::default(),
                &Load::default(),
                &mut rng,
            )[0]
            .backend
            .clone();
            match counts.iter_mut().find(|(b, _)| *b == first) {
                Some((_, n)) => *n += 1,
                None => counts.push((first, 1)),
            }
        }
        counts.sort();
        counts
    }

    #[test]
    fn exact_beats_glob_beats_default() {
        let c = config();
        assert_eq!(models(&c, "local", "claude-sonnet-4-5"), ["b:exact-model"]);
        assert_eq!(
            models(&c, "local", "claude-sonnet-4-6"),
            ["a:glob-model", "b:claude-sonnet-4-6"]
        );
        assert_eq!(models(&c, "local", "gpt-5"), ["a:default-model"]);
    }

    #[test]
    fn unmapped_model_is_a_404_naming_model_and_profile() {
        let err = resolve(&config(), "empty", "claude-opus-4").unwrap_err();
        assert_eq!(err.status(), 404);
        assert!(err.message.contains("\"claude-opus-4\""));
        assert!(err.message.contains("\"empty\""));
    }

    /// With no strategy anywhere and no weights, targets are a priority list: the first one
    /// written is always tried first (it used to be a coin toss between them).
    #[test]
    fn targets_without_a_strategy_keep_their_order_every_time() {
        let c = config();
        let route = resolve(&c, "local", "claude-opus-4").unwrap();
        assert_eq!(route.strategy, Strategy::Ordered);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for _ in 0..500 {
            let order: Vec<_> = plan(
                &route,
                "m",
                &Cooldowns::default(),
                &Load::default(),
                &mut rng,
            )
            .into_iter()
            .map(|a| a.backend)
            .collect();
            assert_eq!(order, ["c", "a", "b"]);
        }
    }

    #[test]
    fn a_weighted_rule_balances_by_weight() {
        let c = config();
        // Expect 3/4 of 4000 = 3000 first on "a"; a fair tolerance for a seeded RNG.
        let counts = firsts(&c, "local", "claude-haiku-4-5", 4000);
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert_eq!(counts[0].0, "a");
        assert!((2800..3200).contains(&counts[0].1), "{counts:?}");
    }

    /// A file from before strategies existed, with weights and no strategy, keeps balancing.
    #[test]
    fn weights_without_a_strategy_still_balance() {
        let c = config();
        assert_eq!(
            resolve(&c, "local", "old-weights").unwrap().strategy,
            Strategy::Weighted
        );
        let counts = firsts(&c, "local", "old-weights", 4000);
        assert_eq!(counts[0].0, "a");
        assert!((2800..3200).contains(&counts[0].1), "{counts:?}");
    }

    /// A profile's strategy is the default of its routes; a rule's own strategy wins.
    #[test]
    fn the_profile_strategy_applies_unless_the_route_says_otherwise() {
        let c = config();
        let balanced = &c.profiles["balanced"];
        assert_eq!(balanced.default_strategy(), Some(Strategy::Weighted));
        assert_eq!(
            balanced.rule_strategy(&balanced.rules[0]),
            Strategy::Ordered
        );
        assert_eq!(c.profiles["empty"].default_strategy(), None);
        let counts = firsts(&c, "balanced", "anything", 2000);
        assert_eq!(counts.len(), 2, "{counts:?}");
        assert!((900..1100).contains(&counts[0].1), "{counts:?}");
        assert_eq!(models(&c, "balanced", "pinned"), ["b:pinned", "a:pinned"]);
    }

    #[test]
    fn a_weight_on_an_ordered_route_is_refused_with_its_line() {
        let text = TEXT.replace(
            "match = \"pinned\"\nstrategy = \"ordered\"\ntargets = [{ backend = \"b\" }, { backend = \"a\" }]",
            "match = \"pinned\"\nstrategy = \"ordered\"\ntargets = [{ backend = \"b\" },\n  { backend = \"a\", weight = 2 }]",
        );
        let text = text.replace(
            "[profiles.empty]",
            "[profiles.empty]\nstrategy = \"ordered\"\ndefault = { backend = \"a\", weight = 1 }",
        );
        let Err(ConfigError::Invalid { issues, .. }) = parse(&text, Path::new("t.toml")) else {
            panic!("the weights should be refused");
        };
        let found: Vec<_> = issues.iter().map(|i| (i.field.as_str(), i.line)).collect();
        assert_eq!(
            found,
            [
                ("profiles.balanced.rules[0].targets[1].weight", Some(41)),
                ("profiles.empty.default.weight", Some(44)),
            ]
        );
        assert!(
            issues[0]
                .message
                .starts_with("weights only apply with strategy = \"weighted\""),
            "{}",
            issues[0].message
        );
    }

    #[test]
    fn cooling_backends_go_last() {
        let c = config();
        let cooldowns = Cooldowns::default();
        cooldowns.fail("a", Duration::from_secs(30), 0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let route = resolve(&c, "local", "claude-sonnet-4-6").unwrap();
        let order: Vec<_> = plan(&route, "m", &cooldowns, &Load::default(), &mut rng)
            .into_iter()
            .map(|a| a.backend)
            .collect();
        assert_eq!(order, ["b", "a"]);
        let route = resolve(&c, "local", "claude-opus-4").unwrap();
        let order: Vec<_> = plan(&route, "m", &cooldowns, &Load::default(), &mut rng)
            .into_iter()
            .map(|a| a.backend)
            .collect();
        assert_eq!(order, ["c", "b", "a"]);
    }
}

#[cfg(test)]
mod needs_tests {
    use super::*;
    use crate::config::parse;
    use std::path::Path;

    /// Only the facts read by the conditional rules that match the model are asked for.
    #[test]
    fn facts_are_asked_for_what_the_matching_rules_read() {
        let config = parse(
            r#"
active_profile = "p"
[[backends]]
id = "a"
kind = "anthropic"
base_url = "http://127.0.0.1:1"
[profiles.p]
default = { backend = "a" }
[[profiles.p.rules]]
match = "*haiku*"
when = { images = true }
targets = [{ backend = "a", model = "vl" }]
[[profiles.p.rules]]
when = { agent = "subagent" }
targets = [{ backend = "a", model = "small" }]
[[profiles.p.rules]]
match = "*opus*"
when = { min_prompt_tokens = 1000 }
targets = [{ backend = "a", model = "long" }]
"#,
            Path::new("c.toml"),
        )
        .unwrap();
        let asked = |model: &str| {
            let mut seen = None;
            resolve_for(&config, "p", model, |needs| {
                seen = Some(needs);
                Facts::default()
            })
            .unwrap();
            seen
        };
        let agent = Needs {
            agent: true,
            ..Needs::default()
        };
        assert_eq!(asked("claude-sonnet-4-5"), Some(agent));
        assert_eq!(
            asked("claude-haiku-4-5"),
            Some(Needs {
                images: true,
                ..agent
            })
        );
        assert_eq!(
            asked("claude-opus-4-1"),
            Some(Needs {
                prompt_tokens: true,
                ..agent
            })
        );
    }
}
