use rand::Rng;
use wildmatch::WildMatch;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::{Config, Profile, RouteSpec, TargetSpec};

use super::Cooldowns;

/// The route that serves `model` in `profile`: exact rules first, then globs in file order,
/// then the profile's default.
pub fn resolve<'c>(
    config: &'c Config,
    profile_name: &str,
    model: &str,
) -> Result<(&'c [TargetSpec], &'c [TargetSpec]), ApiError> {
    let profile: &Profile = config.profiles.get(profile_name).ok_or_else(|| {
        ApiError::new(
            ErrorType::NotFoundError,
            format!("the active profile {profile_name:?} does not exist in the config"),
        )
    })?;
    let is_glob = |p: &str| p.contains(['*', '?']);
    let exact = profile
        .rules
        .iter()
        .find(|r| !is_glob(&r.pattern) && r.pattern == model);
    let glob = || {
        profile
            .rules
            .iter()
            .find(|r| is_glob(&r.pattern) && WildMatch::new(&r.pattern).matches(model))
    };
    if let Some(rule) = exact.or_else(glob) {
        return Ok((&rule.targets, &rule.fallbacks));
    }
    match &profile.default {
        Some(RouteSpec::Target(target)) => Ok((std::slice::from_ref(target), &[])),
        Some(RouteSpec::Route { targets, fallbacks }) => Ok((targets, fallbacks)),
        None => Err(ApiError::new(
            ErrorType::NotFoundError,
            format!(
                "model {model:?} is not mapped in profile {profile_name:?}: add a rule that matches it or a default route (Model mapping in the app, or [profiles.{profile_name}] in the config)"
            ),
        )),
    }
}

/// One target to try, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub backend: String,
    /// The model name to send upstream.
    pub model: String,
    pub is_fallback: bool,
}

/// The ordered attempts for a request: the route's targets, balanced by weight (a weighted
/// random order), then its fallbacks in order. Backends cooling down after a failure go to
/// the end, so they are tried only when everything else failed.
pub fn plan(
    targets: &[TargetSpec],
    fallbacks: &[TargetSpec],
    requested_model: &str,
    cooldowns: &Cooldowns,
    rng: &mut impl Rng,
) -> Vec<Attempt> {
    let mut pool: Vec<&TargetSpec> = targets.iter().collect();
    let mut ordered = Vec::with_capacity(targets.len() + fallbacks.len());
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
    ordered.extend(fallbacks.iter().map(|t| (t, true)));
    let attempt = |(t, is_fallback): (&TargetSpec, bool)| Attempt {
        backend: t.backend.clone(),
        model: t
            .model
            .clone()
            .unwrap_or_else(|| requested_model.to_owned()),
        is_fallback,
    };
    let (ready, cooling): (Vec<_>, Vec<_>) = ordered
        .into_iter()
        .partition(|(t, _)| !cooldowns.is_cooling(&t.backend));
    ready.into_iter().chain(cooling).map(attempt).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;
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
[profiles.local]
default = { backend = "a", model = "default-model" }
[[profiles.local.rules]]
match = "*sonnet*"
targets = [{ backend = "a", model = "glob-model" }]
fallbacks = [{ backend = "b" }]
[[profiles.local.rules]]
match = "claude-sonnet-4-5"
targets = [{ backend = "b", model = "exact-model" }]
[profiles.empty]
"#;

    fn config() -> Config {
        parse(TEXT, Path::new("t.toml")).unwrap()
    }

    fn models(config: &Config, profile: &str, model: &str) -> Vec<String> {
        let (t, f) = resolve(config, profile, model).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        plan(t, f, model, &Cooldowns::default(), &mut rng)
            .into_iter()
            .map(|a| format!("{}:{}", a.backend, a.model))
            .collect()
    }

    #[test]
    fn exact_beats_glob_beats_default() {
        let c = config();
        assert_eq!(models(&c, "local", "claude-sonnet-4-5"), ["b:exact-model"]);
        assert_eq!(
            models(&c, "local", "claude-sonnet-4-6"),
            ["a:glob-model", "b:claude-sonnet-4-6"]
        );
        assert_eq!(models(&c, "local", "claude-opus-4"), ["a:default-model"]);
    }

    #[test]
    fn unmapped_model_is_a_404_naming_model_and_profile() {
        let err = resolve(&config(), "empty", "claude-opus-4").unwrap_err();
        assert_eq!(err.status(), 404);
        assert!(err.message.contains("\"claude-opus-4\""));
        assert!(err.message.contains("\"empty\""));
    }

    #[test]
    fn weights_balance_traffic() {
        let targets = vec![
            TargetSpec {
                backend: "a".into(),
                model: None,
                weight: Some(3),
            },
            TargetSpec {
                backend: "b".into(),
                model: None,
                weight: Some(1),
            },
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let firsts = (0..4000)
            .filter(|_| plan(&targets, &[], "m", &Cooldowns::default(), &mut rng)[0].backend == "a")
            .count();
        // Expect 3/4 of 4000 = 3000; a fair tolerance for a seeded RNG.
        assert!((2800..3200).contains(&firsts), "{firsts}");
    }

    #[test]
    fn cooling_backends_go_last() {
        let targets = vec![TargetSpec {
            backend: "a".into(),
            model: None,
            weight: None,
        }];
        let fallbacks = vec![TargetSpec {
            backend: "b".into(),
            model: None,
            weight: None,
        }];
        let cooldowns = Cooldowns::default();
        cooldowns.fail("a", Duration::from_secs(30));
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let order: Vec<_> = plan(&targets, &fallbacks, "m", &cooldowns, &mut rng)
            .into_iter()
            .map(|a| a.backend)
            .collect();
        assert_eq!(order, ["b", "a"]);
    }
}
