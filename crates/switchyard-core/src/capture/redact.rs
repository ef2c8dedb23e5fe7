//! Credentials never reach a capture: a header that carries one keeps its name (so the
//! inspector shows that it was sent) and loses its value.

use http::HeaderMap;

use super::record::Header;

pub const REDACTED: &str = "[redacted]";

/// Whether a header's value is a credential: the usual names, and any name that says key,
/// token, secret, password, signature or auth (custom gateways invent their own).
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "key",
        "token",
        "secret",
        "password",
        "signature",
        "auth",
        "credential",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// `map` as capture headers; credentials and the names in `also` (a backend's configured
/// extra headers, which may carry one under any name) redacted.
pub fn headers(map: &HeaderMap, also: &[&str]) -> Vec<Header> {
    map.iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let secret = is_credential(name) || also.iter().any(|a| a.eq_ignore_ascii_case(name));
            Header {
                name: name.to_owned(),
                value: match secret {
                    true => REDACTED.to_owned(),
                    false => String::from_utf8_lossy(value.as_bytes()).into_owned(),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_lose_their_values_and_keep_their_names() {
        let mut map = HeaderMap::new();
        for (name, value) in [
            ("x-api-key", "sk-canary"),
            ("authorization", "Bearer sk-canary"),
            ("x-goog-api-key", "g-canary"),
            ("x-custom-auth-token", "c-canary"),
            ("x-team", "t-canary"),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ] {
            map.insert(
                http::HeaderName::from_static(name),
                http::HeaderValue::from_static(value),
            );
        }
        let out = headers(&map, &["X-Team"]);
        let text = format!("{out:?}");
        assert!(!text.contains("canary"), "{text}");
        let value = |n: &str| out.iter().find(|h| h.name == n).unwrap().value.clone();
        assert_eq!(value("x-api-key"), REDACTED);
        assert_eq!(value("x-team"), REDACTED);
        assert_eq!(value("anthropic-version"), "2023-06-01");
        assert_eq!(value("content-type"), "application/json");
    }
}
