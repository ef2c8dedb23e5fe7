//! How every upstream HTTP client is built (requests, `count_tokens`, discovery probes, backend
//! checks): no redirect is ever followed. A 307 to another host would carry the provider key
//! and the whole prompt there; the caller sees the 3xx instead and reports it with its
//! `Location` ([`redirect_message`]).

use reqwest::redirect::Policy;

const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

/// `builder` plus the rules every upstream client follows. Settings that cannot be built are
/// logged and a client with default settings is used; it follows no redirect either.
pub(crate) fn client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    match builder
        .redirect(Policy::none())
        .user_agent(USER_AGENT)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(%err, "cannot build an HTTP client with these settings; using the defaults");
            // Fails only when the TLS backend cannot start, the one case where
            // `Client::default()` panics rather than returning a client that would follow
            // redirects: no path here yields one.
            reqwest::Client::builder()
                .redirect(Policy::none())
                .user_agent(USER_AGENT)
                .build()
                .unwrap_or_default()
        }
    }
}

/// What a 3xx from `backend` means for the user, one sentence.
pub fn redirect_message(backend: &str, status: u16, location: Option<&str>) -> String {
    let to = location.map_or_else(|| "elsewhere".to_owned(), |l| format!("to {l}"));
    format!(
        "backend {backend:?} redirects {to} (HTTP {status}); Switchyard follows no redirect, so the key and prompt never leave for another address: set the backend's base_url to the final address"
    )
}

/// The `Location` of a 3xx response, for [`redirect_message`].
pub fn location(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|l| l.chars().take(200).collect())
}

/// At most `limit` bytes of a response's body (the rest is not read): an upstream decides
/// how much it sends, not how much we hold.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    Ok(body)
}
