//! Model mapping screen: per-profile rules, default route, and a live test through the gateway.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::config::{Profile, RouteSpec, Rule, TargetSpec};
use switchyard_core::secrets::ExposeSecret;
use switchyard_core::usage::RequestStatus;
use tauri::State;

use crate::engine::EngineEvent;
use crate::error::{CmdResult, CommandError};
use crate::state::SharedState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct TargetView {
    pub backend: String,
    /// `None`: send the requested model name unchanged.
    pub model: Option<String>,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct RouteView {
    pub targets: Vec<TargetView>,
    pub fallbacks: Vec<TargetView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct RuleView {
    /// Exact model name or glob such as `*sonnet*`.
    pub pattern: String,
    pub route: RouteView,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
pub struct ProfileView {
    pub name: String,
    pub active: bool,
    /// Rules are tried in order; the first match wins.
    pub rules: Vec<RuleView>,
    pub default: Option<RouteView>,
}

#[derive(Debug, Clone, Serialize, Type)]
pub struct RouteTestResult {
    pub ok: bool,
    pub profile: String,
    pub requested_model: String,
    pub backend: Option<String>,
    pub upstream_model: Option<String>,
    pub latency_ms: u64,
    /// The start of the model's answer, or the gateway's error message.
    pub detail: String,
}

impl From<&TargetSpec> for TargetView {
    fn from(t: &TargetSpec) -> Self {
        Self {
            backend: t.backend.clone(),
            model: t.model.clone(),
            weight: t.weight,
        }
    }
}
impl From<&TargetView> for TargetSpec {
    fn from(t: &TargetView) -> Self {
        Self {
            backend: t.backend.clone(),
            model: t.model.clone().filter(|m| !m.trim().is_empty()),
            weight: t.weight,
        }
    }
}

fn route_of(spec: &RouteSpec) -> RouteView {
    match spec {
        RouteSpec::Target(t) => RouteView {
            targets: vec![t.into()],
            fallbacks: vec![],
        },
        RouteSpec::Route { targets, fallbacks } => RouteView {
            targets: targets.iter().map(Into::into).collect(),
            fallbacks: fallbacks.iter().map(Into::into).collect(),
        },
    }
}

fn spec_of(route: &RouteView) -> RouteSpec {
    if route.targets.len() == 1 && route.fallbacks.is_empty() {
        RouteSpec::Target((&route.targets[0]).into())
    } else {
        RouteSpec::Route {
            targets: route.targets.iter().map(Into::into).collect(),
            fallbacks: route.fallbacks.iter().map(Into::into).collect(),
        }
    }
}

pub fn view_of(name: &str, p: &Profile, active: &str) -> ProfileView {
    ProfileView {
        name: name.to_string(),
        active: name == active,
        rules: p
            .rules
            .iter()
            .map(|r| RuleView {
                pattern: r.pattern.clone(),
                route: RouteView {
                    targets: r.targets.iter().map(Into::into).collect(),
                    fallbacks: r.fallbacks.iter().map(Into::into).collect(),
                },
            })
            .collect(),
        default: p.default.as_ref().map(route_of),
    }
}

pub fn profile_of(view: &ProfileView, known_backends: &[String]) -> CmdResult<Profile> {
    let check = |route: &RouteView, what: &str| -> CmdResult<()> {
        if route.targets.is_empty() {
            return Err(CommandError::invalid(format!(
                "{what}: add at least one target"
            )));
        }
        for t in route.targets.iter().chain(&route.fallbacks) {
            if !known_backends.contains(&t.backend) {
                return Err(CommandError::invalid(format!(
                    "{what}: backend {:?} does not exist",
                    t.backend
                )));
            }
        }
        Ok(())
    };
    let mut rules = Vec::with_capacity(view.rules.len());
    for (i, r) in view.rules.iter().enumerate() {
        let pattern = r.pattern.trim();
        if pattern.is_empty() {
            return Err(CommandError::invalid(format!(
                "Rule {}: the model pattern is empty",
                i + 1
            )));
        }
        check(&r.route, &format!("Rule {} ({pattern})", i + 1))?;
        rules.push(Rule {
            pattern: pattern.to_string(),
            targets: r.route.targets.iter().map(Into::into).collect(),
            fallbacks: r.route.fallbacks.iter().map(Into::into).collect(),
        });
    }
    let default = match &view.default {
        Some(route) => {
            check(route, "Default route")?;
            Some(spec_of(route))
        }
        None => None,
    };
    Ok(Profile { default, rules })
}

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, SharedState>) -> CmdResult<Vec<ProfileView>> {
    let cfg = state.engine.config();
    Ok(cfg
        .profiles
        .iter()
        .map(|(name, p)| view_of(name, p, &cfg.active_profile))
        .collect())
}

/// Creates or replaces a profile.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    profile: ProfileView,
) -> CmdResult<ProfileView> {
    let name = profile.name.trim().to_string();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(CommandError::invalid(
            "The profile name must be letters, digits, '-' or '_'",
        ));
    }
    let mut cfg = (*state.engine.config()).clone();
    let ids: Vec<String> = cfg.backends.iter().map(|b| b.id.clone()).collect();
    let p = profile_of(&profile, &ids)?;
    cfg.profiles.insert(name.clone(), p.clone());
    let active = cfg.active_profile.clone();
    state.engine.update_config(cfg).await?;
    crate::tray::refresh(&app, &state);
    Ok(view_of(&name, &p, &active))
}

#[tauri::command]
#[specta::specta]
pub async fn delete_profile(
    app: tauri::AppHandle,
    state: State<'_, SharedState>,
    name: String,
) -> CmdResult<()> {
    let mut cfg = (*state.engine.config()).clone();
    if cfg.active_profile == name {
        return Err(CommandError::invalid(
            "This profile is active: switch to another profile before deleting it",
        ));
    }
    if cfg.profiles.remove(&name).is_none() {
        return Err(CommandError::not_found(format!(
            "No profile called {name:?}"
        )));
    }
    state.engine.update_config(cfg).await?;
    crate::tray::refresh(&app, &state);
    Ok(())
}

#[derive(Serialize)]
struct TinyRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    messages: [TinyMessage<'a>; 1],
}
#[derive(Serialize)]
struct TinyMessage<'a> {
    role: &'a str,
    content: &'a str,
}
#[derive(Deserialize)]
struct TinyResponse {
    #[serde(default)]
    content: Vec<TinyBlock>,
}
#[derive(Deserialize)]
struct TinyBlock {
    #[serde(default)]
    text: Option<String>,
}
#[derive(Deserialize)]
struct TinyError {
    error: TinyErrorBody,
}
#[derive(Deserialize)]
struct TinyErrorBody {
    message: String,
}

/// Sends a tiny request for `model` through the real gateway (active profile) and reports
/// which backend answered. This is the Rust side talking to the gateway, not the webview.
#[tauri::command]
#[specta::specta]
pub async fn test_route(
    state: State<'_, SharedState>,
    model: String,
) -> CmdResult<RouteTestResult> {
    let model = model.trim().to_string();
    if model.is_empty() {
        return Err(CommandError::invalid(
            "Type a model name to test, e.g. claude-sonnet-4-5",
        ));
    }
    let profile = state.engine.config().active_profile.clone();
    let token = state.engine.local_token();
    let mut events = state.engine.subscribe();
    let url = format!("http://{}/v1/messages", state.engine.listen_addr());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| CommandError::upstream(e.to_string()))?;
    let started = Instant::now();
    let resp = client
        .post(&url)
        .header("x-api-key", token.expose_secret())
        .header("anthropic-version", "2023-06-01")
        .json(&TinyRequest {
            model: &model,
            max_tokens: 16,
            messages: [TinyMessage {
                role: "user",
                content: "Reply with one word: ok",
            }],
        })
        .send()
        .await
        .map_err(|e| CommandError::upstream(format!("The gateway at {url} did not answer: {e}")))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| CommandError::upstream(e.to_string()))?;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let detail = if status.is_success() {
        serde_json::from_slice::<TinyResponse>(&body)
            .ok()
            .and_then(|r| r.content.into_iter().find_map(|b| b.text))
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    } else {
        serde_json::from_slice::<TinyError>(&body)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {status}"))
    };
    // The gateway reports which backend answered in its usage event; wait briefly for it.
    let mut backend = None;
    let mut upstream_model = None;
    let mut ok = status.is_success();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(Ok(ev)) = tokio::time::timeout_at(deadline, events.recv()).await {
        if let EngineEvent::RequestFinished(r) = ev
            && r.requested_model == model
        {
            backend = r.backend.clone();
            upstream_model = r.upstream_model.clone();
            ok = ok && r.status == RequestStatus::Ok;
            break;
        }
    }
    Ok(RouteTestResult {
        ok,
        profile,
        requested_model: model,
        backend,
        upstream_model,
        latency_ms,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(b: &str, m: Option<&str>) -> TargetView {
        TargetView {
            backend: b.into(),
            model: m.map(Into::into),
            weight: None,
        }
    }

    #[test]
    fn profile_round_trips_through_the_view() {
        let view = ProfileView {
            name: "local".into(),
            active: true,
            rules: vec![RuleView {
                pattern: "*sonnet*".into(),
                route: RouteView {
                    targets: vec![t("ollama", Some("qwen"))],
                    fallbacks: vec![t("anthropic", None)],
                },
            }],
            default: Some(RouteView {
                targets: vec![t("ollama", Some("llama"))],
                fallbacks: vec![],
            }),
        };
        let ids = vec!["ollama".to_string(), "anthropic".to_string()];
        let p = profile_of(&view, &ids).map_err(|e| e.message);
        let p = match p {
            Ok(p) => p,
            Err(m) => panic!("{m}"),
        };
        // A single-target default is written inline, as a user would write it by hand.
        assert!(matches!(p.default, Some(RouteSpec::Target(_))));
        assert_eq!(view_of("local", &p, "local"), view);
    }

    #[test]
    fn unknown_backend_and_empty_pattern_are_rejected() {
        let ids = vec!["ollama".to_string()];
        let mut view = ProfileView {
            name: "x".into(),
            active: false,
            rules: vec![RuleView {
                pattern: "*opus*".into(),
                route: RouteView {
                    targets: vec![t("nope", None)],
                    fallbacks: vec![],
                },
            }],
            default: None,
        };
        let msg = profile_of(&view, &ids)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(msg.contains("\"nope\" does not exist"), "{msg}");
        view.rules[0].pattern = "  ".into();
        let msg = profile_of(&view, &ids)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(msg.contains("pattern is empty"), "{msg}");
    }
}
