//! The first hour as engine operations: whether this start is the first, which local engines
//! answer (and whether a backend already points at each), adding one in a click, and mapping
//! Claude Code's opus / sonnet / haiku to a backend's models.

use serde::Serialize;

use super::{BackendDraft, BackendInfo, BackendOpError, Engine, ProfileError, ProfileView};
use super::{RouteView, RuleView};
use crate::config::{BackendKind, Strategy, TargetSpec};
use crate::discovery::{
    self, Endpoint, EndpointSource, EndpointStatus, EngineKind, ProbeSettings, default_endpoints,
};
use crate::setup::{FamilyModels, suggest};

/// The environment variable listing base URLs to probe besides the usual local ports.
pub const DISCOVER_URLS_VAR: &str = "SWITCHYARD_DISCOVER_URLS";

/// A local engine that answered with a model list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FoundEngine {
    pub engine: EngineKind,
    /// The engine's usual name ("Ollama", "LM Studio", ...).
    pub label: String,
    pub base_url: String,
    pub models: Vec<String>,
    /// The configured backend that already points here, if any.
    pub backend_id: Option<String>,
    /// What to map opus / sonnet / haiku to among `models`.
    pub suggested: FamilyModels,
}

/// What the setup checklist shows when it opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SetupState {
    /// This start wrote the default config.
    pub first_run: bool,
    /// Engines that answered, each with a suggested opus / sonnet / haiku mapping.
    pub engines: Vec<FoundEngine>,
    /// The base URLs that were probed (shown when none answered).
    pub tried: Vec<String>,
}

/// Why a setup operation failed; each message is one sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Backend(#[from] BackendOpError),
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// `SWITCHYARD_DISCOVER_URLS`, split on commas, blanks dropped.
pub fn discover_urls_from_env() -> Vec<String> {
    std::env::var(DISCOVER_URLS_VAR)
        .map(|v| parse_url_list(&v))
        .unwrap_or_default()
}

fn parse_url_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One form for comparing base URLs: no trailing `/`, no `/v1`, `localhost` as 127.0.0.1.
fn normalized(url: &str) -> String {
    crate::providers::endpoint_form(url)
}

fn unique_id(label: &str, taken: &[String]) -> String {
    crate::providers::unique_backend_id(label, taken)
}

/// The family rules a first mapping writes, with the model each gets.
fn family_rules(models: &FamilyModels) -> [(&'static str, Option<&String>); 3] {
    [
        ("*opus*", models.opus.as_ref()),
        ("*sonnet*", models.sonnet.as_ref()),
        ("*haiku*", models.haiku.as_ref()),
    ]
}

/// Sets the rules `*opus*`, `*sonnet*`, `*haiku*` to `backend`: an existing rule with exactly
/// that pattern is replaced where it stands; a missing one goes before the other rules (the
/// first match wins, and these are what the user just asked for). Families left `None` are
/// not touched.
fn with_families(mut view: ProfileView, backend: &str, models: &FamilyModels) -> ProfileView {
    let mut missing = Vec::new();
    for (pattern, model) in family_rules(models) {
        let Some(model) = model else { continue };
        let route = RouteView {
            strategy: Strategy::Ordered,
            targets: vec![TargetSpec {
                backend: backend.to_owned(),
                model: Some(model.clone()),
                weight: None,
                vision: None,
            }],
            fallbacks: Vec::new(),
        };
        // A conditional rule with the same pattern is another rule (images, subagents, ...).
        match view
            .rules
            .iter_mut()
            .find(|r| r.pattern == pattern && r.when.is_none())
        {
            Some(rule) => rule.route = route,
            None => missing.push(RuleView {
                pattern: pattern.to_owned(),
                when: None,
                route,
            }),
        }
    }
    missing.append(&mut view.rules);
    view.rules = missing;
    view
}

impl Engine {
    /// Whether this start wrote the default config (nothing was set up before).
    pub fn first_run(&self) -> bool {
        self.inner.first_run
    }

    /// The checklist's state: first run or not, the engines that answer, what was probed.
    pub async fn setup_state(&self) -> SetupState {
        SetupState {
            first_run: self.first_run(),
            engines: self.discover_engines().await,
            tried: self.discovery_urls(),
        }
    }

    /// The base URLs [`Engine::discover_engines`] probes: the usual local ports, then the
    /// extra ones (`SWITCHYARD_DISCOVER_URLS`), each once.
    pub fn discovery_urls(&self) -> Vec<String> {
        self.discovery_endpoints()
            .into_iter()
            .map(|e| e.base_url)
            .collect()
    }

    fn discovery_endpoints(&self) -> Vec<Endpoint> {
        let mut endpoints = default_endpoints();
        for url in &self.inner.discover_urls {
            let url = url.trim().trim_end_matches('/').to_owned();
            if endpoints
                .iter()
                .any(|e| normalized(&e.base_url) == normalized(&url))
            {
                continue;
            }
            endpoints.push(Endpoint {
                name: url.clone(),
                base_url: url,
                expected: None,
                source: EndpointSource::Default,
                api_key_env: None,
            });
        }
        endpoints
    }

    /// The engines that answer, probed in parallel with short timeouts, each with the
    /// backend already pointing at it (if any) and a suggested family mapping.
    pub async fn discover_engines(&self) -> Vec<FoundEngine> {
        let endpoints = self.discovery_endpoints();
        let settings = ProbeSettings::default();
        let report = discovery::discover(&endpoints, &settings).await;
        let config = self.config();
        report
            .endpoints
            .into_iter()
            .filter(|e| e.status == EndpointStatus::Up)
            .map(|e| {
                let engine = e.engine.unwrap_or(EngineKind::OpenaiCompatible);
                let url = normalized(&e.base_url);
                let backend_id = config
                    .backends
                    .iter()
                    .find(|b| normalized(&b.base_url) == url)
                    .map(|b| b.id.clone());
                let models: Vec<String> = e.models.into_iter().map(|m| m.id).collect();
                FoundEngine {
                    engine,
                    label: engine.label().to_owned(),
                    base_url: discovery::root_url(&e.base_url).to_owned(),
                    suggested: suggest(&models),
                    models,
                    backend_id,
                }
            })
            .collect()
    }

    /// Adds a found engine as a backend: Ollama through its native API, any other engine
    /// through its OpenAI-compatible `/v1`; the id is the engine's name, made unique.
    pub async fn add_found_engine(
        &self,
        base_url: &str,
        engine: EngineKind,
    ) -> Result<BackendInfo, SetupError> {
        let root = discovery::root_url(base_url.trim()).to_owned();
        let (kind, base_url) = match engine {
            EngineKind::Ollama => (BackendKind::Ollama, root),
            _ => (BackendKind::OpenaiChat, format!("{root}/v1")),
        };
        let taken: Vec<String> = self
            .config()
            .backends
            .iter()
            .map(|b| b.id.clone())
            .collect();
        let draft = BackendDraft {
            id: unique_id(engine.label(), &taken),
            kind,
            base_url,
            region: None,
            project: None,
            api_key_env: None,
            context_length: None,
            max_output_tokens: None,
            // Found on the usual local ports or the user's own URLs: the address decides.
            local: None,
            rpm: None,
            tpm: None,
        };
        let saved = self.save_backend(draft, None).await?;
        Ok(self.backend_info(&saved.id).await?)
    }

    /// Points the profile's `*opus*`, `*sonnet*` and `*haiku*` rules at `backend` with the
    /// given models (see [`with_families`]), saved with the file's comments kept.
    pub async fn map_families(
        &self,
        profile: &str,
        backend: &str,
        models: FamilyModels,
    ) -> Result<ProfileView, SetupError> {
        let view = self
            .profiles()
            .into_iter()
            .find(|p| p.name == profile)
            .ok_or_else(|| ProfileError::NotFound(profile.to_owned()))?;
        Ok(self
            .save_profile(with_families(view, backend, &models))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(backend: &str, model: &str) -> TargetSpec {
        TargetSpec {
            backend: backend.into(),
            model: Some(model.into()),
            weight: None,
            vision: None,
        }
    }

    fn rule(pattern: &str, backend: &str, model: &str) -> RuleView {
        RuleView {
            pattern: pattern.into(),
            when: None,
            route: RouteView {
                strategy: Strategy::Ordered,
                targets: vec![target(backend, model)],
                fallbacks: Vec::new(),
            },
        }
    }

    #[test]
    fn ids_follow_the_engine_name_and_stay_unique() {
        let taken = vec!["ollama".to_owned(), "ollama-2".to_owned()];
        assert_eq!(unique_id("Ollama", &taken), "ollama-3");
        assert_eq!(unique_id("LM Studio", &taken), "lm-studio");
        assert_eq!(unique_id("llama.cpp", &[]), "llama.cpp");
    }

    #[test]
    fn urls_compare_without_slash_or_v1() {
        assert_eq!(
            normalized("http://localhost:8000/v1/"),
            normalized("http://127.0.0.1:8000")
        );
        assert_ne!(
            normalized("http://127.0.0.1:8000"),
            normalized("http://127.0.0.1:8001")
        );
    }

    #[test]
    fn env_list_splits_on_commas() {
        assert_eq!(
            parse_url_list(" http://a:1, ,http://b:2/v1 "),
            vec!["http://a:1".to_owned(), "http://b:2/v1".to_owned()]
        );
    }

    #[test]
    fn families_replace_their_rules_and_keep_the_others() {
        let view = ProfileView {
            name: "local".into(),
            active: true,
            rules: vec![
                rule("claude-3-*", "cloud", "x"),
                rule("*haiku*", "ollama", "old"),
            ],
            default: None,
        };
        let models = FamilyModels {
            opus: None,
            sonnet: Some("big".into()),
            haiku: Some("small".into()),
        };
        let out = with_families(view, "ollama-2", &models);
        let patterns: Vec<&str> = out.rules.iter().map(|r| r.pattern.as_str()).collect();
        assert_eq!(patterns, ["*sonnet*", "claude-3-*", "*haiku*"]);
        assert_eq!(out.rules[0].route.targets, vec![target("ollama-2", "big")]);
        assert_eq!(out.rules[1].route.targets, vec![target("cloud", "x")]);
        assert_eq!(
            out.rules[2].route.targets,
            vec![target("ollama-2", "small")]
        );
    }
}
