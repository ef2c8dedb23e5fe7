//! Checking a Bedrock or Vertex backend with one cheap authenticated call that proves its
//! credentials, found as requests find them (the stored text, else the cloud's own).
//!
//! - Bedrock: `GET https://bedrock.{region}.amazonaws.com/foundation-models?byProvider=anthropic`
//!   (the control plane: free, lists the Claude model ids), SigV4-signed for service
//!   `bedrock` or with the Bedrock API key. With a `base_url` of `bedrock-runtime.*` the same
//!   host with `bedrock`; any other `base_url` (a gateway, a test's fake) is asked at
//!   `{base_url}/foundation-models`.
//! - Vertex: the token exchange (proves the key file), then
//!   `GET .../v1/projects/{project}/locations/{region}/endpoints?pageSize=1` (proves the token
//!   is good for the project; Vertex has no list of the Claude models a project may call).

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{HeaderValue, header};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::super::http::{classify, client, is_loopback_url};
use super::outcome::{BackendCheck, CheckOutcome, CheckedModel, answer_detail, classify_failure};
use super::probe::{CheckKey, CheckSettings};
use crate::backends::bedrock::errors::{BedrockError, BedrockErrorKind};
use crate::backends::bedrock::{self, BedrockAuth};
use crate::backends::vertex;
use crate::cloud::{self, GoogleCredentialError, KeySource};
use crate::config::BackendConfig;

/// A path segment as Vertex's request URLs encode one (`-`, `.`, `_`, `~` kept).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Claude's context window on both clouds (1M only with the `context-1m` beta on some models).
pub const CLAUDE_WINDOW: u32 = 200_000;

/// `ListFoundationModels`' answer, as far as the check reads it.
#[derive(Deserialize)]
struct FoundationModels {
    #[serde(rename = "modelSummaries", default)]
    model_summaries: Vec<ModelSummary>,
}

#[derive(Deserialize)]
struct ModelSummary {
    #[serde(rename = "modelId")]
    model_id: String,
}

/// Where a Bedrock backend's credentials are checked (see the module), or why not.
pub fn bedrock_check_url(backend: &BackendConfig) -> Result<String, String> {
    const LIST: &str = "/foundation-models?byProvider=anthropic";
    if let Some(base) = backend.base_url_override() {
        let mut url = reqwest::Url::parse(base).map_err(|e| format!("{base:?}: {e}"))?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let control = host
            .strip_prefix("bedrock-runtime-fips.")
            .map(|rest| format!("bedrock-fips.{rest}"))
            .or_else(|| {
                host.strip_prefix("bedrock-runtime.")
                    .map(|rest| format!("bedrock.{rest}"))
            });
        if let Some(control) = control {
            url.set_host(Some(&control))
                .map_err(|e| format!("{control:?}: {e}"))?;
            url.set_path("");
            return Ok(format!("{}{LIST}", url.as_str().trim_end_matches('/')));
        }
        return Ok(format!("{}{LIST}", base.trim_end_matches('/')));
    }
    match backend.region() {
        Some(region) if bedrock::request::is_region_name(region) => {
            Ok(format!("https://bedrock.{region}.amazonaws.com{LIST}"))
        }
        Some(region) => Err(format!("{region:?} is not an AWS region name")),
        None => Err("the backend has neither a region nor a base_url".to_owned()),
    }
}

/// The endpoint a cloud backend's requests go to, for the check's sentences.
fn shown_url(backend: &BackendConfig) -> String {
    if let Some(base) = backend.base_url_override() {
        return base.to_owned();
    }
    let region = backend.region().unwrap_or_default();
    let url = match backend.kind {
        crate::config::BackendKind::Vertex => vertex::request::default_base_url(region).ok(),
        _ => bedrock::request::default_base_url(region).ok(),
    };
    url.unwrap_or_else(|| format!("(region {region:?})"))
}

/// What Bedrock's answer to the check says.
pub fn classify_bedrock(
    status: u16,
    error_type: Option<&str>,
    body: &[u8],
    context_override: Option<u32>,
) -> CheckOutcome {
    match status {
        200..=299 => match serde_json::from_slice::<FoundationModels>(body) {
            Ok(list) => CheckOutcome::Ok {
                models: list
                    .model_summaries
                    .into_iter()
                    .map(|m| CheckedModel {
                        id: m.model_id,
                        context_length: Some(context_override.unwrap_or(CLAUDE_WINDOW)),
                    })
                    .collect(),
            },
            Err(_) => CheckOutcome::NotAModelServer,
        },
        300..=399 => CheckOutcome::Redirected,
        _ => match BedrockError::from_response(status, error_type, body).kind {
            Some(BedrockErrorKind::Authentication(_)) => CheckOutcome::KeyRejected,
            // The credentials are good; they may only not list models (a policy that allows
            // InvokeModel alone): requests can still work.
            Some(BedrockErrorKind::AccessDenied) => CheckOutcome::NoModelList,
            _ if matches!(status, 401 | 403) => CheckOutcome::KeyRejected,
            _ => CheckOutcome::HttpError { status },
        },
    }
}

/// What Vertex's answer to the check says (the token was already accepted by Google).
pub fn classify_vertex(status: u16) -> CheckOutcome {
    match status {
        200..=299 => CheckOutcome::NoModelList,
        300..=399 => CheckOutcome::Redirected,
        401 | 403 => CheckOutcome::KeyRejected,
        status => CheckOutcome::HttpError { status },
    }
}

struct Done<'a> {
    backend: &'a BackendConfig,
    url: String,
    started: Instant,
}

impl Done<'_> {
    fn check(&self, outcome: CheckOutcome, detail: String) -> BackendCheck {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        BackendCheck::new(&self.backend.id, &self.url, outcome, detail, ms)
    }
}

/// Checks a Bedrock backend (see the module).
pub async fn check_bedrock(
    backend: &BackendConfig,
    key: CheckKey,
    settings: &CheckSettings,
) -> BackendCheck {
    let done = Done {
        backend,
        url: shown_url(backend),
        started: Instant::now(),
    };
    let stored = match key {
        CheckKey::Key(key) => Some(key),
        CheckKey::NoKey => None,
        CheckKey::Unreadable(reason) => return done.check(CheckOutcome::KeyUnreadable, reason),
    };
    let ambient =
        || cloud::aws::from_environment(&cloud::process_env, cloud::home_dir().as_deref());
    let (auth, source) = match cloud::bedrock_credentials(backend, stored.as_deref(), &ambient) {
        Ok(found) => found,
        Err(err) => {
            let outcome = match stored {
                Some(_) => CheckOutcome::KeyUnreadable,
                None => CheckOutcome::KeyMissing,
            };
            return done.check(outcome, err.message);
        }
    };
    let url = match bedrock_check_url(backend) {
        Ok(url) => url,
        Err(why) => return done.check(CheckOutcome::Unreachable, why),
    };
    let accept = [("accept", "application/json")];
    let input = bedrock::SignInput {
        method: "GET",
        url: &url,
        headers: &accept,
        body: b"",
    };
    let region = cloud::bedrock_region(backend);
    let added = match (&auth, region) {
        (BedrockAuth::SigV4(creds), Some(region)) => bedrock::sign::sign(
            &input,
            creds,
            &bedrock::SigningScope::bedrock(&region),
            SystemTime::now(),
        ),
        (BedrockAuth::ApiKey(key), _) => bedrock::sign::bearer(key).map(|h| vec![h]),
        (BedrockAuth::SigV4(_), None) => {
            return done.check(
                CheckOutcome::KeyUnreadable,
                "AWS signatures name a region: set the backend's region".to_owned(),
            );
        }
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    match added {
        Ok(added) => headers.extend(added.into_iter().map(|(n, v)| (Some(n), v))),
        Err(err) => return done.check(CheckOutcome::KeyUnreadable, err.to_string()),
    }
    let client = client(
        settings.connect_timeout,
        settings.total_timeout,
        is_loopback_url(&url),
    );
    let response = match client.get(&url).headers(headers).send().await {
        Ok(response) => response,
        Err(err) => {
            let failure = classify(&err, settings.total_timeout);
            return done.check(classify_failure(&failure), format!("GET {url}: {failure}"));
        }
    };
    let status = response.status().as_u16();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match crate::net::read_bounded(response, settings.body_limit).await {
        Ok(body) => body,
        Err(err) => {
            let failure = classify(&err, settings.total_timeout);
            return done.check(
                classify_failure(&failure),
                format!("GET {url} → HTTP {status}, then: {failure}"),
            );
        }
    };
    let outcome = classify_bedrock(status, error_type.as_deref(), &body, backend.context_length);
    done.check(
        outcome,
        format!(
            "{} (credentials: {source})",
            answer_detail(&url, status, &body)
        ),
    )
}

/// Checks a Vertex backend (see the module).
pub async fn check_vertex(
    backend: &BackendConfig,
    key: CheckKey,
    settings: &CheckSettings,
) -> BackendCheck {
    let done = Done {
        backend,
        url: shown_url(backend),
        started: Instant::now(),
    };
    let stored: Option<Arc<SecretString>> = match key {
        CheckKey::Key(key) => Some(key),
        CheckKey::NoKey => None,
        CheckKey::Unreadable(reason) => return done.check(CheckOutcome::KeyUnreadable, reason),
    };
    let account = match KeySource::find(stored, &cloud::process_env).and_then(|s| s.account()) {
        Ok(account) => account,
        Err(err @ GoogleCredentialError::Missing) => {
            return done.check(CheckOutcome::KeyMissing, err.to_string());
        }
        Err(err) => return done.check(CheckOutcome::KeyUnreadable, err.to_string()),
    };
    let token_client = client(
        settings.connect_timeout,
        settings.total_timeout,
        is_loopback_url(&account.token_uri),
    );
    let token = match cloud::google::exchange(&token_client, &account, SystemTime::now()).await {
        Ok(token) => token,
        Err(err) => {
            let outcome = match &err {
                GoogleCredentialError::Unreachable { .. } => CheckOutcome::Unreachable,
                GoogleCredentialError::Redirected { .. } => CheckOutcome::Redirected,
                GoogleCredentialError::Refused(_) if err.is_transient() => {
                    CheckOutcome::HttpError { status: 503 }
                }
                _ => CheckOutcome::KeyRejected,
            };
            return done.check(
                outcome,
                format!("token exchange for {}: {err}", account.client_email),
            );
        }
    };
    let base = match backend.base_url_override() {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => match vertex::request::default_base_url(backend.region().unwrap_or_default()) {
            Ok(base) => base,
            Err(err) => return done.check(CheckOutcome::Unreachable, err.to_string()),
        },
    };
    let url = format!(
        "{base}/v1/projects/{}/locations/{}/endpoints?pageSize=1",
        percent_encoding::utf8_percent_encode(backend.project().unwrap_or_default(), SEGMENT),
        backend.region().unwrap_or_default(),
    );
    let mut value = match HeaderValue::from_str(token.bearer().expose_secret()) {
        Ok(value) => value,
        Err(_) => {
            return done.check(
                CheckOutcome::KeyUnreadable,
                "the access token is not a valid header value".to_owned(),
            );
        }
    };
    value.set_sensitive(true);
    let client = client(
        settings.connect_timeout,
        settings.total_timeout,
        is_loopback_url(&url),
    );
    let response = match client
        .get(&url)
        .header(header::AUTHORIZATION, value)
        .send()
        .await
    {
        Ok(response) => response,
        Err(err) => {
            let failure = classify(&err, settings.total_timeout);
            return done.check(classify_failure(&failure), format!("GET {url}: {failure}"));
        }
    };
    let status = response.status().as_u16();
    let body = crate::net::read_bounded(response, settings.body_limit)
        .await
        .unwrap_or_default();
    done.check(
        classify_vertex(status),
        format!(
            "token for {} accepted; {}",
            account.client_email,
            answer_detail(&url, status, &body)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackendKind;

    fn bedrock_backend(region: Option<&str>, base_url: &str) -> BackendConfig {
        let mut backend = BackendConfig::new("b", BackendKind::Bedrock, base_url);
        backend.region = region.map(str::to_owned);
        backend
    }

    #[test]
    fn the_check_asks_the_control_plane_of_the_runtimes_region() {
        assert_eq!(
            bedrock_check_url(&bedrock_backend(Some("us-east-1"), "")).unwrap(),
            "https://bedrock.us-east-1.amazonaws.com/foundation-models?byProvider=anthropic"
        );
        assert_eq!(
            bedrock_check_url(&bedrock_backend(
                None,
                "https://bedrock-runtime.eu-central-1.amazonaws.com/"
            ))
            .unwrap(),
            "https://bedrock.eu-central-1.amazonaws.com/foundation-models?byProvider=anthropic"
        );
        assert_eq!(
            bedrock_check_url(&bedrock_backend(
                None,
                "https://bedrock-runtime-fips.us-east-1.amazonaws.com"
            ))
            .unwrap(),
            "https://bedrock-fips.us-east-1.amazonaws.com/foundation-models?byProvider=anthropic"
        );
        assert_eq!(
            bedrock_check_url(&bedrock_backend(
                Some("us-east-1"),
                "http://127.0.0.1:9000/"
            ))
            .unwrap(),
            "http://127.0.0.1:9000/foundation-models?byProvider=anthropic"
        );
        assert!(bedrock_check_url(&bedrock_backend(None, "")).is_err());
        assert!(bedrock_check_url(&bedrock_backend(Some("a.evil"), "")).is_err());
    }

    #[test]
    fn bedrocks_answers_become_outcomes() {
        let list = br#"{"modelSummaries":[{"modelId":"anthropic.claude-sonnet-4-5-20250929-v1:0","providerName":"Anthropic"},{"modelId":"anthropic.claude-haiku-4-5-20251001-v1:0"}]}"#;
        match classify_bedrock(200, None, list, None) {
            CheckOutcome::Ok { models } => {
                assert_eq!(models.len(), 2);
                assert_eq!(models[0].id, "anthropic.claude-sonnet-4-5-20250929-v1:0");
                assert_eq!(models[0].context_length, Some(CLAUDE_WINDOW));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            classify_bedrock(
                403,
                Some("UnrecognizedClientException"),
                br#"{"message":"The security token included in the request is invalid."}"#,
                None
            ),
            CheckOutcome::KeyRejected
        );
        assert_eq!(
            classify_bedrock(
                403,
                None,
                br#"{"message":"The request signature we calculated does not match","__type":"InvalidSignatureException"}"#,
                None
            ),
            CheckOutcome::KeyRejected
        );
        // Good credentials that may not list models: not a rejection.
        assert_eq!(
            classify_bedrock(403, Some("AccessDeniedException"), b"{}", None),
            CheckOutcome::NoModelList
        );
        assert_eq!(
            classify_bedrock(429, Some("ThrottlingException"), b"{}", None),
            CheckOutcome::HttpError { status: 429 }
        );
        assert_eq!(
            classify_bedrock(200, None, b"<html>", None),
            CheckOutcome::NotAModelServer
        );
        assert_eq!(classify_vertex(200), CheckOutcome::NoModelList);
        assert_eq!(classify_vertex(403), CheckOutcome::KeyRejected);
        assert_eq!(classify_vertex(307), CheckOutcome::Redirected);
    }
}
