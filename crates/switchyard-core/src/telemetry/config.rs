//! `[telemetry]` in the config file, and what the exporter derives from it: the URL it posts
//! to and the headers it sends (with `env:VAR` values read from the environment).

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

/// `[telemetry]`: an OpenTelemetry (OTLP/HTTP, JSON) exporter of one span per finished
/// request. Nothing is exported unless `otlp_endpoint` is set. Read when the engine starts: a
/// change takes effect at the next start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The collector's OTLP/HTTP address (`http://127.0.0.1:4318`); spans are posted to
    /// `{endpoint}/v1/traces` (an endpoint that already ends in `/v1/traces` is used as is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// Export request and response bodies when the request path hands them over. Off by
    /// default: with it, prompts and answers leave this machine when the collector is
    /// elsewhere.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_bodies: bool,
    /// Headers sent with every export (a collector's auth header). A value `env:VAR` is read
    /// from the environment variable `VAR` when the engine starts, so no secret sits in the
    /// file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The resource's `service.name`.
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

/// The prefix of a header value read from the environment.
pub const ENV_PREFIX: &str = "env:";

/// The path OTLP/HTTP posts traces to, which an endpoint may already end with.
const TRACES_PATH: &str = "/v1/traces";

pub fn default_service_name() -> String {
    "switchyard".to_owned()
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            include_bodies: false,
            headers: BTreeMap::new(),
            service_name: default_service_name(),
        }
    }
}

impl TelemetryConfig {
    pub fn is_default(&self) -> bool {
        *self == TelemetryConfig::default()
    }

    /// Whether an exporter runs: only with an endpoint.
    pub fn enabled(&self) -> bool {
        self.otlp_endpoint.is_some()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TelemetryConfigError {
    #[error("telemetry.otlp_endpoint {0:?} is not an http:// or https:// URL")]
    Endpoint(String),
    #[error(
        "telemetry.headers.{header}: the environment variable {var} it reads (env:{var}) is not set"
    )]
    MissingEnv { header: String, var: String },
    #[error("telemetry.headers.{0}: not a valid HTTP header name")]
    HeaderName(String),
    #[error("telemetry.headers.{0}: the value is not a valid HTTP header value")]
    HeaderValue(String),
}

/// The URL spans are posted to: the endpoint with `/v1/traces` added to its path, unless it
/// already ends so (OTLP's rule for a base endpoint, and what users paste from collector
/// docs). Query and port are kept.
pub fn traces_url(endpoint: &str) -> Result<reqwest::Url, TelemetryConfigError> {
    let bad = || TelemetryConfigError::Endpoint(endpoint.to_owned());
    let mut url = reqwest::Url::parse(endpoint.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    let path = url.path().trim_end_matches('/');
    let path = if path.ends_with(TRACES_PATH) {
        path.to_owned()
    } else {
        format!("{path}{TRACES_PATH}")
    };
    url.set_path(&path);
    Ok(url)
}

/// Whether a header value is read from the environment, and from which variable.
pub fn env_var_of(value: &str) -> Option<&str> {
    value.strip_prefix(ENV_PREFIX)
}

/// Headers that Switchyard sets itself on an export.
pub fn is_reserved_header(name: &str) -> bool {
    [
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
    ]
    .iter()
    .any(|r| r.eq_ignore_ascii_case(name))
}

/// The configured headers as sent: `env:VAR` values looked up with `lookup` (the process
/// environment in the engine, a map in tests). Values are marked sensitive so that no debug
/// output shows them.
pub fn resolve_headers(
    headers: &BTreeMap<String, String>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<HeaderMap, TelemetryConfigError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| TelemetryConfigError::HeaderName(name.clone()))?;
        let text = match env_var_of(value) {
            Some(var) => lookup(var).ok_or_else(|| TelemetryConfigError::MissingEnv {
                header: name.clone(),
                var: var.to_owned(),
            })?,
            None => value.clone(),
        };
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| TelemetryConfigError::HeaderValue(name.clone()))?;
        value.set_sensitive(true);
        map.insert(header, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        for (endpoint, url) in [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
            ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
            (
                "http://127.0.0.1:4318/v1/traces",
                "http://127.0.0.1:4318/v1/traces",
            ),
            (
                "https://otel.example.com/v1/traces/",
                "https://otel.example.com/v1/traces",
            ),
            (
                "https://otel.example.com/otlp",
                "https://otel.example.com/otlp/v1/traces",
            ),
            (
                "https://otel.example.com/otlp?tenant=a",
                "https://otel.example.com/otlp/v1/traces?tenant=a",
            ),
        ] {
            assert_eq!(traces_url(endpoint).unwrap().as_str(), url, "{endpoint}");
        }
        for bad in ["ftp://x", "127.0.0.1:4318", "", "http://"] {
            assert!(traces_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_values_are_read_and_a_missing_variable_is_named() {
        let headers = BTreeMap::from([
            ("authorization".to_owned(), "env:OTEL_TOKEN".to_owned()),
            ("x-tenant".to_owned(), "team-a".to_owned()),
        ]);
        let set = |var: &str| (var == "OTEL_TOKEN").then(|| "Bearer s3cret".to_owned());
        let map = resolve_headers(&headers, &set).unwrap();
        assert_eq!(map["authorization"], "Bearer s3cret");
        assert!(map["authorization"].is_sensitive());
        assert_eq!(map["x-tenant"], "team-a");
        assert!(!format!("{map:?}").contains("s3cret"));

        let unset = |_: &str| None;
        assert_eq!(
            resolve_headers(&headers, &unset),
            Err(TelemetryConfigError::MissingEnv {
                header: "authorization".into(),
                var: "OTEL_TOKEN".into()
            })
        );
        let bad = BTreeMap::from([("x-a".to_owned(), "env:BAD".to_owned())]);
        let newline = |_: &str| Some("a\nb".to_owned());
        assert_eq!(
            resolve_headers(&bad, &newline),
            Err(TelemetryConfigError::HeaderValue("x-a".into()))
        );
    }
}
