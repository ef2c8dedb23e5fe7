use std::time::{Duration, Instant};

use futures::StreamExt as _;

use super::context::ollama_window;
use super::endpoints::{Endpoint, root_url};
use super::http::{ProbeError, client, fetch_json, is_loopback_url};
use super::kind::EngineKind;
use super::report::{DiscoveredModel, DiscoveryReport, EndpointReport, EndpointStatus};
use super::wire::{
    LlamaCppProps, LmStudioModels, OllamaShow, OllamaShowRequest, OllamaTags, OpenAiModels,
    VersionResponse, to_u32,
};

/// How long probing may take. The defaults keep `switchyard discover` under ~1.5 s even with
/// every endpoint down or hanging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSettings {
    pub connect_timeout: Duration,
    /// Bound on one endpoint's whole probe (all its calls), and so on `discover`.
    pub total_timeout: Duration,
    /// Ollama `/api/show` calls in flight at once per endpoint.
    pub max_concurrent_details: usize,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            connect_timeout: Duration::from_millis(300),
            total_timeout: Duration::from_millis(1500),
            max_concurrent_details: 8,
        }
    }
}

/// Probes every endpoint in parallel; returns within about `settings.total_timeout`.
pub async fn discover(endpoints: &[Endpoint], settings: &ProbeSettings) -> DiscoveryReport {
    let local = client(settings.connect_timeout, settings.total_timeout, true);
    let remote = client(settings.connect_timeout, settings.total_timeout, false);
    let probes = endpoints.iter().map(|endpoint| {
        let client = if is_loopback_url(&endpoint.base_url) {
            &local
        } else {
            &remote
        };
        probe_endpoint(endpoint, client, settings)
    });
    DiscoveryReport {
        endpoints: futures::future::join_all(probes).await,
    }
}

/// What an endpoint turned out to be.
struct Found {
    engine: EngineKind,
    version: Option<String>,
    models: Vec<DiscoveredModel>,
    /// A secondary call that failed (version, model details); the endpoint is still up.
    partial: Option<String>,
}

async fn probe_endpoint(
    endpoint: &Endpoint,
    client: &reqwest::Client,
    settings: &ProbeSettings,
) -> EndpointReport {
    let started = Instant::now();
    let outcome =
        tokio::time::timeout(settings.total_timeout, identify(endpoint, client, settings)).await;
    let mut report = EndpointReport {
        name: endpoint.name.clone(),
        base_url: endpoint.base_url.clone(),
        source: endpoint.source.clone(),
        status: EndpointStatus::Down,
        reason: None,
        engine: None,
        version: None,
        models: Vec::new(),
        elapsed_ms: 0,
    };
    match outcome {
        Err(_) => {
            report.reason = Some(ProbeError::TimedOut(settings.total_timeout).to_string());
        }
        Ok(Err(error)) => {
            if !error.is_unreachable() {
                report.status = EndpointStatus::Garbage;
            }
            report.reason = Some(error.to_string());
        }
        Ok(Ok(found)) => {
            report.status = EndpointStatus::Up;
            report.engine = Some(found.engine);
            report.version = found.version;
            report.models = found.models;
            report.reason = found.partial;
        }
    }
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

async fn identify(
    endpoint: &Endpoint,
    client: &reqwest::Client,
    settings: &ProbeSettings,
) -> Result<Found, ProbeError> {
    let root = root_url(&endpoint.base_url);
    let total = settings.total_timeout;
    // Both model lists at once: one round trip whichever family the engine belongs to.
    let (tags, models) = tokio::join!(
        fetch_json::<OllamaTags>(
            client.get(format!("{root}/api/tags")),
            total,
            "an Ollama model list"
        ),
        fetch_json::<OpenAiModels>(
            with_key(client.get(format!("{root}/v1/models")), endpoint),
            total,
            "an OpenAI model list"
        ),
    );
    match (tags, models) {
        (Ok(tags), _) => Ok(ollama(root, tags, client, settings).await),
        (Err(_), Ok(models)) => Ok(openai(root, models, endpoint.expected, client, total).await),
        (Err(_), Err(error)) => Err(match error {
            ProbeError::Unexpected {
                status, snippet, ..
            } => ProbeError::Unexpected {
                status,
                expected: "an Ollama/OpenAI model list",
                snippet,
            },
            other => other,
        }),
    }
}

fn with_key(request: reqwest::RequestBuilder, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    match endpoint
        .api_key_env
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
    {
        Some(key) => request.bearer_auth(key),
        None => request,
    }
}

async fn ollama(
    root: &str,
    tags: OllamaTags,
    client: &reqwest::Client,
    settings: &ProbeSettings,
) -> Found {
    let total = settings.total_timeout;
    let version = fetch_json::<VersionResponse>(
        client.get(format!("{root}/api/version")),
        total,
        "an Ollama version",
    );
    let named = tags
        .models
        .into_iter()
        .filter_map(|tag| Some((tag.id()?.to_owned(), tag.capabilities)));
    let details = futures::stream::iter(named)
        .map(|(name, capabilities)| async move {
            let show = fetch_json::<OllamaShow>(
                client
                    .post(format!("{root}/api/show"))
                    .json(&OllamaShowRequest { model: &name }),
                total,
                "Ollama model details",
            )
            .await;
            (name, capabilities, show)
        })
        .buffered(settings.max_concurrent_details.max(1))
        .collect::<Vec<_>>();
    let (version, details) = tokio::join!(version, details);
    let mut failures = Vec::new();
    let models = details
        .into_iter()
        .map(|(name, tag_capabilities, show)| {
            let show = show.unwrap_or_else(|e| {
                failures.push(format!("{name}: {e}"));
                OllamaShow::default()
            });
            let trained = show.trained_context_length();
            let num_ctx = show.num_ctx();
            DiscoveredModel {
                context_length: ollama_window(trained, num_ctx),
                max_context_length: trained,
                num_ctx,
                capabilities: if show.capabilities.is_empty() {
                    tag_capabilities
                } else {
                    show.capabilities
                },
                id: name,
            }
        })
        .collect();
    let mut partial = failures.first().map(|first| {
        format!(
            "details of {} model(s) unreadable ({first})",
            failures.len()
        )
    });
    let version = version
        .map(|v| v.version)
        .map_err(|e| {
            partial
                .get_or_insert_with(|| format!("version unknown ({e})"))
                .clone()
        })
        .ok();
    Found {
        engine: EngineKind::Ollama,
        version,
        models,
        partial,
    }
}

fn guess_engine(models: &OpenAiModels, expected: Option<EngineKind>) -> EngineKind {
    let first = models.data.first();
    let by_owner = match first.and_then(|m| m.owned_by.as_deref()) {
        Some("vllm") => Some(EngineKind::Vllm),
        Some("llamacpp") => Some(EngineKind::LlamaCpp),
        Some("sglang") => Some(EngineKind::Sglang),
        Some("organization_owner") => Some(EngineKind::LmStudio),
        _ if first.is_some_and(|m| m.meta.is_some()) => Some(EngineKind::LlamaCpp),
        _ => None,
    };
    by_owner
        .or(expected.filter(|k| *k != EngineKind::Ollama))
        .unwrap_or(EngineKind::OpenaiCompatible)
}

async fn openai(
    root: &str,
    list: OpenAiModels,
    expected: Option<EngineKind>,
    client: &reqwest::Client,
    total: Duration,
) -> Found {
    let engine = guess_engine(&list, expected);
    let mut models: Vec<DiscoveredModel> = list
        .data
        .iter()
        .map(|m| DiscoveredModel {
            id: m.id.clone(),
            context_length: to_u32(m.max_model_len),
            max_context_length: to_u32(m.max_model_len)
                .or_else(|| to_u32(m.meta.as_ref().and_then(|meta| meta.n_ctx_train))),
            num_ctx: None,
            capabilities: Vec::new(),
        })
        .collect();
    let mut version = None;
    let mut partial = None;
    match engine {
        EngineKind::Vllm | EngineKind::Sglang => {
            match fetch_json::<VersionResponse>(
                client.get(format!("{root}/version")),
                total,
                "a version",
            )
            .await
            {
                Ok(v) => version = Some(v.version),
                Err(e) => partial = Some(format!("version unknown ({e})")),
            }
        }
        EngineKind::LlamaCpp => {
            match fetch_json::<LlamaCppProps>(
                client.get(format!("{root}/props")),
                total,
                "llama.cpp props",
            )
            .await
            {
                Ok(props) => {
                    version = props.build_info.clone();
                    // One window for the whole server (`-c`, per slot).
                    for m in &mut models {
                        m.context_length = props.n_ctx().or(m.context_length);
                    }
                }
                Err(e) => partial = Some(format!("/props unreadable ({e})")),
            }
        }
        EngineKind::LmStudio => {
            match fetch_json::<LmStudioModels>(
                client.get(format!("{root}/api/v0/models")),
                total,
                "an LM Studio model list",
            )
            .await
            {
                Ok(lm) => {
                    for m in &mut models {
                        if let Some(info) = lm.data.iter().find(|i| i.id == m.id) {
                            m.max_context_length = to_u32(info.max_context_length);
                            m.context_length = to_u32(info.loaded_context_length);
                            if let Some(kind) = &info.kind {
                                m.capabilities = vec![kind.clone()];
                            }
                        }
                    }
                }
                Err(e) => partial = Some(format!("context lengths unknown ({e})")),
            }
        }
        EngineKind::Ollama | EngineKind::OpenaiCompatible => {}
    }
    Found {
        engine,
        version,
        models,
        partial,
    }
}
