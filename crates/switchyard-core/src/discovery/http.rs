use std::time::Duration;

use serde::de::DeserializeOwned;

/// Why one HTTP call of a probe failed, worded for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProbeError {
    #[error("connection refused")]
    Refused,
    #[error("timed out after {}", seconds(*.0))]
    TimedOut(Duration),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("answered HTTP {status}: {snippet}")]
    Status { status: u16, snippet: String },
    #[error("answered HTTP {status} but not {expected}: {snippet}")]
    Unexpected {
        status: u16,
        expected: &'static str,
        snippet: String,
    },
    #[error("{0}")]
    Other(String),
}

impl ProbeError {
    /// The endpoint did not answer at all (as opposed to answering something else).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ProbeError::Refused | ProbeError::TimedOut(_) | ProbeError::Connect(_)
        )
    }
}

pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A client for probes: short connect timeout, whole-call timeout, no redirects. Loopback
/// probes bypass any `HTTP_PROXY` from the environment (a corporate proxy cannot reach the
/// user's 127.0.0.1).
pub(crate) fn client(connect: Duration, total: Duration, local: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total);
    if local {
        builder = builder.no_proxy();
    }
    crate::net::client(builder)
}

pub(crate) fn is_loopback_url(url: &str) -> bool {
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned));
    matches!(
        host.as_deref(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    ) || host.is_some_and(|h| h.starts_with("127."))
}

/// A request, sent; the JSON answer parsed as `T` or a readable reason.
pub(crate) async fn fetch_json<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    total: Duration,
    expected: &'static str,
) -> Result<T, ProbeError> {
    let response = request.send().await.map_err(|e| classify(&e, total))?;
    let status = response.status().as_u16();
    // Large enough for OpenRouter's model list (~2 MB); a longer answer is cut and fails to
    // parse rather than filling memory.
    let body = crate::net::read_bounded(response, 16 << 20)
        .await
        .map_err(|e| classify(&e, total))?;
    if !(200..300).contains(&status) {
        return Err(ProbeError::Status {
            status,
            snippet: snippet(&body),
        });
    }
    serde_json::from_slice(&body).map_err(|_| ProbeError::Unexpected {
        status,
        expected,
        snippet: snippet(&body),
    })
}

pub(crate) fn classify(error: &reqwest::Error, total: Duration) -> ProbeError {
    if error.is_timeout() {
        return ProbeError::TimedOut(total);
    }
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return ProbeError::Refused,
                std::io::ErrorKind::TimedOut => return ProbeError::TimedOut(total),
                _ => {}
            }
        }
        source = e.source();
    }
    if error.is_connect() {
        return ProbeError::Connect(root_cause(error));
    }
    ProbeError::Other(root_cause(error))
}

fn root_cause(error: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The start of a body, on one line, for error messages.
fn snippet(body: &[u8]) -> String {
    const MAX: usize = 80;
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".to_owned();
    }
    match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_well() {
        assert_eq!(
            ProbeError::TimedOut(Duration::from_millis(1500)).to_string(),
            "timed out after 1.5 s"
        );
        assert_eq!(ProbeError::Refused.to_string(), "connection refused");
        assert_eq!(
            snippet(b"  <html>\n <body>hi</body>"),
            "<html> <body>hi</body>"
        );
        assert_eq!(snippet(b""), "(empty body)");
        assert!(snippet("é".repeat(200).as_bytes()).ends_with("..."));
    }

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_url("http://127.0.0.1:11434"));
        assert!(is_loopback_url("http://localhost:8000/v1"));
        assert!(is_loopback_url("http://[::1]:8000/v1"));
        assert!(!is_loopback_url("https://api.example.invalid/v1"));
    }
}
