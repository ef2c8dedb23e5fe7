//! Authenticating a Bedrock request: AWS Signature Version 4 with an access key (the
//! computation is `aws-sigv4`'s, the crate the AWS SDKs sign with), or a Bedrock API key as a
//! bearer token.
//!
//! [`verify`] recomputes a signature from a known secret, for a fake Bedrock in tests: a
//! request whose canonical form differs from what was signed (another path encoding, a header
//! changed after signing, another body) fails it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// The signing name of Bedrock's runtime API.
pub const SERVICE: &str = "bedrock";

/// The last second `aws-sigv4` can write as a date (it panics past year 9999).
const LAST_SIGNABLE_SECOND: u64 = 253_402_300_799;

/// An AWS access key: long-term (`AKIA...`) or temporary with its session token (`ASIA...`).
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.is_some())
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    fn to_aws(&self) -> Credentials {
        Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose_secret().to_owned(),
            self.session_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            None,
            "switchyard",
        )
    }
}

/// How a Bedrock backend proves who it is.
#[derive(Debug, Clone)]
pub enum BedrockAuth {
    /// SigV4 with an access key.
    SigV4(AwsCredentials),
    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`), sent as `Authorization: Bearer`.
    ApiKey(SecretString),
}

/// What is signed: the request as it will be sent, minus the headers signing adds.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    pub method: &'a str,
    /// Absolute and already percent-encoded (as [`super::request::invoke_url`] makes it).
    pub url: &'a str,
    /// Headers sent and signed (`content-type`, `accept`...). `host` comes from the URL when
    /// absent; `authorization`, `user-agent`, `transfer-encoding`, `x-amzn-trace-id` are
    /// never signed.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Where and how a signature applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningScope<'a> {
    pub region: &'a str,
    /// The signing name: [`SERVICE`] for Bedrock.
    pub service: &'a str,
    /// Also send and sign `x-amz-content-sha256` (S3 needs it; Bedrock does not).
    pub content_sha256: bool,
}

impl<'a> SigningScope<'a> {
    /// Bedrock in `region`, signed as the AWS SDKs sign it.
    pub fn bedrock(region: &'a str) -> SigningScope<'a> {
        SigningScope {
            region,
            service: SERVICE,
            content_sha256: false,
        }
    }
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("cannot sign for {0:?}: not an absolute http(s) URL")]
    Url(String),
    #[error("cannot sign a request dated {0:?}: before 1970 or after 9999")]
    Time(SystemTime),
    #[error("cannot sign the request: {0}")]
    Signer(String),
    #[error("the signature is not a valid header value ({0})")]
    Header(String),
}

/// Why [`verify`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no {0} header")]
    Missing(&'static str),
    #[error("malformed {0} header")]
    Malformed(&'static str),
    #[error("signed with access key {0:?}, not the expected one")]
    WrongAccessKey(String),
    #[error("the session token is not the expected one")]
    WrongSessionToken,
    #[error("the signature does not match the request")]
    Mismatch,
    #[error("could not recompute the signature: {0}")]
    Recompute(String),
}

/// The headers to add for `auth`: SigV4's, or the bearer key.
pub fn auth_headers(
    auth: &BedrockAuth,
    request: &SignInput<'_>,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(HeaderName, HeaderValue)>, SignError> {
    match auth {
        BedrockAuth::SigV4(credentials) => {
            sign(request, credentials, &SigningScope::bedrock(region), time)
        }
        BedrockAuth::ApiKey(key) => Ok(vec![bearer(key)?]),
    }
}

/// `Authorization: Bearer <key>`, marked sensitive so it is never logged.
pub fn bearer(key: &SecretString) -> Result<(HeaderName, HeaderValue), SignError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", key.expose_secret())).map_err(|_| {
            SignError::Header("the API key has characters a header cannot carry".into())
        })?;
    value.set_sensitive(true);
    Ok((http::header::AUTHORIZATION, value))
}

/// SigV4-signs `request` at `time`. Returns the headers to add: `authorization`,
/// `x-amz-date`, and `x-amz-security-token` (temporary credentials) and
/// `x-amz-content-sha256` (when the scope asks) as they apply.
pub fn sign(
    request: &SignInput<'_>,
    credentials: &AwsCredentials,
    scope: &SigningScope<'_>,
    time: SystemTime,
) -> Result<Vec<(HeaderName, HeaderValue)>, SignError> {
    check_url(request.url)?;
    let signable_seconds = time
        .duration_since(UNIX_EPOCH)
        .is_ok_and(|d| d.as_secs() <= LAST_SIGNABLE_SECOND);
    if !signable_seconds {
        return Err(SignError::Time(time));
    }
    let identity = credentials.to_aws().into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = if scope.content_sha256 {
        PayloadChecksumKind::XAmzSha256
    } else {
        PayloadChecksumKind::NoHeader
    };
    let params: SigningParams<'_> = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| SignError::Signer(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| SignError::Signer(e.to_string()))?;
    let (instructions, _signature) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| SignError::Signer(e.to_string()))?
        .into_parts();
    let (headers, _params) = instructions.into_parts();
    headers
        .into_iter()
        .map(|header| {
            let name = HeaderName::from_bytes(header.name().as_bytes())
                .map_err(|e| SignError::Header(e.to_string()))?;
            let mut value = HeaderValue::from_str(header.value())
                .map_err(|e| SignError::Header(e.to_string()))?;
            value.set_sensitive(header.sensitive() || name == http::header::AUTHORIZATION);
            Ok((name, value))
        })
        .collect()
}

/// `aws-sigv4` panics on a URL without a host; refuse those first.
fn check_url(url: &str) -> Result<(), SignError> {
    let uri: http::Uri = url.parse().map_err(|_| SignError::Url(url.to_owned()))?;
    let has_host = uri.host().is_some_and(|h| !h.is_empty());
    match uri.scheme_str() {
        Some("https" | "http") if has_host => Ok(()),
        _ => Err(SignError::Url(url.to_owned())),
    }
}

/// The parts of a SigV4 `Authorization` header [`verify`] needs.
struct Presented<'a> {
    access_key_id: &'a str,
    signed_headers: Vec<&'a str>,
}

fn parse_authorization(value: &str) -> Option<Presented<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed_headers = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => {}
            _ => return None,
        }
    }
    let access_key_id = credential?.split('/').next()?;
    Some(Presented {
        access_key_id,
        signed_headers: signed_headers?.split(';').collect(),
    })
}

/// `20150830T123600Z` → the time it names.
fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let datetime = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", value)
        .ok()?
        .to_datetime()
        .ok()?;
    let stamp = jiff::tz::Offset::UTC.to_timestamp(datetime).ok()?;
    let seconds = u64::try_from(stamp.as_second()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

/// Whether `request` (as received: its headers include `authorization` and `x-amz-date`)
/// carries a valid SigV4 signature by `credentials` for `region` and `service`.
///
/// Only the headers the request says it signed are used, as AWS does: headers a client or
/// proxy adds afterwards (`user-agent`, `accept-encoding`) do not matter. `request.url` may
/// be a bare path (`/model/...`), as a server sees it; the `host` header then completes it.
/// How recent `x-amz-date` must be is the caller's rule.
pub fn verify(
    request: &SignInput<'_>,
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
) -> Result<(), VerifyError> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    };
    let authorization = header("authorization").ok_or(VerifyError::Missing("authorization"))?;
    let presented =
        parse_authorization(authorization).ok_or(VerifyError::Malformed("authorization"))?;
    if presented.access_key_id != credentials.access_key_id {
        return Err(VerifyError::WrongAccessKey(
            presented.access_key_id.to_owned(),
        ));
    }
    let date = header("x-amz-date").ok_or(VerifyError::Missing("x-amz-date"))?;
    let time = parse_amz_date(date).ok_or(VerifyError::Malformed("x-amz-date"))?;
    let sent_token = header("x-amz-security-token");
    let expected_token = credentials
        .session_token
        .as_ref()
        .map(|t| t.expose_secret());
    if sent_token != expected_token {
        return Err(VerifyError::WrongSessionToken);
    }

    // The signer adds these itself (from the credentials, the time and the body).
    let added_by_signer = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    let signed: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            !added_by_signer.contains(&lower.as_str())
                && presented.signed_headers.contains(&lower.as_str())
        })
        .copied()
        .collect();
    let url = if request.url.starts_with('/') {
        let host = header("host").ok_or(VerifyError::Missing("host"))?;
        format!("http://{host}{}", request.url)
    } else {
        request.url.to_owned()
    };
    let scope = SigningScope {
        region,
        service,
        content_sha256: presented.signed_headers.contains(&"x-amz-content-sha256"),
    };
    let recomputed = sign(
        &SignInput {
            method: request.method,
            url: &url,
            headers: &signed,
            body: request.body,
        },
        credentials,
        &scope,
        time,
    )
    .map_err(|e| VerifyError::Recompute(e.to_string()))?;
    let expected = recomputed
        .iter()
        .find(|(name, _)| name == http::header::AUTHORIZATION)
        .map(|(_, value)| value.as_bytes())
        .ok_or_else(|| VerifyError::Recompute("no authorization header was produced".into()))?;
    let matches: bool = subtle::ConstantTimeEq::ct_eq(expected, authorization.as_bytes()).into();
    if matches {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// One case of the AWS SigV4 test suite, as copied under `tests/fixtures/sigv4/`.
    struct SuiteCase {
        name: &'static str,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        /// The headers the signed request has beyond the request's, lowercased names.
        added: Vec<(String, String)>,
        credentials: AwsCredentials,
        region: String,
        service: String,
        time: SystemTime,
        content_sha256: bool,
    }

    fn fixture_dir(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sigv4")
            .join(name)
    }

    /// `METHOD PATH HTTP/1.1`, `Name:value` lines, a blank line, the body.
    fn parse_http(text: &str) -> (String, String, Vec<(String, String)>, Vec<u8>) {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((text.as_str(), ""));
        let mut lines = head.lines();
        let mut start = lines.next().unwrap().split(' ');
        let method = start.next().unwrap().to_owned();
        let path = start.next().unwrap().to_owned();
        let headers = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (name, value) = l.split_once(':').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect();
        (method, path, headers, body.trim_end().as_bytes().to_vec())
    }

    fn load(name: &'static str) -> SuiteCase {
        let dir = fixture_dir(name);
        let context: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("context.json")).unwrap())
                .unwrap();
        let (method, path, all_headers, body) =
            parse_http(&std::fs::read_to_string(dir.join("request.txt")).unwrap());
        let host = all_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map(|(_, v)| v.clone())
            .unwrap();
        let headers: Vec<(String, String)> = all_headers
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("host"))
            .collect();
        let (_, _, signed_headers, _) =
            parse_http(&std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap());
        let mut remaining = headers.clone();
        let mut added = Vec::new();
        for (n, v) in signed_headers {
            if n.eq_ignore_ascii_case("host") {
                continue;
            }
            match remaining.iter().position(|(rn, rv)| rn == &n && rv == &v) {
                Some(i) => {
                    remaining.remove(i);
                }
                None => added.push((n.to_ascii_lowercase(), v.trim().to_owned())),
            }
        }
        let creds = &context["credentials"];
        let stamp: jiff::Timestamp = context["timestamp"].as_str().unwrap().parse().unwrap();
        SuiteCase {
            name,
            method,
            url: format!("https://{host}{path}"),
            headers,
            body,
            added,
            credentials: AwsCredentials {
                access_key_id: creds["access_key_id"].as_str().unwrap().to_owned(),
                secret_access_key: creds["secret_access_key"].as_str().unwrap().into(),
                session_token: creds["token"].as_str().map(SecretString::from),
            },
            region: context["region"].as_str().unwrap().to_owned(),
            service: context["service"].as_str().unwrap().to_owned(),
            time: UNIX_EPOCH + Duration::from_secs(stamp.as_second().try_into().unwrap()),
            content_sha256: context["sign_body"].as_bool().unwrap_or(true),
        }
    }

    impl SuiteCase {
        fn header_refs(&self) -> Vec<(&str, &str)> {
            self.headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect()
        }

        fn scope(&self) -> SigningScope<'_> {
            SigningScope {
                region: &self.region,
                service: &self.service,
                content_sha256: self.content_sha256,
            }
        }

        fn sign(&self) -> Vec<(String, String)> {
            let headers = self.header_refs();
            let input = SignInput {
                method: &self.method,
                url: &self.url,
                headers: &headers,
                body: &self.body,
            };
            let mut out: Vec<(String, String)> =
                sign(&input, &self.credentials, &self.scope(), self.time)
                    .unwrap_or_else(|e| panic!("{}: {e}", self.name))
                    .into_iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
                    .collect();
            out.sort();
            out
        }

        /// The request as a server receives it: its own headers plus the signature's.
        fn received(&self, added: &[(String, String)]) -> Vec<(String, String)> {
            let host = self.url.trim_start_matches("https://");
            let host = &host[..host.find('/').unwrap()];
            let mut all = vec![("Host".to_owned(), host.to_owned())];
            all.extend(self.headers.iter().cloned());
            all.extend(added.iter().cloned());
            all
        }

        fn verify_with(
            &self,
            url: &str,
            headers: &[(String, String)],
            body: &[u8],
        ) -> Result<(), VerifyError> {
            let refs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            verify(
                &SignInput {
                    method: &self.method,
                    url,
                    headers: &refs,
                    body,
                },
                &self.credentials,
                &self.region,
                &self.service,
            )
        }
    }

    const SUITE: &[&str] = &[
        "get-vanilla",
        "post-vanilla",
        "post-x-www-form-urlencoded",
        "post-x-www-form-urlencoded-parameters",
        "get-vanilla-query-order-key-case",
        "get-vanilla-query-unreserved",
        "get-vanilla-with-session-token",
        "get-header-key-duplicate",
        "get-header-value-trim",
        "post-header-key-sort",
        "post-header-value-case",
        "get-slashes-normalized",
    ];

    #[test]
    fn the_aws_test_suite_signs_as_published() {
        for name in SUITE {
            let case = load(name);
            let mut expected = case.added.clone();
            expected.sort();
            assert!(
                expected.iter().any(|(n, _)| n == "authorization"),
                "{name}: the fixture has no signature"
            );
            assert_eq!(case.sign(), expected, "{name}");
        }
    }

    #[test]
    fn the_suites_signed_requests_verify() {
        for name in SUITE {
            let case = load(name);
            let received = case.received(&case.added);
            assert_eq!(
                case.verify_with(&case.url, &received, &case.body),
                Ok(()),
                "{name}"
            );
            // As a server sees it: a bare path and a Host header.
            let path = &case.url[case.url.find(".com").unwrap() + 4..];
            assert_eq!(
                case.verify_with(path, &received, &case.body),
                Ok(()),
                "{name}"
            );
        }
    }

    #[test]
    fn a_changed_request_fails_verification() {
        let case = load("post-x-www-form-urlencoded");
        let received = case.received(&case.added);
        assert_eq!(
            case.verify_with(&case.url, &received, b"Param1=value2"),
            Err(VerifyError::Mismatch),
            "another body"
        );
        assert_eq!(
            case.verify_with(&format!("{}x", case.url), &received, &case.body),
            Err(VerifyError::Mismatch),
            "another path"
        );
        let mut changed = received.clone();
        for (n, v) in &mut changed {
            if n == "Content-Type" {
                *v = "application/json".to_owned();
            }
        }
        assert_eq!(
            case.verify_with(&case.url, &changed, &case.body),
            Err(VerifyError::Mismatch),
            "a signed header changed"
        );
        // A header that was not signed may come and go.
        let mut extra = received.clone();
        extra.push(("User-Agent".to_owned(), "curl/8".to_owned()));
        extra.push(("Accept-Encoding".to_owned(), "gzip".to_owned()));
        assert_eq!(case.verify_with(&case.url, &extra, &case.body), Ok(()));

        let mut wrong_secret = load("post-x-www-form-urlencoded");
        wrong_secret.credentials.secret_access_key = "not-the-secret".into();
        assert_eq!(
            wrong_secret.verify_with(&case.url, &received, &case.body),
            Err(VerifyError::Mismatch)
        );
        let mut other_key = load("post-x-www-form-urlencoded");
        other_key.credentials.access_key_id = "AKIDOTHER".to_owned();
        assert_eq!(
            other_key.verify_with(&case.url, &received, &case.body),
            Err(VerifyError::WrongAccessKey("AKIDEXAMPLE".to_owned()))
        );
    }

    #[test]
    fn session_tokens_are_checked() {
        let case = load("get-vanilla-with-session-token");
        let received = case.received(&case.added);
        let without: Vec<(String, String)> = received
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("x-amz-security-token"))
            .cloned()
            .collect();
        assert_eq!(
            case.verify_with(&case.url, &without, &case.body),
            Err(VerifyError::WrongSessionToken)
        );
    }

    #[test]
    fn verification_names_what_is_missing() {
        let case = load("get-vanilla");
        assert_eq!(
            case.verify_with(&case.url, &[], &case.body),
            Err(VerifyError::Missing("authorization"))
        );
        let bad = vec![("Authorization".to_owned(), "Basic abc".to_owned())];
        assert_eq!(
            case.verify_with(&case.url, &bad, &case.body),
            Err(VerifyError::Malformed("authorization"))
        );
    }

    /// The AWS SDK case closest to Bedrock's model ids: a path label holding `:` as `%3A`,
    /// which the canonical request must hold as `%253A` (aws-sigv4's `double-url-encode`).
    #[test]
    fn an_encoded_colon_is_signed_double_encoded() {
        let dir = fixture_dir("double-url-encode");
        let (method, path, headers, _) =
            parse_http(&std::fs::read_to_string(dir.join("request.txt")).unwrap());
        let canonical = std::fs::read_to_string(dir.join("header-canonical-request.txt")).unwrap();
        let canonical_path = canonical.lines().nth(1).unwrap();
        assert_eq!(canonical_path, path.replace('%', "%25"));

        // Signing then verifying proves nothing about encoding (both sides use the signer):
        // the signature must be the published one.
        let (_, _, signed, _) =
            parse_http(&std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap());
        let published = signed
            .iter()
            .find(|(n, _)| n == "Authorization")
            .map(|(_, v)| v.trim().to_owned())
            .unwrap();
        let host = headers.iter().find(|(n, _)| n == "Host").unwrap().1.clone();
        let creds = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let time = parse_amz_date("20210511T154045Z").unwrap();
        let out = sign(
            &SignInput {
                method: &method,
                url: &format!("https://{host}{path}"),
                headers: &[],
                body: b"",
            },
            &creds,
            &SigningScope {
                region: "us-east-2",
                service: "lambda",
                content_sha256: false,
            },
            time,
        )
        .unwrap();
        let ours = out
            .iter()
            .find(|(n, _)| n == http::header::AUTHORIZATION)
            .unwrap()
            .1
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(ours, published);
    }

    #[test]
    fn a_bedrock_request_signs_and_verifies() {
        let creds = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: Some("token".into()),
        };
        let url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke";
        let body = br#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":1,"messages":[]}"#;
        let headers = [("content-type", "application/json")];
        let time = UNIX_EPOCH + Duration::from_secs(1_760_000_000);
        let input = SignInput {
            method: "POST",
            url,
            headers: &headers,
            body,
        };
        let added = auth_headers(
            &BedrockAuth::SigV4(creds.clone()),
            &input,
            "us-east-1",
            time,
        )
        .unwrap();
        let mut names: Vec<&str> = added.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["authorization", "x-amz-date", "x-amz-security-token"]
        );
        let authorization = added
            .iter()
            .find(|(n, _)| n == http::header::AUTHORIZATION)
            .unwrap()
            .1
            .to_str()
            .unwrap();
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251009/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="
            ),
            "{authorization}"
        );
        assert!(
            added
                .iter()
                .all(|(n, v)| n == "x-amz-date" || v.is_sensitive())
        );

        let mut received: Vec<(String, String)> = vec![
            (
                "host".to_owned(),
                "bedrock-runtime.us-east-1.amazonaws.com".to_owned(),
            ),
            ("content-type".to_owned(), "application/json".to_owned()),
            ("content-length".to_owned(), body.len().to_string()),
        ];
        received.extend(
            added
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())),
        );
        let refs: Vec<(&str, &str)> = received
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let path = &url[url.find("/model").unwrap()..];
        fn as_received<'a>(
            path: &'a str,
            headers: &'a [(&'a str, &'a str)],
            body: &'a [u8],
        ) -> SignInput<'a> {
            SignInput {
                method: "POST",
                url: path,
                headers,
                body,
            }
        }
        assert_eq!(
            verify(
                &as_received(path, &refs, body),
                &creds,
                "us-east-1",
                SERVICE
            ),
            Ok(())
        );
        // The model id sent unencoded is another canonical request.
        let unencoded = path.replace("%3A", ":");
        assert_eq!(
            verify(
                &as_received(&unencoded, &refs, body),
                &creds,
                "us-east-1",
                SERVICE
            ),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(
                &as_received(path, &refs, body),
                &creds,
                "us-west-2",
                SERVICE
            ),
            Err(VerifyError::Mismatch)
        );
    }

    /// What a fake Bedrock on a loopback port sees: a bare path and `Host` with the port.
    #[test]
    fn a_request_to_a_local_port_verifies_from_its_path_and_host() {
        let creds = AwsCredentials {
            access_key_id: "AKIDLOCAL".to_owned(),
            secret_access_key: "local-secret".into(),
            session_token: None,
        };
        let url = "http://127.0.0.1:9000/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream";
        let body = br#"{"anthropic_version":"bedrock-2023-05-31","messages":[]}"#;
        let headers = [("content-type", "application/json")];
        let input = SignInput {
            method: "POST",
            url,
            headers: &headers,
            body,
        };
        let time = SystemTime::now();
        let added = sign(&input, &creds, &SigningScope::bedrock("eu-west-1"), time).unwrap();
        let mut received = vec![
            ("Host".to_owned(), "127.0.0.1:9000".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ];
        received.extend(
            added
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned())),
        );
        let refs: Vec<(&str, &str)> = received
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let check = |host: &str| {
            let mut refs = refs.clone();
            refs[0].1 = host;
            verify(
                &SignInput {
                    method: "POST",
                    url: &url["http://127.0.0.1:9000".len()..],
                    headers: &refs,
                    body,
                },
                &creds,
                "eu-west-1",
                SERVICE,
            )
        };
        assert_eq!(check("127.0.0.1:9000"), Ok(()));
        assert_eq!(check("127.0.0.1:9001"), Err(VerifyError::Mismatch));
    }

    #[test]
    fn an_api_key_is_a_bearer_token() {
        let input = SignInput {
            method: "POST",
            url: "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/invoke",
            headers: &[],
            body: b"{}",
        };
        let added = auth_headers(
            &BedrockAuth::ApiKey("ABSKexample".into()),
            &input,
            "us-east-1",
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].0, http::header::AUTHORIZATION);
        assert_eq!(added[0].1, "Bearer ABSKexample");
        assert!(added[0].1.is_sensitive());
        assert!(matches!(
            bearer(&"bad\nkey".into()),
            Err(SignError::Header(_))
        ));
    }

    #[test]
    fn unsignable_requests_are_refused_not_panicked_on() {
        let creds = AwsCredentials {
            access_key_id: "AKID".to_owned(),
            secret_access_key: "secret".into(),
            session_token: None,
        };
        let scope = SigningScope::bedrock("us-east-1");
        for url in [
            "/model/m/invoke",
            "bedrock.example/x",
            "ftp://host/x",
            "https:///x",
        ] {
            let input = SignInput {
                method: "POST",
                url,
                headers: &[],
                body: b"",
            };
            assert!(
                matches!(
                    sign(&input, &creds, &scope, SystemTime::now()),
                    Err(SignError::Url(_))
                ),
                "{url}"
            );
        }
        let input = SignInput {
            method: "POST",
            url: "https://h/x",
            headers: &[],
            body: b"",
        };
        let far = UNIX_EPOCH + Duration::from_secs(LAST_SIGNABLE_SECOND + 1);
        assert!(matches!(
            sign(&input, &creds, &scope, far),
            Err(SignError::Time(_))
        ));
        let bad_header = [("x-bad", "line\nbreak")];
        let input = SignInput {
            headers: &bad_header,
            ..input
        };
        assert!(matches!(
            sign(&input, &creds, &scope, SystemTime::now()),
            Err(SignError::Signer(_))
        ));
    }

    #[test]
    fn credentials_do_not_print_their_secrets() {
        let creds = AwsCredentials {
            access_key_id: "AKID".to_owned(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
        };
        let printed = format!("{creds:?}");
        assert!(printed.contains("AKID"));
        assert!(!printed.contains("very-secret"));
        assert!(!printed.contains("token-secret"));
    }
}
