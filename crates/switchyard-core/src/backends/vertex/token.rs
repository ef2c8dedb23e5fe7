//! A Google service account → an OAuth access token for Vertex AI, as a pure builder and
//! parser: the caller sends the [`TokenRequest`] (with a client that follows no redirect: the
//! assertion is a credential for an hour) and hands the answer to [`parse_token_response`].
//!
//! The flow is Google's two-legged OAuth for service accounts: a JWT assertion signed with
//! the account's RSA key (RS256), exchanged at the account's `token_uri` for an access token.
//! The signature is `ring`'s (already here through rustls), the PEM reading `rustls-pki-types`'.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Where tokens are exchanged when the key file does not say.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The grant type of a JWT-bearer exchange (RFC 7523).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The content type of the exchange's body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// How long an assertion is valid: Google accepts at most an hour.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);
/// A token is replaced this long before it expires, so no request leaves with a token that
/// dies on the way.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// `application/x-www-form-urlencoded` leaves only these unencoded.
const FORM_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Why a service-account key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ServiceAccountError {
    #[error("not a service-account key file: {0}")]
    Json(#[source] serde_json::Error),
    #[error(
        "the key file is of type {0:?}; Vertex needs a service-account key (\"type\": \"service_account\")"
    )]
    NotServiceAccount(String),
    #[error("the key file's private_key is not a PEM private key: {0}")]
    Pem(String),
    #[error("the key file's private_key is not an RSA key ring can sign with: {0}")]
    Key(String),
    #[error(
        "the key file's token_uri {0:?} is not https (plain http is allowed to this machine only)"
    )]
    TokenUri(String),
    #[error("the assertion could not be signed")]
    Sign,
    #[error("the clock is before 1970")]
    Clock,
    #[error("the assertion could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
}

/// Why a token answer gives no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenResponseError {
    #[error("Google refused the token request (HTTP {status}): {error}{}", description.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error("an unreadable token answer (HTTP {status}): {detail}")]
    Malformed { status: u16, detail: String },
}

/// A service account's key file as Google writes it (fields Switchyard does not use are
/// skipped).
#[derive(Deserialize)]
struct KeyFileWire {
    #[serde(rename = "type")]
    kind: Option<String>,
    project_id: Option<String>,
    private_key_id: Option<String>,
    private_key: String,
    client_email: String,
    token_uri: Option<String>,
}

/// A service account ready to sign assertions.
pub struct ServiceAccount {
    pub client_email: String,
    /// Named in the JWT header (`kid`) so Google checks the right one of the account's keys.
    pub private_key_id: Option<String>,
    pub token_uri: String,
    /// The project the key belongs to: a default for the Vertex project.
    pub project_id: Option<String>,
    key: RsaKeyPair,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct JwtHeader<'a> {
    alg: &'static str,
    typ: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

/// The claims of the assertion (Google's "Using OAuth 2.0 for Server to Server Applications").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub scope: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// The exchange to send: `POST url` with `body` as `application/x-www-form-urlencoded`.
pub struct TokenRequest {
    pub url: String,
    /// Holds the signed assertion: a credential until it expires.
    pub body: SecretString,
}

impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// An access token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: SecretString,
    pub expires_at: SystemTime,
}

impl AccessToken {
    /// True from five minutes before expiry on.
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        now.checked_add(REFRESH_MARGIN)
            .is_none_or(|soon| soon >= self.expires_at)
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> SecretString {
        format!("Bearer {}", self.token.expose_secret()).into()
    }
}

#[derive(Deserialize)]
struct TokenAnswerWire {
    access_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

fn token_uri_allowed(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return true;
    }
    // A fake token server in tests; never another machine in the clear.
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

impl ServiceAccount {
    /// Reads a key file (`gcloud iam service-accounts keys create` / the console's JSON key).
    pub fn from_json(bytes: &[u8]) -> Result<ServiceAccount, ServiceAccountError> {
        let wire: KeyFileWire = serde_json::from_slice(bytes).map_err(ServiceAccountError::Json)?;
        if let Some(kind) = wire.kind.filter(|k| k != "service_account") {
            return Err(ServiceAccountError::NotServiceAccount(kind));
        }
        let token_uri = wire
            .token_uri
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN_URI.to_owned());
        if !token_uri_allowed(&token_uri) {
            return Err(ServiceAccountError::TokenUri(token_uri));
        }
        let der = PrivateKeyDer::from_pem_slice(wire.private_key.as_bytes())
            .map_err(|e| ServiceAccountError::Pem(e.to_string()))?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) => RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(pkcs1) => RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()),
            _ => {
                return Err(ServiceAccountError::Key(
                    "an elliptic-curve key; Google's service-account keys are RSA".to_owned(),
                ));
            }
        }
        .map_err(|e| ServiceAccountError::Key(e.to_string()))?;
        Ok(ServiceAccount {
            client_email: wire.client_email,
            private_key_id: wire.private_key_id.filter(|k| !k.is_empty()),
            token_uri,
            project_id: wire.project_id.filter(|p| !p.is_empty()),
            key,
        })
    }

    /// The claims an assertion made at `now` carries.
    pub fn claims(&self, now: SystemTime) -> Result<AssertionClaims, ServiceAccountError> {
        let iat = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| ServiceAccountError::Clock)?
            .as_secs();
        Ok(AssertionClaims {
            iss: self.client_email.clone(),
            scope: SCOPE.to_owned(),
            aud: self.token_uri.clone(),
            iat,
            exp: iat.saturating_add(ASSERTION_LIFETIME.as_secs()),
        })
    }

    /// The signed JWT (`header.claims.signature`, RS256) to exchange for a token.
    pub fn assertion(&self, now: SystemTime) -> Result<SecretString, ServiceAccountError> {
        let header = JwtHeader {
            alg: "RS256",
            typ: "JWT",
            kid: self.private_key_id.as_deref(),
        };
        let header = serde_json::to_vec(&header).map_err(ServiceAccountError::Encode)?;
        let claims = serde_json::to_vec(&self.claims(now)?).map_err(ServiceAccountError::Encode)?;
        let mut jwt = URL_SAFE_NO_PAD.encode(header);
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                jwt.as_bytes(),
                &mut signature,
            )
            .map_err(|_| ServiceAccountError::Sign)?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(jwt.into())
    }

    /// The exchange of a fresh assertion for an access token.
    pub fn token_request(&self, now: SystemTime) -> Result<TokenRequest, ServiceAccountError> {
        let assertion = self.assertion(now)?;
        Ok(TokenRequest {
            url: self.token_uri.clone(),
            body: form_body(&assertion).into(),
        })
    }
}

/// `grant_type=...&assertion=...`, form-encoded.
fn form_body(assertion: &SecretString) -> String {
    format!(
        "grant_type={}&assertion={}",
        utf8_percent_encode(GRANT_TYPE, FORM_VALUE),
        utf8_percent_encode(assertion.expose_secret(), FORM_VALUE)
    )
}

/// The token endpoint's answer (its HTTP status and body), received at `now`.
pub fn parse_token_response(
    status: u16,
    body: &[u8],
    now: SystemTime,
) -> Result<AccessToken, TokenResponseError> {
    let wire: TokenAnswerWire =
        serde_json::from_slice(body).map_err(|e| TokenResponseError::Malformed {
            status,
            detail: format!(
                "{e}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ),
        })?;
    if let Some(error) = wire.error {
        return Err(TokenResponseError::Rejected {
            status,
            error,
            description: wire.error_description,
        });
    }
    if !(200..300).contains(&status) {
        return Err(TokenResponseError::Rejected {
            status,
            error: "no token".to_owned(),
            description: None,
        });
    }
    let token: SecretString = wire
        .access_token
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| TokenResponseError::Malformed {
            status,
            detail: "no access_token".to_owned(),
        })?;
    let expires_in = wire
        .expires_in
        .ok_or_else(|| TokenResponseError::Malformed {
            status,
            detail: "no expires_in".to_owned(),
        })?;
    let expires_at = now
        .checked_add(Duration::from_secs(expires_in))
        .ok_or_else(|| TokenResponseError::Malformed {
            status,
            detail: format!("expires_in {expires_in} is out of range"),
        })?;
    Ok(AccessToken { token, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    /// A throwaway key made for these tests (see tests/fixtures/vertex/README.md).
    const TEST_KEY: &str = include_str!("../../../tests/fixtures/vertex/test-only-key.pem");
    const TEST_PUBLIC_KEY: &str =
        include_str!("../../../tests/fixtures/vertex/test-only-key.pub.pem");

    fn key_file(extra: serde_json::Value) -> Vec<u8> {
        let mut file = serde_json::json!({
            "type": "service_account",
            "project_id": "switchyard-test",
            "private_key_id": "0123456789abcdef",
            "private_key": TEST_KEY,
            "client_email": "vertex@switchyard-test.iam.gserviceaccount.com",
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        if let (Some(file), Some(extra)) = (file.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                file.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&file).unwrap()
    }

    /// The public key as PKCS#1 DER, from the PEM openssl wrote.
    fn public_key_der() -> Vec<u8> {
        let b64: String = TEST_PUBLIC_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn the_key_file_is_read() {
        let account = ServiceAccount::from_json(&key_file(serde_json::json!({}))).unwrap();
        assert_eq!(
            account.client_email,
            "vertex@switchyard-test.iam.gserviceaccount.com"
        );
        assert_eq!(account.private_key_id.as_deref(), Some("0123456789abcdef"));
        assert_eq!(account.token_uri, "https://oauth2.googleapis.com/token");
        assert_eq!(account.project_id.as_deref(), Some("switchyard-test"));
        let printed = format!("{account:?}");
        assert!(!printed.contains("PRIVATE KEY"), "{printed}");

        let custom = ServiceAccount::from_json(&key_file(serde_json::json!({
            "token_uri": "http://127.0.0.1:9999/token",
            "private_key_id": null,
        })))
        .unwrap();
        assert_eq!(custom.token_uri, "http://127.0.0.1:9999/token");
        assert_eq!(custom.private_key_id, None);
        let defaulted =
            ServiceAccount::from_json(&key_file(serde_json::json!({"token_uri": null}))).unwrap();
        assert_eq!(defaulted.token_uri, DEFAULT_TOKEN_URI);
    }

    #[test]
    fn unusable_key_files_are_refused() {
        assert!(matches!(
            ServiceAccount::from_json(&key_file(serde_json::json!({"type": "authorized_user"}))),
            Err(ServiceAccountError::NotServiceAccount(t)) if t == "authorized_user"
        ));
        assert!(matches!(
            ServiceAccount::from_json(&key_file(serde_json::json!({"private_key": "nope"}))),
            Err(ServiceAccountError::Pem(_))
        ));
        assert!(matches!(
            ServiceAccount::from_json(&key_file(
                serde_json::json!({"token_uri": "http://evil.example/token"})
            )),
            Err(ServiceAccountError::TokenUri(_))
        ));
        assert!(matches!(
            ServiceAccount::from_json(&key_file(
                serde_json::json!({"token_uri": "http://127.0.0.1.evil.example/token"})
            )),
            Err(ServiceAccountError::TokenUri(_))
        ));
        assert!(matches!(
            ServiceAccount::from_json(br#"{"client_email":"x"}"#),
            Err(ServiceAccountError::Json(_))
        ));
    }

    #[test]
    fn the_assertion_is_a_verifiable_rs256_jwt() {
        let account = ServiceAccount::from_json(&key_file(serde_json::json!({}))).unwrap();
        let jwt = account.assertion(at(1_760_000_000)).unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);

        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef"})
        );
        let claims: AssertionClaims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            AssertionClaims {
                iss: "vertex@switchyard-test.iam.gserviceaccount.com".to_owned(),
                scope: "https://www.googleapis.com/auth/cloud-platform".to_owned(),
                aud: "https://oauth2.googleapis.com/token".to_owned(),
                iat: 1_760_000_000,
                exp: 1_760_003_600,
            }
        );

        // Checked with the public key openssl derived, not with the signing key pair.
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_der());
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        let mut tampered = signed.clone().into_bytes();
        tampered[signed.len() - 1] ^= 1;
        assert!(public.verify(&tampered, &signature).is_err());
    }

    #[test]
    fn the_token_request_is_a_form() {
        let account = ServiceAccount::from_json(&key_file(serde_json::json!({}))).unwrap();
        let request = account.token_request(at(1_760_000_000)).unwrap();
        assert_eq!(request.url, "https://oauth2.googleapis.com/token");
        let body = request.body.expose_secret();
        let assertion = body
            .strip_prefix(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=",
            )
            .unwrap();
        // A JWT is base64url and dots: nothing in it needs encoding.
        assert_eq!(
            assertion,
            account
                .assertion(at(1_760_000_000))
                .unwrap()
                .expose_secret()
        );
        assert!(!format!("{request:?}").contains(assertion));
    }

    #[test]
    fn a_token_answer_becomes_a_token_with_an_expiry() {
        let now = at(1_760_000_000);
        let token = parse_token_response(
            200,
            br#"{"access_token":"ya29.c.abc","expires_in":3599,"token_type":"Bearer"}"#,
            now,
        )
        .unwrap();
        assert_eq!(token.token.expose_secret(), "ya29.c.abc");
        assert_eq!(token.expires_at, at(1_760_003_599));
        assert_eq!(token.bearer().expose_secret(), "Bearer ya29.c.abc");
        assert!(!format!("{token:?}").contains("ya29"));
    }

    #[test]
    fn refresh_starts_five_minutes_before_expiry() {
        let token = AccessToken {
            token: "t".into(),
            expires_at: at(10_000),
        };
        assert!(!token.needs_refresh(at(10_000 - 301)));
        assert!(token.needs_refresh(at(10_000 - 300)));
        assert!(token.needs_refresh(at(10_000)));
        assert!(token.needs_refresh(at(20_000)));
    }

    #[test]
    fn refusals_and_garbage_are_errors() {
        let now = at(0);
        assert_eq!(
            parse_token_response(
                400,
                br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
                now
            )
            .unwrap_err(),
            TokenResponseError::Rejected {
                status: 400,
                error: "invalid_grant".to_owned(),
                description: Some("Invalid JWT Signature.".to_owned())
            }
        );
        assert!(matches!(
            parse_token_response(502, b"<html>bad gateway</html>", now),
            Err(TokenResponseError::Malformed { status: 502, .. })
        ));
        assert!(matches!(
            parse_token_response(500, br#"{"access_token":"x","expires_in":1}"#, now),
            Err(TokenResponseError::Rejected { status: 500, .. })
        ));
        assert!(matches!(
            parse_token_response(200, br#"{"access_token":"x"}"#, now),
            Err(TokenResponseError::Malformed { .. })
        ));
        assert!(matches!(
            parse_token_response(200, br#"{"access_token":"","expires_in":5}"#, now),
            Err(TokenResponseError::Malformed { .. })
        ));
    }
}
