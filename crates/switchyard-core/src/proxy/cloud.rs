//! What Bedrock and Vertex need on the way out that the other kinds do not: their
//! authentication (SigV4 over the exact bytes sent, or a bearer token), the beta flags they
//! take, and how a request they cannot be sent fails.

use http::{HeaderName, HeaderValue, header};
use secrecy::ExposeSecret;

use super::Inbound;
use super::send::{Failure, Prepared};
use crate::anthropic::{ApiError, ErrorType};
use crate::backends::{bedrock, cloud_betas};
use crate::config::{BackendConfig, BackendKind};
use crate::gateway::{Gateway, PickedKey};

pub(super) fn is_body_error(err: &bedrock::request::RequestError) -> bool {
    matches!(err, bedrock::request::RequestError::Body(_))
}

/// A Bedrock or Vertex request that could not be made: the client's body (its fault: 400),
/// or the backend's settings (another target may serve).
pub(super) fn cloud_request_error(
    backend: &BackendConfig,
    message: String,
    body_fault: bool,
) -> Failure {
    if body_fault {
        return Failure::fatal(ApiError::invalid_request(message));
    }
    Failure::skip(
        ApiError::new(
            ErrorType::ApiError,
            format!("backend {:?} cannot be reached: {message}", backend.id),
        )
        .with_status(502),
    )
}

/// The client's `anthropic-beta` flags Bedrock and Vertex are not sent (`cloud_betas`), as a
/// note for the usage row.
pub(super) fn dropped_betas(inbound: &Inbound, backend: &BackendConfig) -> Option<String> {
    if !backend.kind.is_cloud_claude() {
        return None;
    }
    let (_, dropped) = cloud_betas::split(cloud_betas::header_values(&inbound.headers));
    if dropped.is_empty() {
        return None;
    }
    let flags: String = dropped.join(", ").chars().take(300).collect();
    tracing::debug!(backend = %backend.id, flags = %crate::log_text::clip(&flags), "anthropic-beta flags not sent: the cloud does not take them");
    Some(format!(
        "anthropic-beta flags not sent to {}: {flags}",
        backend.id
    ))
}

/// The authentication headers of a Bedrock or Vertex request (SigV4 over the exact bytes
/// sent, or a bearer token), from the backend's stored credential or its cloud's own.
pub(super) async fn cloud_auth_headers(
    gateway: &Gateway,
    backend: &BackendConfig,
    key: &PickedKey,
    prepared: &Prepared,
    headers: &http::HeaderMap,
) -> Result<Vec<(HeaderName, HeaderValue)>, Failure> {
    match prepared.kind {
        BackendKind::Bedrock => {
            let auth = gateway
                .cloud()
                .bedrock(backend, key.secret.as_deref())
                .map_err(Failure::skip)?;
            let signed: Vec<(&str, &str)> = headers
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect();
            let input = bedrock::SignInput {
                method: "POST",
                url: &prepared.url,
                headers: &signed,
                body: &prepared.body,
            };
            let region = crate::cloud::bedrock_region(backend);
            if region.is_none() && matches!(auth, bedrock::BedrockAuth::SigV4(_)) {
                return Err(Failure::skip(ApiError::new(
                    ErrorType::ApiError,
                    format!(
                        "backend {:?}: AWS signatures name a region, and neither `region` nor its base_url gives one: set region = \"...\"",
                        backend.id
                    ),
                )));
            }
            let region = region.unwrap_or_default();
            bedrock::auth_headers(&auth, &input, &region, std::time::SystemTime::now()).map_err(
                |err| {
                    Failure::skip(ApiError::new(
                        ErrorType::ApiError,
                        format!(
                            "backend {:?}: the request could not be signed: {err}",
                            backend.id
                        ),
                    ))
                },
            )
        }
        BackendKind::Vertex => {
            let bearer = gateway
                .cloud()
                .vertex_bearer(backend, key.name(), key.secret.clone())
                .await
                .map_err(|err| {
                    let error = crate::cloud::vertex_error(backend, &err);
                    match err.is_transient() {
                        true => Failure::retry(error),
                        false => Failure::skip(error),
                    }
                })?;
            let mut value = HeaderValue::from_str(bearer.expose_secret()).map_err(|_| {
                Failure::skip(ApiError::new(
                    ErrorType::AuthenticationError,
                    format!(
                        "backend {:?}: the access token is not a valid header value",
                        backend.id
                    ),
                ))
            })?;
            value.set_sensitive(true);
            Ok(vec![(header::AUTHORIZATION, value)])
        }
        _ => Ok(Vec::new()),
    }
}

/// Vertex gets the client's beta flags in `anthropic-beta` (only those it takes), and
/// Claude Code's session headers like any upstream; the API version is in the body.
pub(super) fn vertex_headers(inbound: &http::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    let (betas, _) = cloud_betas::split(cloud_betas::header_values(inbound));
    if !betas.is_empty()
        && let Ok(value) = HeaderValue::from_str(&betas.join(","))
    {
        out.insert("anthropic-beta", value);
    }
    for (name, value) in inbound {
        if name.as_str().starts_with("x-claude-code-") {
            out.append(name.clone(), value.clone());
        }
    }
    out
}
