//! An Anthropic Messages request → Bedrock's `InvokeModel` / `InvokeModelWithResponseStream`.
//!
//! Bedrock takes Anthropic's body almost as is: the model moves into the URL, streaming is
//! chosen by the URL rather than `stream`, the API version and the beta flags travel in the
//! body (`anthropic_version`, `anthropic_beta`) instead of headers. Every other member is
//! forwarded as the client's own JSON text: nothing is parsed that Bedrock reads unchanged.

use indexmap::IndexMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::value::RawValue;

/// The `anthropic_version` Bedrock requires in the body.
pub const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// A path label as the AWS SDKs encode it (smithy's `httpLabel`: everything but unreserved
/// characters), so `anthropic.claude-sonnet-4-5-20250929-v1:0` is sent as `...-v1%3A0` and an
/// inference-profile ARN stays one path segment. SigV4 then encodes the `%` once more in its
/// canonical request, which is what Bedrock checks the signature against.
const PATH_LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why a request body could not be rewritten for Bedrock (or Vertex, which shares this).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is not a JSON object: {0}")]
    NotAnObject(#[source] serde_json::Error),
    #[error("`stream` must be true or false, not {0}")]
    Stream(String),
    #[error("`anthropic_beta` must be a list of strings: {0}")]
    Beta(#[source] serde_json::Error),
    #[error("could not encode the upstream request: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Why a Bedrock URL could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error(
        "{0:?} is not an AWS region name (lowercase letters, digits and dashes, e.g. us-east-1)"
    )]
    Region(String),
    #[error("the Bedrock model id is empty")]
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

/// A Bedrock request ready to sign and send (`POST`, `content-type: application/json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeRequest {
    pub url: String,
    pub body: Vec<u8>,
    /// The client asked for a stream: the answer is an AWS event stream
    /// (see [`super::eventstream`]).
    pub stream: bool,
}

/// A rewritten body and whether the client asked for a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeBody {
    pub body: Vec<u8>,
    pub stream: bool,
}

/// The request for `model_id` in `region`: URL (`base_url` when set, else the region's
/// public endpoint) and body. `beta_headers` are the client's `anthropic-beta` header values.
pub fn invoke_request<'h>(
    base_url: Option<&str>,
    region: &str,
    model_id: &str,
    anthropic_body: &[u8],
    beta_headers: impl IntoIterator<Item = &'h str>,
) -> Result<InvokeRequest, RequestError> {
    let InvokeBody { body, stream } = invoke_body(anthropic_body, beta_headers)?;
    let url = invoke_url(base_url, region, model_id, stream)?;
    Ok(InvokeRequest { url, body, stream })
}

/// `https://bedrock-runtime.{region}.amazonaws.com`. The region becomes part of a host name,
/// so only a region-shaped name is accepted.
pub fn default_base_url(region: &str) -> Result<String, UrlError> {
    if !is_region_name(region) {
        return Err(UrlError::Region(region.to_owned()));
    }
    Ok(format!("https://bedrock-runtime.{region}.amazonaws.com"))
}

/// `{base}/model/{model id}/invoke` or `.../invoke-with-response-stream`.
pub fn invoke_url(
    base_url: Option<&str>,
    region: &str,
    model_id: &str,
    stream: bool,
) -> Result<String, UrlError> {
    if model_id.is_empty() {
        return Err(UrlError::EmptyModel);
    }
    let base = match base_url {
        Some(base) => base.trim_end_matches('/').to_owned(),
        None => default_base_url(region)?,
    };
    let action = if stream {
        "invoke-with-response-stream"
    } else {
        "invoke"
    };
    Ok(format!(
        "{base}/model/{}/{action}",
        encode_model_id(model_id)
    ))
}

/// A model id (or inference-profile ARN) as one percent-encoded path segment.
pub fn encode_model_id(model_id: &str) -> String {
    utf8_percent_encode(model_id, PATH_LABEL).to_string()
}

/// The `anthropic-beta` header values as Bedrock's `anthropic_beta` list: comma-separated
/// values split, blanks dropped, each flag once, in the order first given.
pub fn beta_flags<'h>(header_values: impl IntoIterator<Item = &'h str>) -> Vec<String> {
    let mut flags: Vec<String> = Vec::new();
    for flag in header_values
        .into_iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|flag| !flag.is_empty())
    {
        if !flags.iter().any(|seen| seen == flag) {
            flags.push(flag.to_owned());
        }
    }
    flags
}

/// The Bedrock body: `model` and `stream` dropped, `anthropic_version` set, the beta flags
/// (any already in the body first, then the headers') in `anthropic_beta`.
pub fn invoke_body<'h>(
    anthropic_body: &[u8],
    beta_headers: impl IntoIterator<Item = &'h str>,
) -> Result<InvokeBody, BodyError> {
    let mut members = TopLevel::parse(anthropic_body)?;
    members.remove("model");
    let stream = members.stream(true)?;
    let mut betas = match members.remove("anthropic_beta") {
        Some(raw) => serde_json::from_str::<Vec<String>>(raw.get()).map_err(BodyError::Beta)?,
        None => Vec::new(),
    };
    for flag in beta_flags(beta_headers) {
        if !betas.contains(&flag) {
            betas.push(flag);
        }
    }
    let body = members.encode(ANTHROPIC_VERSION, &betas)?;
    Ok(InvokeBody { body, stream })
}

/// Region names of AWS and Google Cloud alike: `us-east-1`, `europe-west4`, `global`.
pub(crate) fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A request body's top-level members, each kept as the client's JSON text, in order.
pub(crate) struct TopLevel<'a> {
    members: IndexMap<String, &'a RawValue>,
}

/// What is sent: the version first (as Anthropic's SDKs write it), then the client's members.
#[derive(Serialize)]
struct Rewritten<'a, 'b> {
    anthropic_version: &'static str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    anthropic_beta: &'b [String],
    #[serde(flatten)]
    members: &'b IndexMap<String, &'a RawValue>,
}

impl<'a> TopLevel<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<TopLevel<'a>, BodyError> {
        let members = serde_json::from_slice(body).map_err(BodyError::NotAnObject)?;
        Ok(TopLevel { members })
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<&'a RawValue> {
        self.members.shift_remove(key)
    }

    /// The `stream` flag (absent or `null` is `false`), taken out of the body when `take`.
    pub(crate) fn stream(&mut self, take: bool) -> Result<bool, BodyError> {
        let raw = if take {
            self.remove("stream")
        } else {
            self.members.get("stream").copied()
        };
        match raw.map(|r| r.get().trim()) {
            None | Some("false" | "null") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(BodyError::Stream(other.chars().take(40).collect())),
        }
    }

    pub(crate) fn encode(
        &self,
        version: &'static str,
        betas: &[String],
    ) -> Result<Vec<u8>, BodyError> {
        let mut members = self.members.clone();
        // Ours wins over a client's own `anthropic_version`.
        members.shift_remove("anthropic_version");
        members.shift_remove("anthropic_beta");
        let capacity = self
            .members
            .values()
            .map(|v| v.get().len() + 16)
            .sum::<usize>()
            + 128;
        let mut out = Vec::with_capacity(capacity);
        serde_json::to_writer(
            &mut out,
            &Rewritten {
                anthropic_version: version,
                anthropic_beta: betas,
                members: &members,
            },
        )
        .map_err(BodyError::Encode)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn the_body_loses_model_and_stream_and_gains_the_version() {
        let body = br#"{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
        let out = invoke_body(body, []).unwrap();
        assert!(out.stream);
        assert_eq!(
            String::from_utf8(out.body).unwrap(),
            r#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}"#
        );
    }

    #[test]
    fn members_are_forwarded_byte_for_byte() {
        // Spacing, escapes and number spellings inside members are the client's own.
        let body = br#"{ "model" : "m", "temperature" : 0.70, "system" : "a\u00e9\n" , "metadata":{"user_id" : "x"} }"#;
        let out = invoke_body(body, []).unwrap();
        let text = String::from_utf8(out.body).unwrap();
        assert_eq!(
            text,
            r#"{"anthropic_version":"bedrock-2023-05-31","temperature":0.70,"system":"a\u00e9\n","metadata":{"user_id" : "x"}}"#
        );
        assert!(!out.stream);
    }

    #[test]
    fn beta_headers_become_the_body_list() {
        let body = br#"{"model":"m","anthropic_beta":["a"],"messages":[]}"#;
        let out = invoke_body(
            body,
            [
                "interleaved-thinking-2025-05-14, a",
                "context-1m-2025-08-07",
                " ",
            ],
        )
        .unwrap();
        assert_eq!(
            parsed(&out.body),
            json!({
                "anthropic_version": "bedrock-2023-05-31",
                "anthropic_beta": ["a", "interleaved-thinking-2025-05-14", "context-1m-2025-08-07"],
                "messages": []
            })
        );
        // No flags at all: no empty list either.
        let out = invoke_body(br#"{"messages":[]}"#, []).unwrap();
        assert_eq!(
            parsed(&out.body),
            json!({"anthropic_version": "bedrock-2023-05-31", "messages": []})
        );
    }

    #[test]
    fn a_clients_own_version_is_replaced() {
        let out = invoke_body(br#"{"anthropic_version":"2023-06-01","messages":[]}"#, []).unwrap();
        assert_eq!(
            parsed(&out.body)["anthropic_version"],
            json!("bedrock-2023-05-31")
        );
    }

    #[test]
    fn bodies_that_are_not_requests_are_refused() {
        assert!(matches!(
            invoke_body(b"[1,2]", []),
            Err(BodyError::NotAnObject(_))
        ));
        assert!(matches!(
            invoke_body(b"{\"stream\":\"yes\"}", []),
            Err(BodyError::Stream(s)) if s == "\"yes\""
        ));
        assert!(matches!(
            invoke_body(b"{\"anthropic_beta\":\"x\"}", []),
            Err(BodyError::Beta(_))
        ));
    }

    #[test]
    fn urls_encode_the_model_id_as_aws_does() {
        assert_eq!(
            invoke_url(
                None,
                "us-east-1",
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                false
            )
            .unwrap(),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
        );
        assert_eq!(
            invoke_url(
                Some("http://127.0.0.1:9000/"),
                "eu-west-3",
                "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                true
            )
            .unwrap(),
            "http://127.0.0.1:9000/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream"
        );
        // An inference-profile ARN stays one path segment.
        assert_eq!(
            encode_model_id(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x"
            ),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x"
        );
        assert_eq!(encode_model_id("a b~_.-é"), "a%20b~_.-%C3%A9");
    }

    #[test]
    fn region_and_model_are_checked() {
        for bad in [
            "",
            "US-EAST-1",
            "us-east-1.evil.com",
            "us east",
            "-us",
            "a/b",
        ] {
            assert_eq!(
                invoke_url(None, bad, "m", false),
                Err(UrlError::Region(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert_eq!(
            invoke_url(None, "us-east-1", "", false),
            Err(UrlError::EmptyModel)
        );
        // A base URL of the user's own makes the region irrelevant to the URL.
        assert!(invoke_url(Some("https://vpce.example"), "", "m", false).is_ok());
    }

    #[test]
    fn invoke_request_puts_it_together() {
        let req = invoke_request(
            None,
            "us-west-2",
            "anthropic.claude-opus-4-1-20250805-v1:0",
            br#"{"model":"claude-opus-4-1","stream":true,"max_tokens":5,"messages":[]}"#,
            ["fine-grained-tool-streaming-2025-05-14"],
        )
        .unwrap();
        assert!(req.stream);
        assert!(req.url.ends_with(
            "/model/anthropic.claude-opus-4-1-20250805-v1%3A0/invoke-with-response-stream"
        ));
        assert_eq!(
            parsed(&req.body),
            json!({
                "anthropic_version": "bedrock-2023-05-31",
                "anthropic_beta": ["fine-grained-tool-streaming-2025-05-14"],
                "max_tokens": 5,
                "messages": []
            })
        );
    }
}
