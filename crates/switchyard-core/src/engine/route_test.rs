//! "Test a model" in the app: a tiny request through this engine's own gateway (guard,
//! routing, fallbacks and all), reporting which backend answered that very request.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::Engine;
use crate::gateway::ROUTE_TEST_HEADER;
use crate::usage::RequestStatus;

/// What a route test found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RouteTestResult {
    pub ok: bool,
    pub profile: String,
    pub requested_model: String,
    /// The backend that answered (or the last one tried).
    pub backend: Option<String>,
    pub upstream_model: Option<String>,
    /// Targets tried, the one that answered included.
    pub attempts: u32,
    /// The rule that routed the request, in words (`rule 2: *sonnet*`, `default route`).
    pub rule: Option<String>,
    pub latency_ms: u64,
    /// The start of the model's answer, or the gateway's error message.
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteTestError {
    #[error("Type a model name to test, for example claude-sonnet-4-5.")]
    NoModel,
    #[error("Switchyard's own gateway at {url} did not answer: {reason}")]
    Gateway { url: String, reason: String },
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

/// How long a test may take: a local model may have to load first.
const TIMEOUT: Duration = Duration::from_secs(120);
/// The answer is in hand; its record follows within the same task, give it a moment.
const RECORD_WAIT: Duration = Duration::from_secs(5);

impl Engine {
    /// Sends a one-line request for `model` through the gateway with the active profile.
    pub async fn test_route(&self, model: &str) -> Result<RouteTestResult, RouteTestError> {
        let model = model.trim();
        if model.is_empty() {
            return Err(RouteTestError::NoModel);
        }
        let profile = self.config().active_profile.clone();
        let url = format!("{}/v1/messages", self.gateway_url());
        let id = format!("rt-{:016x}", rand::random::<u64>());
        let record = self.gateway().expect_route_test(&id);
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard-route-test/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RouteTestError::Gateway {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let started = Instant::now();
        let sent = client
            .post(&url)
            .header("x-api-key", self.local_token().expose_secret())
            .header("anthropic-version", "2023-06-01")
            .header(ROUTE_TEST_HEADER, &id)
            .json(&TinyRequest {
                model,
                max_tokens: 16,
                messages: [TinyMessage {
                    role: "user",
                    content: "Reply with one word: ok",
                }],
            })
            .send()
            .await;
        let answer = match sent {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.map(|body| (status, body))
            }
            Err(e) => Err(e),
        };
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                self.gateway().forget_route_test(&id);
                return Err(RouteTestError::Gateway {
                    url,
                    reason: e.to_string(),
                });
            }
        };
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
                .unwrap_or_else(|_| format!("the gateway answered HTTP {status}"))
        };
        let record = match tokio::time::timeout(RECORD_WAIT, record).await {
            Ok(Ok(record)) => Some(record),
            _ => {
                self.gateway().forget_route_test(&id);
                None
            }
        };
        Ok(RouteTestResult {
            ok: status.is_success()
                && record
                    .as_ref()
                    .is_none_or(|r| r.status == RequestStatus::Ok),
            profile,
            requested_model: model.to_owned(),
            backend: record.as_ref().and_then(|r| r.backend.clone()),
            upstream_model: record.as_ref().and_then(|r| r.upstream_model.clone()),
            attempts: record.as_ref().map_or(0, |r| r.attempts),
            rule: record.as_ref().and_then(|r| r.rule.clone()),
            latency_ms,
            detail,
        })
    }
}
