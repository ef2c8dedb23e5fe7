//! What a backend check found, in types and sentences: pure code, no I/O. The HTTP side
//! (`probe.rs`) only gathers the facts (status, a bounded body, or the transport failure) and
//! hands them to [`classify_answer`] / [`classify_failure`].

use serde::Serialize;

use super::super::http::ProbeError;
use super::super::wire::{OllamaTags, OpenAiModels, to_u32};
use crate::config::BackendKind;

/// A model a backend offers (for the Test result and the mapping's suggestions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CheckedModel {
    pub id: String,
    /// The window the server reports for it, or the backend's configured override.
    pub context_length: Option<u32>,
}

/// How a check ended. Every failure says what to do about it in [`CheckOutcome::message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// It answered with a model list (with the key requests use).
    Ok {
        models: Vec<CheckedModel>,
    },
    /// An Anthropic-style API answered, but it has no model list (`GET /v1/models` is 404):
    /// reachable, nothing more is known.
    NoModelList,
    /// 401/403 although a key was sent.
    KeyRejected,
    /// 401/403 and no key is stored or configured.
    KeyMissing,
    /// The key could not be read (keychain locked, environment variable not set): nothing
    /// was sent.
    KeyUnreadable,
    /// Connection refused: nothing listens there.
    NotRunning,
    /// DNS, TLS or another failure before an answer.
    Unreachable,
    TimedOut {
        seconds: u32,
    },
    /// A 3xx: the check follows no redirect (a key must not travel to another host).
    Redirected,
    /// A 2xx that is not a model list (a web page, another API).
    NotAModelServer,
    HttpError {
        status: u16,
    },
}

impl CheckOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, CheckOutcome::Ok { .. } | CheckOutcome::NoModelList)
    }

    /// One sentence for a person, naming the backend (and its URL where that helps).
    pub fn message(&self, backend: &str, url: &str) -> String {
        match self {
            CheckOutcome::Ok { models } => match models.len() {
                0 => format!("{backend} is running but offers no models"),
                1 => format!("{backend} is running and offers 1 model"),
                n => format!("{backend} is running and offers {n} models"),
            },
            CheckOutcome::NoModelList => {
                format!("{backend} answers at {url} but does not list its models")
            }
            CheckOutcome::KeyRejected => format!("Key rejected by {backend}"),
            CheckOutcome::KeyMissing => {
                format!("{backend} needs a key: add one in the backend's settings")
            }
            CheckOutcome::KeyUnreadable => {
                format!("The key of {backend} cannot be read, so nothing was sent")
            }
            CheckOutcome::NotRunning => format!("{backend} is not running at {url}"),
            CheckOutcome::Unreachable => format!("{backend} cannot be reached at {url}"),
            CheckOutcome::TimedOut { seconds } => {
                format!("{backend} did not answer within {seconds} seconds")
            }
            CheckOutcome::Redirected => {
                format!("{backend} redirects elsewhere: check the base URL")
            }
            CheckOutcome::NotAModelServer => {
                format!("{url} answered, but not like a model server: check the base URL")
            }
            CheckOutcome::HttpError { status: 404 } => {
                format!("{backend} has no model list at {url}: check the base URL")
            }
            CheckOutcome::HttpError { status: 429 } => {
                format!("{backend} is limiting requests right now: try again later")
            }
            CheckOutcome::HttpError { status } if *status >= 500 => {
                format!("{backend} had a server error: try again later")
            }
            CheckOutcome::HttpError { status } => {
                format!("{backend} refused the check with HTTP status {status}")
            }
        }
    }
}

/// The result of checking one backend: the outcome, its sentence, and the raw facts behind it
/// (shown only on request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BackendCheck {
    pub backend: String,
    /// The backend's base URL (the sentence names it; `detail` has the URL asked).
    pub url: String,
    pub outcome: CheckOutcome,
    pub ok: bool,
    /// [`CheckOutcome::message`], in English (the CLI prints it; the app words it itself).
    pub message: String,
    /// Raw facts: the request, the HTTP status and the start of the body, or the transport
    /// error. Never contains the key.
    pub detail: String,
    pub latency_ms: u64,
}

impl BackendCheck {
    pub fn new(
        backend: &str,
        url: &str,
        outcome: CheckOutcome,
        detail: String,
        latency_ms: u64,
    ) -> Self {
        BackendCheck {
            backend: backend.to_owned(),
            url: url.to_owned(),
            ok: outcome.is_ok(),
            message: outcome.message(backend, url),
            outcome,
            detail,
            latency_ms,
        }
    }

    /// The models found, empty unless the check succeeded with a list.
    pub fn models(&self) -> &[CheckedModel] {
        match &self.outcome {
            CheckOutcome::Ok { models } => models,
            _ => &[],
        }
    }
}

/// Where a backend of this kind lists its models.
pub fn models_url(kind: BackendKind, base_url: &str) -> String {
    let base = base_url.trim_end_matches('/');
    match kind {
        BackendKind::Anthropic => crate::backends::anthropic::endpoint(base, "/models"),
        BackendKind::OpenaiChat => format!("{base}/models"),
        BackendKind::Ollama => format!("{base}/api/tags"),
        // Their checks ask elsewhere (`cloud.rs`); this is where Bedrock's list would be
        // under a gateway of the user's.
        BackendKind::Bedrock | BackendKind::Vertex => {
            format!("{base}/foundation-models?byProvider=anthropic")
        }
    }
}

/// What the backend answered, as far as the check read it.
pub struct Answer<'a> {
    pub kind: BackendKind,
    pub status: u16,
    pub body: &'a [u8],
    /// Whether a key was sent.
    pub sent_key: bool,
    /// The backend's configured context window, which overrides what the server reports.
    pub context_override: Option<u32>,
}

/// The outcome of an answer.
pub fn classify_answer(answer: &Answer<'_>) -> CheckOutcome {
    match answer.status {
        200..=299 => match parse_models(answer.kind, answer.body, answer.context_override) {
            Some(models) => CheckOutcome::Ok { models },
            None => CheckOutcome::NotAModelServer,
        },
        300..=399 => CheckOutcome::Redirected,
        401 | 403 if answer.sent_key => CheckOutcome::KeyRejected,
        401 | 403 => CheckOutcome::KeyMissing,
        404 if answer.kind == BackendKind::Anthropic => CheckOutcome::NoModelList,
        status => CheckOutcome::HttpError { status },
    }
}

/// The outcome of a request that got no answer.
pub(crate) fn classify_failure(error: &ProbeError) -> CheckOutcome {
    match error {
        ProbeError::Refused => CheckOutcome::NotRunning,
        ProbeError::TimedOut(d) => CheckOutcome::TimedOut {
            seconds: u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX),
        },
        _ => CheckOutcome::Unreachable,
    }
}

fn parse_models(
    kind: BackendKind,
    body: &[u8],
    context_override: Option<u32>,
) -> Option<Vec<CheckedModel>> {
    let models = match kind {
        BackendKind::Ollama => serde_json::from_slice::<OllamaTags>(body)
            .ok()?
            .models
            .iter()
            .filter_map(|tag| tag.id())
            .map(|id| CheckedModel {
                id: id.to_owned(),
                context_length: context_override,
            })
            .collect(),
        // Read by `cloud.rs`, never here.
        BackendKind::Bedrock | BackendKind::Vertex => return None,
        BackendKind::OpenaiChat | BackendKind::Anthropic => {
            serde_json::from_slice::<OpenAiModels>(body)
                .ok()?
                .data
                .into_iter()
                .map(|m| CheckedModel {
                    context_length: context_override
                        .or_else(|| to_u32(m.max_model_len))
                        .or_else(|| to_u32(m.meta.and_then(|meta| meta.n_ctx_train))),
                    id: m.id,
                })
                .collect()
        }
    };
    Some(models)
}

/// The raw facts of an answer for the "Details" view: status line and the start of the body.
pub fn answer_detail(url: &str, status: u16, body: &[u8]) -> String {
    const MAX: usize = 300;
    let text = String::from_utf8_lossy(body);
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let snippet = match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None if one_line.is_empty() => "(empty body)".to_owned(),
        None => one_line,
    };
    format!("GET {url} → HTTP {status}: {snippet}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(kind: BackendKind, status: u16, body: &str, sent_key: bool) -> CheckOutcome {
        classify_answer(&Answer {
            kind,
            status,
            body: body.as_bytes(),
            sent_key,
            context_override: None,
        })
    }

    #[test]
    fn auth_failures_depend_on_whether_a_key_was_sent() {
        let body = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        assert_eq!(
            answer(BackendKind::Anthropic, 401, body, true),
            CheckOutcome::KeyRejected
        );
        assert_eq!(
            answer(BackendKind::Anthropic, 401, body, false),
            CheckOutcome::KeyMissing
        );
        assert_eq!(
            answer(BackendKind::OpenaiChat, 403, "", true),
            CheckOutcome::KeyRejected
        );
    }

    #[test]
    fn model_lists_are_read_per_kind() {
        let anthropic = r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5"}],"has_more":false}"#;
        assert_eq!(
            answer(BackendKind::Anthropic, 200, anthropic, true),
            CheckOutcome::Ok {
                models: vec![CheckedModel {
                    id: "claude-sonnet-4-5".into(),
                    context_length: None
                }]
            }
        );
        let vllm =
            r#"{"object":"list","data":[{"id":"qwen","owned_by":"vllm","max_model_len":32768}]}"#;
        assert_eq!(
            answer(BackendKind::OpenaiChat, 200, vllm, false),
            CheckOutcome::Ok {
                models: vec![CheckedModel {
                    id: "qwen".into(),
                    context_length: Some(32768)
                }]
            }
        );
        let ollama = r#"{"models":[{"name":"llama3.1:8b"},{"model":"qwen2.5:7b"}]}"#;
        let CheckOutcome::Ok { models } = answer(BackendKind::Ollama, 200, ollama, false) else {
            panic!("ollama tags not read");
        };
        assert_eq!(
            models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["llama3.1:8b", "qwen2.5:7b"]
        );
        assert_eq!(
            answer(BackendKind::Ollama, 200, "<html>router login</html>", false),
            CheckOutcome::NotAModelServer
        );
    }

    #[test]
    fn other_statuses() {
        assert_eq!(
            answer(BackendKind::OpenaiChat, 302, "", false),
            CheckOutcome::Redirected
        );
        assert_eq!(
            answer(BackendKind::Anthropic, 404, "", true),
            CheckOutcome::NoModelList
        );
        assert_eq!(
            answer(BackendKind::OpenaiChat, 404, "", false),
            CheckOutcome::HttpError { status: 404 }
        );
        assert_eq!(
            classify_failure(&ProbeError::Refused),
            CheckOutcome::NotRunning
        );
    }

    #[test]
    fn sentences_name_the_backend_and_hide_the_raw_answer() {
        let url = "http://127.0.0.1:8000/v1";
        assert_eq!(
            CheckOutcome::KeyRejected.message("deepseek", url),
            "Key rejected by deepseek"
        );
        assert_eq!(
            CheckOutcome::NotRunning.message("vllm", url),
            "vllm is not running at http://127.0.0.1:8000/v1"
        );
        assert_eq!(
            CheckOutcome::HttpError { status: 503 }.message("vllm", url),
            "vllm had a server error: try again later"
        );
        let detail = answer_detail(
            &format!("{url}/models"),
            401,
            b"{\n \"error\": \"bad key\"\n}",
        );
        assert_eq!(
            detail,
            "GET http://127.0.0.1:8000/v1/models → HTTP 401: { \"error\": \"bad key\" }"
        );
        assert!(answer_detail(url, 500, "x".repeat(1000).as_bytes()).ends_with("x…"));
    }
}
