//! The checks every request passes before anything else: a loopback `Host` (DNS-rebinding
//! protection), no browser `Origin` (web pages must not reach the gateway), and the local
//! token, compared in constant time.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::anthropic::{ApiError, ErrorType};
use crate::config::is_loopback_host;
use crate::gateway::Gateway;

/// Paths that answer without the token (Claude Code probes them; they reveal nothing).
fn is_public(path: &str) -> bool {
    matches!(path, "/" | "/api/hello" | "/health")
}

/// The host part of a `Host` header value (`[::1]:4747` → `[::1]`, `localhost:1` → `localhost`).
fn host_name(value: &str) -> &str {
    if value.starts_with('[') {
        return value.split_inclusive(']').next().unwrap_or(value);
    }
    value.rsplit_once(':').map_or(value, |(host, _)| host)
}

fn presented_token(request: &Request) -> Option<&str> {
    let headers = request.headers();
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        if let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        {
            return Some(token.trim());
        }
    }
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

pub async fn guard(State(gateway): State<Arc<Gateway>>, request: Request, next: Next) -> Response {
    if !gateway.allow_any_host() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok());
        match host {
            Some(host) if is_loopback_host(host_name(host)) => {}
            Some(host) => {
                return ApiError::new(
                    ErrorType::PermissionError,
                    format!("requests addressed to host {host:?} are refused: Switchyard only answers requests for localhost, 127.0.0.1 or [::1]"),
                )
                .into_response();
            }
            None => {
                return ApiError::new(
                    ErrorType::PermissionError,
                    "requests without a Host header are refused",
                )
                .into_response();
            }
        }
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("(not text)");
        return ApiError::new(
            ErrorType::PermissionError,
            format!("requests from web pages (Origin: {origin}) are refused: the gateway serves local tools such as Claude Code, not browsers"),
        )
        .into_response();
    }
    if !is_public(request.uri().path()) {
        let expected = gateway.token();
        match presented_token(&request) {
            None => {
                return ApiError::new(
                    ErrorType::AuthenticationError,
                    "missing local token: send it as `Authorization: Bearer <token>` or `x-api-key` (for Claude Code set ANTHROPIC_AUTH_TOKEN; `switchyard token` prints it)",
                )
                .into_response();
            }
            Some(token) => {
                let ok: bool = token
                    .as_bytes()
                    .ct_eq(expected.expose_secret().as_bytes())
                    .into();
                if !ok {
                    return ApiError::new(
                        ErrorType::AuthenticationError,
                        "wrong local token: use the token `switchyard token` prints (it changes when rotated in the app)",
                    )
                    .into_response();
                }
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::host_name;

    #[test]
    fn host_names_without_ports() {
        assert_eq!(host_name("localhost:4747"), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("[::1]:4747"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
        assert_eq!(host_name("evil.com:80"), "evil.com");
    }
}
