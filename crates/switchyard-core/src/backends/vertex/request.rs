//! An Anthropic Messages request → Vertex AI's `rawPredict` / `streamRawPredict`.
//!
//! Vertex takes Anthropic's body with the model moved into the URL and its own
//! `anthropic_version`; unlike Bedrock it keeps `stream` in the body, and beta flags stay in
//! the `anthropic-beta` header. Every other member is forwarded as the client's JSON text.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::backends::bedrock::request::{BodyError, TopLevel, is_region_name};

/// The `anthropic_version` Vertex requires in the body.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// A path segment with `@` kept (`claude-sonnet-4-5@20250929`, as Google's documentation
/// writes model versions) and everything else outside the unreserved set encoded: a `/` or
/// `:` in a project or model must not change which resource, or which method, is called.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Why a Vertex URL could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "{0:?} is not a Google Cloud region name (lowercase letters, digits and dashes, e.g. us-east5, or global)"
    )]
    Region(String),
    #[error("the Google Cloud project id is empty")]
    EmptyProject,
    #[error("the Vertex model name is empty")]
    EmptyModel,
}

/// Either reason a request could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error(transparent)]
    Url(#[from] UrlError),
}

/// A Vertex request ready to authorize (`Authorization: Bearer <token>`, see
/// [`super::token`]) and send (`POST`, `content-type: application/json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictRequest {
    pub url: String,
    pub body: Vec<u8>,
    /// The answer is Anthropic SSE (`streamRawPredict`), passed through as is.
    pub stream: bool,
}

/// Where a Vertex model lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VertexTarget<'a> {
    /// A base URL of the user's own (a private endpoint, a test server); else the region's.
    pub base_url: Option<&'a str>,
    pub project: &'a str,
    pub region: &'a str,
    /// `claude-sonnet-4-5@20250929`.
    pub model: &'a str,
}

/// The request for `target`: URL and body.
pub fn predict_request(
    target: &VertexTarget<'_>,
    anthropic_body: &[u8],
) -> Result<PredictRequest, RequestError> {
    let (body, stream) = predict_body(anthropic_body)?;
    let url = predict_url(target, stream)?;
    Ok(PredictRequest { url, body, stream })
}

/// `https://{region}-aiplatform.googleapis.com`, or `https://aiplatform.googleapis.com` for
/// the `global` endpoint. The region becomes part of a host name: only a region-shaped name
/// is accepted.
pub fn default_base_url(region: &str) -> Result<String, UrlError> {
    if !is_region_name(region) {
        return Err(UrlError::Region(region.to_owned()));
    }
    Ok(if region == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{region}-aiplatform.googleapis.com")
    })
}

/// `{base}/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}`
/// with `:rawPredict` or `:streamRawPredict`.
pub fn predict_url(target: &VertexTarget<'_>, stream: bool) -> Result<String, UrlError> {
    if target.project.is_empty() {
        return Err(UrlError::EmptyProject);
    }
    if target.model.is_empty() {
        return Err(UrlError::EmptyModel);
    }
    // The region is also a path segment, so it is checked even under a base URL of the user's.
    if !is_region_name(target.region) {
        return Err(UrlError::Region(target.region.to_owned()));
    }
    let base = match target.base_url {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => default_base_url(target.region)?,
    };
    let method = if stream {
        "streamRawPredict"
    } else {
        "rawPredict"
    };
    Ok(format!(
        "{base}/v1/projects/{}/locations/{}/publishers/anthropic/models/{}:{method}",
        utf8_percent_encode(target.project, SEGMENT),
        target.region,
        utf8_percent_encode(target.model, SEGMENT),
    ))
}

/// The Vertex body (`model` dropped, `stream` kept, `anthropic_version` set) and whether the
/// client asked for a stream.
pub fn predict_body(anthropic_body: &[u8]) -> Result<(Vec<u8>, bool), BodyError> {
    let mut members = TopLevel::parse(anthropic_body)?;
    members.remove("model");
    let stream = members.stream(false)?;
    Ok((members.encode(ANTHROPIC_VERSION, &[])?, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(region: &'a str, model: &'a str) -> VertexTarget<'a> {
        VertexTarget {
            base_url: None,
            project: "my-project",
            region,
            model,
        }
    }

    #[test]
    fn the_body_keeps_stream_and_gains_the_version() {
        let (body, stream) = predict_body(
            br#"{"model":"claude-sonnet-4-5","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#,
        )
        .unwrap();
        assert!(stream);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"anthropic_version":"vertex-2023-10-16","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#
        );
        let (body, stream) =
            predict_body(br#"{"anthropic_version":"x","messages":[ 1 ]}"#).unwrap();
        assert!(!stream);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"anthropic_version":"vertex-2023-10-16","messages":[ 1 ]}"#
        );
        assert!(matches!(
            predict_body(br#"{"stream":1}"#),
            Err(BodyError::Stream(_))
        ));
        assert!(matches!(
            predict_body(b"null"),
            Err(BodyError::NotAnObject(_))
        ));
    }

    #[test]
    fn urls_for_regions_and_global() {
        assert_eq!(
            predict_url(&target("us-east5", "claude-sonnet-4-5@20250929"), false).unwrap(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
        );
        assert_eq!(
            predict_url(&target("global", "claude-opus-4-1@20250805"), true).unwrap(),
            "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/anthropic/models/claude-opus-4-1@20250805:streamRawPredict"
        );
        let own = VertexTarget {
            base_url: Some("http://127.0.0.1:8123/"),
            ..target("europe-west1", "claude-haiku-4-5@20251001")
        };
        assert_eq!(
            predict_url(&own, true).unwrap(),
            "http://127.0.0.1:8123/v1/projects/my-project/locations/europe-west1/publishers/anthropic/models/claude-haiku-4-5@20251001:streamRawPredict"
        );
    }

    #[test]
    fn names_cannot_reach_another_resource() {
        let odd = VertexTarget {
            project: "p/../../other",
            ..target("us-east5", "m:streamRawPredict?x=1")
        };
        assert_eq!(
            predict_url(&odd, false).unwrap(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/p%2F..%2F..%2Fother/locations/us-east5/publishers/anthropic/models/m%3AstreamRawPredict%3Fx%3D1:rawPredict"
        );
        for bad in ["", "us-east5.evil.com", "US", "a/b", "us-east5-"] {
            assert_eq!(
                predict_url(&target(bad, "m"), false),
                Err(UrlError::Region(bad.to_owned())),
                "{bad:?}"
            );
        }
        let no_project = VertexTarget {
            project: "",
            ..target("us-east5", "m")
        };
        assert_eq!(predict_url(&no_project, false), Err(UrlError::EmptyProject));
        assert_eq!(
            predict_url(&target("us-east5", ""), false),
            Err(UrlError::EmptyModel)
        );
    }

    #[test]
    fn predict_request_puts_it_together() {
        let req = predict_request(
            &target("us-east5", "claude-sonnet-4-5@20250929"),
            br#"{"model":"claude-sonnet-4-5","stream":true,"messages":[]}"#,
        )
        .unwrap();
        assert!(req.stream);
        assert!(
            req.url
                .ends_with("claude-sonnet-4-5@20250929:streamRawPredict")
        );
        assert_eq!(
            String::from_utf8(req.body).unwrap(),
            r#"{"anthropic_version":"vertex-2023-10-16","stream":true,"messages":[]}"#
        );
    }
}
