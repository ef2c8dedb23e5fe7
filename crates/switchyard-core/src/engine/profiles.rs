//! Profiles as the mapping screen edits them: views of the config's rules and default route
//! with the strategy each one actually runs with, and the save/delete operations.

use serde::{Deserialize, Serialize};

use super::{Engine, EngineError};
use crate::config::{Config, Profile, RouteSpec, Rule, Strategy, TargetSpec, When};

/// A route as the app shows and edits it: targets in order, fallbacks, and how the targets
/// are used (always spelled out, even where the file leaves it implicit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouteView {
    pub strategy: Strategy,
    pub targets: Vec<TargetSpec>,
    pub fallbacks: Vec<TargetSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleView {
    /// Exact model name or glob such as `*sonnet*`.
    pub pattern: String,
    /// The rule's conditions on the request, kept as they are through the app's edits.
    #[serde(default)]
    pub when: Option<When>,
    pub route: RouteView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ProfileView {
    pub name: String,
    pub active: bool,
    /// Tried in order; the first match wins.
    pub rules: Vec<RuleView>,
    pub default: Option<RouteView>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("A profile name uses letters, digits, '-' or '_' (for example “work-local”).")]
    InvalidName,
    #[error("There is already a profile called “{0}”.")]
    Exists(String),
    #[error("There is no profile called “{0}”.")]
    NotFound(String),
    #[error("“{0}” is the active profile: switch to another profile before deleting it.")]
    Active(String),
    #[error("Rule {rule}: type the model name or pattern it matches.")]
    EmptyPattern { rule: usize },
    #[error("{route}: add at least one target.")]
    NoTargets { route: String },
    #[error("{route}: there is no backend called “{backend}” any more; pick another.")]
    UnknownBackend { route: String, backend: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The view of `profile` (called `name`) for the app.
pub fn view_of(name: &str, profile: &Profile, active: &str) -> ProfileView {
    let route = |strategy, targets: &[TargetSpec], fallbacks: &[TargetSpec]| RouteView {
        strategy,
        targets: targets.to_vec(),
        fallbacks: fallbacks.to_vec(),
    };
    ProfileView {
        name: name.to_owned(),
        active: name == active,
        rules: profile
            .rules
            .iter()
            .map(|r| RuleView {
                pattern: r.pattern.clone(),
                when: r.when.clone(),
                route: route(profile.rule_strategy(r), &r.targets, &r.fallbacks),
            })
            .collect(),
        default: profile.default.as_ref().map(|d| {
            route(
                profile.default_strategy().unwrap_or_default(),
                d.targets(),
                d.fallbacks(),
            )
        }),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The config's form of an edited profile. `previous` is the profile as the file has it now:
/// its profile-wide strategy is kept, and a strategy is written on a route only where the
/// file would not already mean it, so a save changes no more of the file than the user did.
pub fn profile_of(
    view: &ProfileView,
    previous: Option<&Profile>,
    config: &Config,
) -> Result<Profile, ProfileError> {
    let profile_strategy = previous.and_then(|p| p.strategy);
    let check = |route: &RouteView, what: String| -> Result<(), ProfileError> {
        if route.targets.is_empty() {
            return Err(ProfileError::NoTargets { route: what });
        }
        if let Some(t) = route
            .targets
            .iter()
            .chain(&route.fallbacks)
            .find(|t| config.backend(&t.backend).is_none())
        {
            return Err(ProfileError::UnknownBackend {
                route: what,
                backend: t.backend.clone(),
            });
        }
        Ok(())
    };
    // Weights mean nothing to a route that is not weighted (and the config refuses them there).
    let targets_of = |route: &RouteView| -> Vec<TargetSpec> {
        route
            .targets
            .iter()
            .map(|t| TargetSpec {
                backend: t.backend.clone(),
                model: t.model.clone().filter(|m| !m.trim().is_empty()),
                weight: match route.strategy {
                    Strategy::Weighted => t.weight,
                    _ => None,
                },
                vision: t.vision,
            })
            .collect()
    };
    let fallbacks_of = |route: &RouteView| -> Vec<TargetSpec> {
        route
            .fallbacks
            .iter()
            .map(|t| TargetSpec {
                backend: t.backend.clone(),
                model: t.model.clone().filter(|m| !m.trim().is_empty()),
                weight: None,
                vision: t.vision,
            })
            .collect()
    };
    let written = |chosen: Strategy, targets: &[TargetSpec]| {
        (Strategy::effective(None, profile_strategy, targets) != chosen).then_some(chosen)
    };
    let mut rules = Vec::with_capacity(view.rules.len());
    for (i, r) in view.rules.iter().enumerate() {
        let pattern = r.pattern.trim();
        if pattern.is_empty() {
            return Err(ProfileError::EmptyPattern { rule: i + 1 });
        }
        check(&r.route, format!("Rule {} ({pattern})", i + 1))?;
        let targets = targets_of(&r.route);
        rules.push(Rule {
            pattern: pattern.to_owned(),
            when: r.when.clone(),
            strategy: written(r.route.strategy, &targets),
            fallbacks: fallbacks_of(&r.route),
            targets,
        });
    }
    let default = match &view.default {
        None => None,
        Some(route) => {
            check(route, "Default route".to_owned())?;
            let targets = targets_of(route);
            let fallbacks = fallbacks_of(route);
            let strategy = written(route.strategy, &targets);
            // One target, nothing else: written inline, as people write it by hand.
            Some(match (targets.as_slice(), fallbacks.is_empty(), strategy) {
                ([only], true, None) => RouteSpec::Target(only.clone()),
                _ => RouteSpec::Route {
                    targets,
                    fallbacks,
                    strategy,
                },
            })
        }
    };
    Ok(Profile {
        strategy: profile_strategy,
        default,
        rules,
        // The mapping screen does not show it: a save keeps what the file says.
        cache: previous.is_some_and(|p| p.cache),
        capture: previous.is_some_and(|p| p.capture),
    })
}

impl Engine {
    pub fn profiles(&self) -> Vec<ProfileView> {
        let config = self.config();
        config
            .profiles
            .iter()
            .map(|(name, p)| view_of(name, p, &config.active_profile))
            .collect()
    }

    /// Replaces the profile called `view.name` (it must exist: [`Engine::create_profile`]
    /// makes new ones), saved to the file with its comments kept.
    pub async fn save_profile(&self, view: ProfileView) -> Result<ProfileView, ProfileError> {
        let _turn = self.edit_turn().await;
        let base = self.config();
        let mut config = (*base).clone();
        let name = view.name.trim().to_owned();
        let previous = config
            .profiles
            .get(&name)
            .ok_or_else(|| ProfileError::NotFound(name.clone()))?;
        let profile = profile_of(&view, Some(previous), &config)?;
        config.profiles.insert(name.clone(), profile.clone());
        let active = config.active_profile.clone();
        self.update_config(&base, config).await?;
        Ok(view_of(&name, &profile, &active))
    }

    /// A new, empty profile.
    pub async fn create_profile(&self, name: &str) -> Result<ProfileView, ProfileError> {
        let name = name.trim();
        if !valid_name(name) {
            return Err(ProfileError::InvalidName);
        }
        let _turn = self.edit_turn().await;
        let base = self.config();
        let mut config = (*base).clone();
        if config.profiles.contains_key(name) {
            return Err(ProfileError::Exists(name.to_owned()));
        }
        config.profiles.insert(name.to_owned(), Profile::default());
        let active = config.active_profile.clone();
        self.update_config(&base, config).await?;
        Ok(view_of(name, &Profile::default(), &active))
    }

    pub async fn delete_profile(&self, name: &str) -> Result<(), ProfileError> {
        let _turn = self.edit_turn().await;
        let base = self.config();
        let mut config = (*base).clone();
        if config.active_profile == name {
            return Err(ProfileError::Active(name.to_owned()));
        }
        if config.profiles.remove(name).is_none() {
            return Err(ProfileError::NotFound(name.to_owned()));
        }
        self.update_config(&base, config).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::parse;

    const TEXT: &str = r#"
active_profile = "local"
[[backends]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
[[backends]]
id = "openrouter"
kind = "openai_chat"
base_url = "https://openrouter.ai/api/v1"
[profiles.local]
default = { backend = "ollama", model = "qwen" }
[[profiles.local.rules]]
match = "*sonnet*"
targets = [{ backend = "ollama", model = "a" }, { backend = "openrouter", model = "b" }]
[[profiles.local.rules]]
match = "*opus*"
targets = [{ backend = "ollama", weight = 3 }, { backend = "openrouter", weight = 1 }]
"#;

    fn config() -> Config {
        parse(TEXT, Path::new("t.toml")).unwrap()
    }

    #[test]
    fn views_say_how_each_route_uses_its_targets() {
        let c = config();
        let v = view_of("local", &c.profiles["local"], "local");
        assert!(v.active);
        assert_eq!(v.rules[0].route.strategy, Strategy::Ordered);
        // Weights written without a strategy keep balancing, and the view says so.
        assert_eq!(v.rules[1].route.strategy, Strategy::Weighted);
        assert_eq!(
            v.default.as_ref().map(|d| d.strategy),
            Some(Strategy::Ordered)
        );
    }

    #[test]
    fn an_unchanged_view_gives_back_the_same_profile() {
        let c = config();
        let p = &c.profiles["local"];
        let v = view_of("local", p, "local");
        assert_eq!(&profile_of(&v, Some(p), &c).unwrap(), p);
    }

    #[test]
    fn choosing_a_strategy_writes_only_what_differs() {
        let c = config();
        let p = &c.profiles["local"];
        let mut v = view_of("local", p, "local");
        // Balance the sonnet rule: now it must say so in the file.
        v.rules[0].route.strategy = Strategy::Weighted;
        // Order the opus rule: its weights go (they would be refused on an ordered route).
        v.rules[1].route.strategy = Strategy::Ordered;
        let out = profile_of(&v, Some(p), &c).unwrap();
        assert_eq!(out.rules[0].strategy, Some(Strategy::Weighted));
        assert_eq!(out.rules[1].strategy, None);
        assert!(out.rules[1].targets.iter().all(|t| t.weight.is_none()));
        assert_eq!(out.rule_strategy(&out.rules[1]), Strategy::Ordered);
    }

    #[test]
    fn mistakes_are_named_for_people() {
        let c = config();
        let p = &c.profiles["local"];
        let mut v = view_of("local", p, "local");
        v.rules[0].route.targets[0].backend = "gone".into();
        let err = profile_of(&v, Some(p), &c).unwrap_err().to_string();
        assert_eq!(
            err,
            "Rule 1 (*sonnet*): there is no backend called “gone” any more; pick another."
        );
        let mut v = view_of("local", p, "local");
        v.rules[1].pattern = " ".into();
        assert_eq!(
            profile_of(&v, Some(p), &c).unwrap_err().to_string(),
            "Rule 2: type the model name or pattern it matches."
        );
        assert!(!valid_name("has space") && !valid_name("") && valid_name("work-local_2"));
    }
}
