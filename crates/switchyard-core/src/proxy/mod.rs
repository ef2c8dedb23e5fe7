//! The request path: parse, route, try targets in order (fallback only before the first byte
//! reaches the client), then answer whole or relay the stream.

mod cache;
mod cloud;
mod count;
mod cpu;
mod facts;
mod head;
mod record;
mod relay;
pub mod replay;
mod request;
mod send;

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::HeaderMap;

use crate::anthropic::{ApiError, ErrorType};
use crate::budget::{self, Scope};
use crate::config::BackendKind;
use crate::gateway::{Gateway, NoKey};
use crate::routing::{Needs, Route, plan, resolve_for};
pub use facts::request_facts;

pub use count::count_tokens;
pub use record::Recorder;
pub use request::{InboundRequest, parse_request};
use send::{Answer, Next, send};

/// Silence after which a `ping` event is sent (Claude Code aborts streams silent for 300 s).
pub const PING_EVERY: Duration = Duration::from_secs(10);

/// What the proxy needs from the inbound HTTP request besides the body.
pub struct Inbound {
    pub headers: HeaderMap,
    /// The raw query string (`beta=true`), forwarded to pass-through backends.
    pub query: Option<String>,
    /// The profile named in the URL (`/profiles/<name>/v1/...`): used instead of the active
    /// one, so two terminals can run on different setups at once.
    pub profile: Option<String>,
    /// Send to this target alone instead of routing (a replay to another backend or model).
    pub target: Option<crate::config::TargetSpec>,
}

impl Inbound {
    /// The path the request came to, with its query (for a capture).
    pub fn path(&self) -> String {
        let mut path = match &self.profile {
            Some(profile) => format!("/profiles/{profile}/v1/messages"),
            None => "/v1/messages".to_owned(),
        };
        if let Some(query) = &self.query {
            path.push('?');
            path.push_str(query);
        }
        path
    }

    /// The profile this request is routed under.
    pub fn profile<'a>(&'a self, config: &'a crate::config::Config) -> &'a str {
        self.profile.as_deref().unwrap_or(&config.active_profile)
    }
}

/// `POST /v1/messages`.
pub async fn messages(gateway: Arc<Gateway>, inbound: Inbound, body: Bytes) -> Response {
    let mut recorder = Recorder::new(gateway.clone(), &inbound.headers);
    let req = match InboundRequest::parse(body) {
        Ok(req) => req,
        Err(err) => return fail(recorder, err),
    };
    let config = gateway.config();
    let profile = inbound.profile(&config);
    recorder.request(&req.model, profile, req.stream);
    if gateway.captures_request(&config, profile) {
        recorder.capture(&inbound.path(), &inbound.headers, &req.body);
    }
    if gateway.is_paused() {
        return fail(
            recorder,
            ApiError::new(
                ErrorType::ApiError,
                "Switchyard's gateway is paused: resume it from the tray menu or the app",
            )
            .with_status(503),
        );
    }
    let over_budget =
        |scope| budget::gate(&config.budgets, gateway.spend(), gateway.metrics(), scope);
    if let Some(refusal) = over_budget(Scope::Profile(profile)) {
        return fail(recorder, refusal);
    }
    // Whether the request has images: learnt with the facts a conditional rule asks for, else
    // asked only when a target says its model cannot read them.
    let mut has_images = None;
    let routed = match &inbound.target {
        Some(target) => Ok(Route::only(target)),
        None => resolve_for(&config, profile, &req.model, |needs| {
            let facts = request_facts(&req, &inbound.headers, needs);
            if needs.images {
                has_images = Some(facts.images);
            }
            facts
        }),
    };
    let route = match routed {
        Ok(route) => route,
        Err(err) => return fail(recorder, err),
    };
    let rule = match &inbound.target {
        Some(target) => format!("replay to {}", target.label()),
        None => route.label(config.profiles.get(profile)),
    };
    // A condition that took a request elsewhere is worth a line at the default level.
    if route.conditional {
        tracing::info!(rule = %crate::log_text::clip(&rule), profile, model = %crate::log_text::clip(&req.model), "routed by a conditional rule");
    } else {
        tracing::debug!(rule = %crate::log_text::clip(&rule), profile, "routed");
    }
    recorder.rule(rule);
    if recorder.lacks_session()
        && let Some(session) = req
            .user_id()
            .as_deref()
            .and_then(record::session_of_user_id)
    {
        recorder.session(session);
    }
    let mut cache = cache::CacheStep::new(&gateway, &config, profile, &req, &inbound);
    let attempts = plan(
        &route,
        &req.model,
        &gateway.cooldowns,
        &gateway.load,
        &mut rand::rng(),
    );
    let mut last_error = None;
    let mut blind_targets = Vec::new();
    // Targets skipped at their rate limit: (backend, limit, when it frees up).
    let mut at_limit: Vec<(String, &'static str, Duration)> = Vec::new();
    let mut prompt_tokens: Option<u64> = None;
    'targets: for attempt in &attempts {
        let Some(backend) = config.backend(&attempt.backend) else {
            continue;
        };
        // A target marked `vision = false`, or an Ollama model whose capabilities lack
        // vision, never gets images: the next target may read them.
        let mut images = || {
            *has_images.get_or_insert_with(|| {
                let only_images = Needs {
                    images: true,
                    ..Needs::default()
                };
                request_facts(&req, &inbound.headers, only_images).images
            })
        };
        let blind = match attempt.vision {
            Some(vision) => !vision && images(),
            None => {
                backend.kind == BackendKind::Ollama
                    && images()
                    && gateway
                        .context_lengths
                        .vision(backend, &attempt.model)
                        .await
                        == Some(false)
            }
        };
        if blind {
            blind_targets.push(format!("{}/{}", backend.id, attempt.model));
            continue;
        }
        // Before budgets and rate limits: a cached answer costs the backend nothing.
        if let Some(hit) = cache.lookup(backend, &attempt.model).await {
            return hit.answer(recorder, backend, &attempt.model);
        }
        // A backend over its hard budget is skipped: the route's fallbacks may answer.
        if let Some(refusal) = over_budget(Scope::Backend(&backend.id)) {
            last_error = Some(refusal);
            continue;
        }
        if !matches!(
            backend.kind,
            BackendKind::Anthropic | BackendKind::Bedrock | BackendKind::Vertex
        ) && let Some(note) = send::dropped_server_tools(&req, backend)
        {
            recorder.note(&note);
        }
        if let Some(note) = cloud::dropped_betas(&inbound, backend) {
            recorder.note(&note);
        }
        let mut backoff = retry_delays(backend.retries);
        loop {
            // Only a backend with a `tpm` needs the prompt's estimate, made once per request.
            let tokens = match backend.tpm {
                Some(_) => *prompt_tokens.get_or_insert_with(|| {
                    cpu::heavy(req.body.len(), || {
                        req.full().map_or(0, crate::tokens::estimate_request_tokens)
                    })
                }),
                None => 0,
            };
            let key = match gateway.pick_key(backend).await {
                Ok(key) => key,
                Err(NoKey::Cooling { retry_after }) => {
                    recorder.note(&format!(
                        "{} skipped: all its keys are cooling down after 429s",
                        backend.id
                    ));
                    at_limit.push((backend.id.clone(), "all keys cooling down", retry_after));
                    continue 'targets;
                }
                Err(NoKey::Unusable(error)) => {
                    last_error = Some(error);
                    continue 'targets;
                }
            };
            match gateway
                .rate_limits
                .acquire(backend, tokens, std::time::Instant::now())
            {
                None => recorder.ticket(None),
                Some(Ok(ticket)) => recorder.ticket(Some(ticket)),
                Some(Err(limit)) => {
                    let which = if limit.tokens { "tpm" } else { "rpm" };
                    recorder.note(&format!("{} skipped at its {which} limit", backend.id));
                    at_limit.push((backend.id.clone(), which, limit.retry_after));
                    continue 'targets;
                }
            }
            recorder.key(key.name());
            recorder.attempt(&backend.id, backend.kind.as_str(), &attempt.model);
            let sent = send(
                &gateway,
                backend,
                &attempt.model,
                &req,
                &inbound,
                &key,
                recorder.trace(),
            )
            .await;
            let failure = match sent {
                Ok(Answer::Complete {
                    response,
                    usage,
                    body,
                }) => {
                    gateway.cooldowns.succeed(&backend.id);
                    if let Some(trace) = recorder.trace() {
                        trace.client_answer(200, &body);
                    }
                    recorder.ok(200, usage);
                    return cache.complete(response, &body, usage);
                }
                Ok(Answer::Stream(stream)) => {
                    gateway.cooldowns.succeed(&backend.id);
                    recorder.first_byte();
                    let capture = cache.capture();
                    return cache.streamed(relay::start(stream, recorder, backend, capture));
                }
                Err(failure) => failure,
            };
            tracing::warn!(
                backend = %backend.id,
                model = %crate::log_text::clip(&attempt.model),
                error = %crate::log_text::clip(&failure.error.message),
                next = ?failure.next,
                "attempt failed"
            );
            let retry_after = failure.error.retry_after;
            let next = failure.next;
            if let Some(trace) = recorder.trace() {
                let what = match (key.pooled, failure.upstream_status, next) {
                    (true, Some(401 | 403 | 429), _) => "the next key of the pool",
                    (_, _, Next::Stop) => "answered the client with this error",
                    (_, _, Next::Retry) if backend.retries > 0 => {
                        "retried on this backend, then the next target"
                    }
                    (_, _, Next::Skip | Next::Retry) => "the next target",
                };
                trace.failed(&failure.error.message, what);
            }
            last_error = Some(failure.error);
            // A pool sets the key aside and goes on at once with its next key: the backend
            // itself is fine.
            if key.pooled
                && let Some(status @ (401 | 403 | 429)) = failure.upstream_status
            {
                let name = key.name().unwrap_or(crate::config::DEFAULT_KEY_NAME);
                if status == 429 {
                    let pause = pause_after(backend, retry_after);
                    gateway
                        .keys()
                        .throttled(&backend.id, &key, pause, std::time::Instant::now());
                    recorder.note(&format!(
                        "key {name} of {} throttled (429) for {} s",
                        backend.id,
                        pause.as_secs()
                    ));
                } else {
                    gateway.keys().rejected(&backend.id, &key, status);
                    tracing::warn!(backend = %backend.id, key = %name, status, "key refused by the upstream: set aside until it is set anew");
                    recorder.note(&format!("key {name} of {} refused ({status})", backend.id));
                }
                continue;
            }
            match next {
                Next::Stop => break 'targets,
                Next::Skip => continue 'targets,
                Next::Retry => {}
            }
            match backoff.next() {
                Some(delay) => {
                    // An upstream's retry-after wins when it is short enough to wait for.
                    let wait =
                        retry_after.map_or(delay, |s| Duration::from_secs(s.min(10)).max(delay));
                    tokio::time::sleep(wait).await;
                }
                None => {
                    gateway.cooldowns.fail(
                        &backend.id,
                        pause_after(backend, retry_after),
                        backend.allowed_fails,
                    );
                    break;
                }
            }
        }
    }
    if last_error.is_none()
        && let Some(wait) = at_limit.iter().map(|(_, _, wait)| *wait).min()
    {
        let limits: Vec<String> = at_limit
            .iter()
            .map(|(id, which, _)| format!("{id} ({which})"))
            .collect();
        // Rounded up: a client that waits the whole seconds finds room.
        let seconds = wait.as_millis().div_ceil(1000).max(1) as u64;
        let error = ApiError::new(
            ErrorType::RateLimitError,
            format!(
                "every target of model {:?} in profile {profile:?} is at its rate limit: {}; retry in {seconds} s, or raise rpm/tpm on those backends",
                req.model,
                limits.join(", ")
            ),
        )
        .with_retry_after(Some(seconds));
        return fail(recorder, error);
    }
    if last_error.is_none() && !blind_targets.is_empty() {
        let error = ApiError::invalid_request(format!(
            "the request has images, and the models {model:?} is routed to cannot read them ({}: marked vision = false, or an Ollama model without the vision capability); add a rule with when = {{ images = true }} that sends such requests to a vision model",
            blind_targets.join(", "),
            model = req.model,
        ));
        return fail(recorder, error);
    }
    let error = last_error.unwrap_or_else(|| {
        ApiError::new(
            ErrorType::ApiError,
            format!(
                "model {:?} has no usable target in profile {:?}",
                req.model, profile
            ),
        )
    });
    fail(recorder, error)
}

/// How long a failing backend, or a throttled key, is set aside: the backend's `cooldown_s`,
/// else the upstream's `retry-after`, else 5 s.
fn pause_after(backend: &crate::config::BackendConfig, retry_after: Option<u64>) -> Duration {
    Duration::from_secs(
        backend
            .cooldown_s
            .unwrap_or_else(|| retry_after.unwrap_or(5).clamp(1, 300)),
    )
}

/// Delays between retries of one backend: exponential from 250 ms, capped at 4 s, jittered.
fn retry_delays(retries: u32) -> impl Iterator<Item = Duration> {
    use backon::BackoffBuilder;
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(250))
        .with_max_delay(Duration::from_secs(4))
        .with_max_times(retries as usize)
        .with_jitter()
        .build()
}

/// Refuse a request before it was parsed (e.g. a body over the size limit), still recording it.
pub fn reject(gateway: Arc<Gateway>, headers: &HeaderMap, error: ApiError) -> Response {
    fail(Recorder::new(gateway, headers), error)
}

fn fail(mut recorder: Recorder, error: ApiError) -> Response {
    if let Some(trace) = recorder.trace() {
        let body = serde_json::to_vec(&error.envelope()).unwrap_or_default();
        trace.client_answer(error.status(), &Bytes::from(body));
    }
    recorder.failed(error.status(), Default::default(), &error);
    error.into_response()
}
