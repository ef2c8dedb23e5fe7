//! Edits of a config that follow a backend through the routes: who uses it, re-pointing its
//! targets, removing them. Pure functions over `Config`; `backends.rs` saves the result.

use serde::{Deserialize, Serialize};

use crate::config::{Config, RouteSpec, TargetSpec};

/// Whether a backend is one of a route's targets or one of its fallbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TargetRole {
    Target,
    Fallback,
}

/// A route that sends requests to a backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Dependent {
    pub profile: String,
    /// The rule's `match` pattern; `None` for the profile's default route.
    pub rule: Option<String>,
    /// The rule's position in the profile (patterns may repeat); `None` for the default.
    pub rule_index: Option<u32>,
    pub role: TargetRole,
}

/// Every route (profile, rule or default, target or fallback) that names `backend`.
pub fn dependents(config: &Config, backend: &str) -> Vec<Dependent> {
    let mut found = Vec::new();
    for (name, profile) in &config.profiles {
        let mut note = |rule: Option<(usize, &str)>, targets: &[TargetSpec], role| {
            if targets.iter().any(|t| t.backend == backend) {
                found.push(Dependent {
                    profile: name.clone(),
                    rule: rule.map(|(_, pattern)| pattern.to_owned()),
                    rule_index: rule.and_then(|(i, _)| u32::try_from(i).ok()),
                    role,
                });
            }
        };
        match &profile.default {
            Some(RouteSpec::Target(target)) => {
                note(None, std::slice::from_ref(target), TargetRole::Target)
            }
            Some(RouteSpec::Route {
                targets, fallbacks, ..
            }) => {
                note(None, targets, TargetRole::Target);
                note(None, fallbacks, TargetRole::Fallback);
            }
            None => {}
        }
        for (i, rule) in profile.rules.iter().enumerate() {
            note(Some((i, &rule.pattern)), &rule.targets, TargetRole::Target);
            note(
                Some((i, &rule.pattern)),
                &rule.fallbacks,
                TargetRole::Fallback,
            );
        }
    }
    found
}

/// Point every target and fallback naming `from` to `to` (a rule that then names `to` twice
/// keeps the first), and budgets on `from` to `to` (a rename).
pub fn repoint(config: &mut Config, from: &str, to: &str) {
    let fix = |targets: &mut Vec<TargetSpec>| {
        for t in targets.iter_mut() {
            if t.backend == from {
                t.backend = to.to_owned();
            }
        }
        let mut seen: Vec<TargetSpec> = Vec::with_capacity(targets.len());
        targets.retain(|t| {
            let first = !seen.contains(t);
            seen.push(t.clone());
            first
        });
    };
    for profile in config.profiles.values_mut() {
        match &mut profile.default {
            Some(RouteSpec::Target(t)) if t.backend == from => t.backend = to.to_owned(),
            Some(RouteSpec::Route {
                targets, fallbacks, ..
            }) => {
                fix(targets);
                fix(fallbacks);
            }
            _ => {}
        }
        for rule in &mut profile.rules {
            fix(&mut rule.targets);
            fix(&mut rule.fallbacks);
        }
    }
    for budget in &mut config.budgets {
        if budget.backend.as_deref() == Some(from) {
            budget.backend = Some(to.to_owned());
        }
    }
}

/// Remove `backend` from every route. A route left with targets only among its fallbacks
/// promotes them; a rule left with nothing is removed, a default left with nothing is unset.
/// Returns the rules and defaults removed that way.
pub fn remove_targets(config: &mut Config, backend: &str) -> Vec<Dependent> {
    let mut dropped = Vec::new();
    // Empties targets and fallbacks, promoting fallbacks; true when nothing is left.
    let strip = |targets: &mut Vec<TargetSpec>, fallbacks: &mut Vec<TargetSpec>| {
        targets.retain(|t| t.backend != backend);
        fallbacks.retain(|t| t.backend != backend);
        if targets.is_empty() {
            targets.append(fallbacks);
        }
        targets.is_empty()
    };
    for (name, profile) in config.profiles.iter_mut() {
        let gone = match &mut profile.default {
            Some(RouteSpec::Target(t)) => t.backend == backend,
            Some(RouteSpec::Route {
                targets, fallbacks, ..
            }) => strip(targets, fallbacks),
            None => false,
        };
        if gone {
            profile.default = None;
            dropped.push(Dependent {
                profile: name.clone(),
                rule: None,
                rule_index: None,
                role: TargetRole::Target,
            });
        }
        let mut index = 0u32;
        profile.rules.retain_mut(|rule| {
            let i = index;
            index += 1;
            let uses = rule
                .targets
                .iter()
                .chain(&rule.fallbacks)
                .any(|t| t.backend == backend);
            if uses && strip(&mut rule.targets, &mut rule.fallbacks) {
                dropped.push(Dependent {
                    profile: name.clone(),
                    rule: Some(rule.pattern.clone()),
                    rule_index: Some(i),
                    role: TargetRole::Target,
                });
                return false;
            }
            true
        });
    }
    dropped
}

/// Remove the budgets that apply to `backend`; returns their names.
pub fn remove_budgets(config: &mut Config, backend: &str) -> Vec<String> {
    let mut removed = Vec::new();
    config.budgets.retain(|b| {
        let on = b.backend.as_deref() == Some(backend);
        if on {
            removed.push(b.name.clone());
        }
        !on
    });
    removed
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse;

    const TEXT: &str = r#"
active_profile = "main"
[[backends]]
id = "local"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
[[backends]]
id = "cloud"
kind = "anthropic"
base_url = "https://api.anthropic.com"
[profiles.main]
default = { backend = "cloud" }
[[profiles.main.rules]]
match = "*haiku*"
targets = [{ backend = "local" }]
fallbacks = [{ backend = "cloud" }]
[[profiles.main.rules]]
match = "*opus*"
targets = [{ backend = "cloud" }]
[profiles.other]
default = { targets = [{ backend = "cloud" }, { backend = "local" }] }
"#;

    fn config() -> Config {
        parse(TEXT, Path::new("t.toml")).unwrap()
    }

    fn dep(profile: &str, rule: Option<(u32, &str)>, role: TargetRole) -> Dependent {
        Dependent {
            profile: profile.into(),
            rule: rule.map(|(_, p)| p.into()),
            rule_index: rule.map(|(i, _)| i),
            role,
        }
    }

    #[test]
    fn dependents_name_profile_rule_and_role() {
        assert_eq!(
            dependents(&config(), "cloud"),
            [
                dep("main", None, TargetRole::Target),
                dep("main", Some((0, "*haiku*")), TargetRole::Fallback),
                dep("main", Some((1, "*opus*")), TargetRole::Target),
                dep("other", None, TargetRole::Target),
            ]
        );
        assert!(dependents(&config(), "nope").is_empty());
    }

    #[test]
    fn removing_targets_drops_only_what_is_left_empty() {
        let mut c = config();
        let dropped = remove_targets(&mut c, "cloud");
        assert_eq!(
            dropped,
            [
                dep("main", None, TargetRole::Target),
                dep("main", Some((1, "*opus*")), TargetRole::Target),
            ]
        );
        let main = &c.profiles["main"];
        assert_eq!(main.default, None);
        assert_eq!(main.rules.len(), 1);
        assert_eq!(main.rules[0].pattern, "*haiku*");
        assert!(main.rules[0].fallbacks.is_empty());
        match &c.profiles["other"].default {
            Some(RouteSpec::Route { targets, .. }) => {
                assert_eq!(targets.len(), 1);
                assert_eq!(targets[0].backend, "local");
            }
            other => panic!("default changed shape: {other:?}"),
        }
    }

    #[test]
    fn a_route_left_with_fallbacks_promotes_them() {
        let mut c = config();
        remove_targets(&mut c, "local");
        let haiku = &c.profiles["main"].rules[0];
        assert_eq!(haiku.targets.len(), 1);
        assert_eq!(haiku.targets[0].backend, "cloud");
        assert!(haiku.fallbacks.is_empty());
    }

    #[test]
    fn repointing_merges_duplicate_targets() {
        let mut c = config();
        repoint(&mut c, "local", "cloud");
        assert!(dependents(&c, "local").is_empty());
        match &c.profiles["other"].default {
            Some(RouteSpec::Route { targets, .. }) => assert_eq!(targets.len(), 1),
            other => panic!("default changed shape: {other:?}"),
        }
    }
}
