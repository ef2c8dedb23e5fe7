//! The fake as Claude on Amazon Bedrock or Google Vertex AI: the checks those clouds make
//! before they let a request reach Claude, and their framing of the answer.
//!
//! Written from the clouds' documentation with the AWS SDK's own crates (`aws-sigv4` to
//! recompute a signature, `aws-smithy-eventstream` to frame), not with `switchyard-core`,
//! which it judges.
//!
//! - Bedrock: `POST /model/{id}/invoke[-with-response-stream]`, `GET /foundation-models`.
//!   SigV4 recomputed from the known secret over the request as received (only the headers
//!   it says it signed), or a Bedrock API key as a bearer token; `anthropic_version`
//!   `bedrock-2023-05-31`, no `model`, no `stream` in the body. Streams are AWS event-stream
//!   frames whose `chunk` payloads carry each Anthropic event in base64.
//! - Vertex: `POST /token` verifies the service account's RS256 JWT assertion with its public
//!   key and claims and issues an access token; `POST /v1/projects/{p}/locations/{r}/
//!   publishers/anthropic/models/{m}:rawPredict|streamRawPredict` takes only a token it
//!   issued, `anthropic_version` `vertex-2023-10-16`, no `model`, `stream` matching the method;
//!   `GET /v1/projects/{p}/locations/{r}/endpoints` (the backend check's call) answers `{}`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use axum::http::HeaderMap;
use base64::Engine as _;
use serde_json::{Value, json};

/// The AWS credentials the fake Bedrock knows.
#[derive(Debug, Clone)]
pub struct AwsKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub region: String,
}

/// How the fake Bedrock lets requests in.
#[derive(Debug, Clone)]
pub enum BedrockAuth {
    SigV4(AwsKeys),
    ApiKey(String),
}

/// The service account the fake Vertex issues tokens to.
#[derive(Debug, Clone)]
pub struct VertexAccount {
    pub client_email: String,
    /// PKCS#1 DER of the account's public key.
    pub public_key_der: Vec<u8>,
    pub project: String,
    pub region: String,
}

/// Which cloud the fake is.
#[derive(Debug, Clone)]
pub enum Cloud {
    Bedrock(BedrockAuth),
    Vertex(VertexAccount),
}

/// `-----BEGIN RSA PUBLIC KEY-----` PEM → DER.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| format!("not a PEM key: {e}"))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `20150830T123600Z` → that time.
fn amz_date(text: &str) -> Option<SystemTime> {
    let time = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", text)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt))
        .ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(time.as_second()).ok()?))
}

/// Whether a Bedrock request (method, path with query, headers and body as received) is
/// authenticated as `auth` says; `Err` is why not.
pub fn check_bedrock_auth(
    auth: &BedrockAuth,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let authorization = header(headers, "authorization").ok_or("no authorization header")?;
    let keys = match auth {
        BedrockAuth::ApiKey(key) => {
            return match authorization.strip_prefix("Bearer ") {
                Some(sent) if sent == key => Ok(()),
                _ => Err("not the Bedrock API key".to_owned()),
            };
        }
        BedrockAuth::SigV4(keys) => keys,
    };
    let rest = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not a SigV4 authorization")?;
    let mut signed_headers: Vec<&str> = Vec::new();
    let mut credential = "";
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = value,
            Some(("SignedHeaders", value)) => signed_headers = value.split(';').collect(),
            _ => {}
        }
    }
    let scope: Vec<&str> = credential.split('/').collect();
    match scope.as_slice() {
        [key, _, region, "bedrock", "aws4_request"]
            if *key == keys.access_key_id && *region == keys.region => {}
        _ => return Err(format!("credential scope {credential:?}")),
    }
    if header(headers, "x-amz-security-token") != keys.session_token.as_deref() {
        return Err("x-amz-security-token is not the session token".to_owned());
    }
    let time = header(headers, "x-amz-date")
        .and_then(amz_date)
        .ok_or("no or bad x-amz-date")?;
    let skew = SystemTime::now()
        .duration_since(time)
        .unwrap_or_else(|e| e.duration());
    if skew > Duration::from_secs(300) {
        return Err(format!("x-amz-date is {} s off", skew.as_secs()));
    }
    // The request as the client signed it: the headers it lists, minus those signing adds.
    let added = [
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    let host = header(headers, "host").ok_or("no host header")?;
    let signed: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            signed_headers.contains(&name) && !added.contains(&name) && name != "host"
        })
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let url = format!("http://{host}{path_and_query}");
    let identity = Credentials::new(
        keys.access_key_id.clone(),
        keys.secret_access_key.clone(),
        keys.session_token.clone(),
        None,
        "fake-upstream",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&keys.region)
        .name("bedrock")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable =
        SignableRequest::new(method, &url, signed.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let (expected, _) = instructions.into_parts();
    let expected = expected
        .iter()
        .find(|h| h.name() == "authorization")
        .map(|h| h.value().to_owned())
        .ok_or("no signature recomputed")?;
    if expected == authorization {
        Ok(())
    } else {
        Err("the signature does not match the request".to_owned())
    }
}

/// `/model/{id}/invoke` → (the decoded model id, streamed?).
pub fn invoke_path(path: &str) -> Option<(String, bool)> {
    let rest = path.strip_prefix("/model/")?;
    let (id, action) = rest.split_once('/')?;
    let stream = match action {
        "invoke" => false,
        "invoke-with-response-stream" => true,
        _ => return None,
    };
    // AWS encodes the id as one path label: a raw `:` or `/` means it was not.
    if id.contains(':') || id.is_empty() {
        return None;
    }
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some((id, stream))
}

/// A cloud body made into the Messages request the script reads: `anthropic_version` as the
/// cloud wants it, no `model` (the URL names it), `stream` as the cloud carries it.
pub fn messages_body(
    body: &[u8],
    version: &str,
    model: &str,
    stream: bool,
    stream_in_body: bool,
) -> Result<Value, String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let object = value.as_object_mut().ok_or("not a JSON object")?;
    if object.get("anthropic_version").and_then(Value::as_str) != Some(version) {
        return Err(format!(
            "anthropic_version is {:?}, not {version:?}",
            object.get("anthropic_version")
        ));
    }
    if object.contains_key("model") {
        return Err("the body has a model (the URL names it)".to_owned());
    }
    match (stream_in_body, object.get("stream")) {
        (false, Some(_)) => return Err("the body has stream (the URL says it)".to_owned()),
        (true, sent) if sent.and_then(Value::as_bool).unwrap_or(false) != stream => {
            return Err(format!("stream {sent:?} does not match the method"));
        }
        _ => {}
    }
    object.insert("model".to_owned(), json!(model));
    object.insert("stream".to_owned(), json!(stream));
    Ok(value)
}

fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Result<Vec<u8>, String> {
    use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
    let mut message = Message::new(payload.to_vec());
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// One Anthropic event (its JSON) as Bedrock's `chunk` frame.
pub fn chunk_frame(event_json: &[u8]) -> Result<Vec<u8>, String> {
    let payload = json!({
        "bytes": base64::engine::general_purpose::STANDARD.encode(event_json),
        "p": "abcdefghijklmnopqrstuvwxyz",
    });
    frame(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

fn b64url(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| e.to_string())
}

/// Whether a token request (`application/x-www-form-urlencoded`) carries an assertion the
/// account signed, for this token endpoint, now.
pub fn check_assertion(account: &VertexAccount, form: &str, token_uri: &str) -> Result<(), String> {
    let field = |name: &str| {
        form.split('&')
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .map(|v| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
    };
    if field("grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return Err("grant_type is not jwt-bearer".to_owned());
    }
    let jwt = field("assertion").ok_or("no assertion")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, signature] = parts.as_slice() else {
        return Err("the assertion is not a JWT".to_owned());
    };
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &account.public_key_der,
    );
    key.verify(format!("{head}.{claims}").as_bytes(), &b64url(signature)?)
        .map_err(|_| "the assertion's signature does not verify".to_owned())?;
    let head: Value = serde_json::from_slice(&b64url(head)?).map_err(|e| e.to_string())?;
    if head["alg"] != "RS256" {
        return Err(format!("alg {}", head["alg"]));
    }
    let claims: Value = serde_json::from_slice(&b64url(claims)?).map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let checks = [
        (claims["iss"] == account.client_email.as_str(), "iss"),
        (claims["aud"] == token_uri, "aud"),
        (
            claims["scope"] == "https://www.googleapis.com/auth/cloud-platform",
            "scope",
        ),
        (
            claims["exp"]
                .as_u64()
                .is_some_and(|exp| exp > now && exp <= now + 3700),
            "exp",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, claim)) => Err(format!("the assertion's {claim} claim is wrong")),
        None => Ok(()),
    }
}

/// `/v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:{method}` → (model,
/// streamed?) when project and region are the account's.
pub fn predict_path(account: &VertexAccount, path: &str) -> Result<(String, bool), String> {
    let prefix = format!(
        "/v1/projects/{}/locations/{}/publishers/anthropic/models/",
        account.project, account.region
    );
    let rest = path
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("not {prefix}...: {path}"))?;
    let (model, method) = rest
        .split_once(':')
        .ok_or_else(|| format!("no method in {path}"))?;
    let stream = match method {
        "rawPredict" => false,
        "streamRawPredict" => true,
        other => return Err(format!("method {other}")),
    };
    if model.is_empty() || model.contains('/') {
        return Err(format!("model {model:?}"));
    }
    Ok((model.to_owned(), stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_paths_must_carry_an_encoded_model_id() {
        assert_eq!(
            invoke_path("/model/us.anthropic.claude-x-v1%3A0/invoke-with-response-stream"),
            Some(("us.anthropic.claude-x-v1:0".to_owned(), true))
        );
        assert_eq!(
            invoke_path("/model/anthropic.claude-x-v1%3A0/invoke"),
            Some(("anthropic.claude-x-v1:0".to_owned(), false))
        );
        assert_eq!(invoke_path("/model/anthropic.claude-x-v1:0/invoke"), None);
        assert_eq!(invoke_path("/model/a/b/invoke"), None);
        assert_eq!(invoke_path("/v1/messages"), None);
    }

    #[test]
    fn cloud_bodies_are_checked_and_completed() {
        let ok = messages_body(
            br#"{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[]}"#,
            "bedrock-2023-05-31",
            "m",
            true,
            false,
        )
        .unwrap();
        assert_eq!(
            (ok["model"].as_str(), ok["stream"].as_bool()),
            (Some("m"), Some(true))
        );
        for bad in [
            r#"{"anthropic_version":"2023-06-01","messages":[]}"#,
            r#"{"anthropic_version":"bedrock-2023-05-31","model":"x","messages":[]}"#,
            r#"{"anthropic_version":"bedrock-2023-05-31","stream":true,"messages":[]}"#,
        ] {
            assert!(
                messages_body(bad.as_bytes(), "bedrock-2023-05-31", "m", true, false).is_err(),
                "{bad}"
            );
        }
        // Vertex keeps `stream` in the body: it must match the method.
        assert!(
            messages_body(
                br#"{"anthropic_version":"vertex-2023-10-16","stream":false,"messages":[]}"#,
                "vertex-2023-10-16",
                "m",
                true,
                true
            )
            .is_err()
        );
    }

    #[test]
    fn a_signature_made_with_the_secret_verifies_and_one_without_does_not() {
        let keys = AwsKeys {
            access_key_id: "AKIDFAKE".to_owned(),
            secret_access_key: "fake/secret".to_owned(),
            session_token: None,
            region: "us-east-1".to_owned(),
        };
        let signed = |secret: &str| {
            let identity = Credentials::new("AKIDFAKE", secret, None, None, "test").into();
            let mut settings = SigningSettings::default();
            settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
            let params = v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name("bedrock")
                .time(SystemTime::now())
                .settings(settings)
                .build()
                .unwrap()
                .into();
            let request = SignableRequest::new(
                "POST",
                "http://127.0.0.1:9/model/m/invoke",
                [("content-type", "application/json")].into_iter(),
                SignableBody::Bytes(b"{}"),
            )
            .unwrap();
            let (instructions, _) = sign(request, &params).unwrap().into_parts();
            let (added, _) = instructions.into_parts();
            let mut headers = HeaderMap::new();
            headers.insert("host", "127.0.0.1:9".parse().unwrap());
            headers.insert("content-type", "application/json".parse().unwrap());
            for header in added {
                headers.insert(
                    axum::http::HeaderName::from_bytes(header.name().as_bytes()).unwrap(),
                    header.value().parse().unwrap(),
                );
            }
            headers
        };
        let auth = BedrockAuth::SigV4(keys);
        assert_eq!(
            check_bedrock_auth(
                &auth,
                "POST",
                "/model/m/invoke",
                &signed("fake/secret"),
                b"{}"
            ),
            Ok(())
        );
        assert!(
            check_bedrock_auth(&auth, "POST", "/model/m/invoke", &signed("other"), b"{}").is_err()
        );
        assert!(
            check_bedrock_auth(
                &auth,
                "POST",
                "/model/m/invoke",
                &signed("fake/secret"),
                b"{ }"
            )
            .is_err()
        );
    }
}
