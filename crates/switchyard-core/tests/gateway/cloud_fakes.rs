//! A fake Bedrock and a fake Vertex AI, checking what the real ones would check.
//!
//! Bedrock: the SigV4 signature, recomputed from the known test secret over the request as
//! received (`bedrock::sign::verify`: a wrong canonical request, path encoding, header or body
//! fails), `x-amz-date` within five minutes, the URL shape, `anthropic_version`, no `model` and
//! no `stream` in the body; it answers in AWS event-stream framing, written here with the
//! smithy frame writer, cut into pieces that split frames anywhere.
//!
//! Vertex: a token endpoint that verifies the service account's RS256 assertion with the test
//! key's public half and its claims, and issues tokens; the model endpoint accepts only a
//! token it issued, and checks the URL shape, `anthropic_version` and that `model` is gone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use switchyard_core::backends::bedrock::AwsCredentials;
use switchyard_core::backends::bedrock::sign::{self, SignInput};

pub const AWS_KEY_ID: &str = "AKIDSWITCHYARDTEST01";
/// The canary: it must reach no database, capture, export or log.
pub const AWS_SECRET: &str = "canary/AwsSecretKey+SwitchyardTest0123456";
pub const AWS_SESSION: &str = "canary-aws-session-token-0123456789";
pub const AWS_REGION: &str = "us-east-1";
/// A Bedrock API key (bearer).
pub const BEDROCK_API_KEY: &str = "ABSKcanaryBedrockApiKey0123456789";

pub const SA_EMAIL: &str = "vertex@switchyard-test.iam.gserviceaccount.com";
pub const VERTEX_PROJECT: &str = "switchyard-test";
pub const VERTEX_REGION: &str = "us-east5";
/// The test-only key (see tests/fixtures/vertex/README.md).
pub const SA_PRIVATE_KEY: &str = include_str!("../fixtures/vertex/test-only-key.pem");
const SA_PUBLIC_KEY: &str = include_str!("../fixtures/vertex/test-only-key.pub.pem");

/// A line from the middle of the private key: what a leak would show.
pub fn private_key_canary() -> &'static str {
    SA_PRIVATE_KEY.lines().nth(5).unwrap()
}

/// The three credentials, in the `ID:SECRET:TOKEN` form a Bedrock backend stores.
pub fn aws_stored() -> String {
    format!("{AWS_KEY_ID}:{AWS_SECRET}:{AWS_SESSION}")
}

/// A service account's key file whose `token_uri` is the fake's.
pub fn service_account_json(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": VERTEX_PROJECT,
        "private_key_id": "0123456789abcdef",
        "private_key": SA_PRIVATE_KEY,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": token_uri,
    })
    .to_string()
}

/// What a fake received, and whether it passed the checks (`Err`: why not).
#[derive(Debug, Clone)]
pub struct CloudSeen {
    pub method: String,
    /// As received: still percent-encoded.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub verdict: Result<(), String>,
}

impl CloudSeen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One programmed answer of a fake model endpoint.
#[derive(Clone)]
pub enum CloudReply {
    /// A complete Messages response (JSON).
    Message(String),
    /// These Anthropic events (each its JSON), streamed in the cloud's framing and cut into
    /// pieces of this many bytes.
    Events(Vec<String>, usize),
    /// Bedrock: the events, then an exception frame (name, message) inside the 200 stream.
    EventsThenException(Vec<String>, &'static str, String),
    /// An error answer: status, Bedrock's `x-amzn-errortype` (ignored by Vertex), body.
    Error(u16, &'static str, String),
}

/// How the fake Bedrock expects to be authenticated.
#[derive(Clone)]
pub enum AwsExpect {
    SigV4(AwsCredentials),
    Bearer(String),
}

#[derive(Clone)]
pub struct FakeBedrock {
    pub seen: Arc<Mutex<Vec<CloudSeen>>>,
    replies: Arc<Mutex<VecDeque<CloudReply>>>,
    expect: Arc<Mutex<AwsExpect>>,
}

impl FakeBedrock {
    pub fn push(&self, reply: CloudReply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    pub fn seen(&self) -> Vec<CloudSeen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn expect(&self, expect: AwsExpect) {
        *self.expect.lock().unwrap() = expect;
    }
}

/// The test credentials, as the fake Bedrock knows them.
pub fn test_credentials() -> AwsCredentials {
    AwsCredentials {
        access_key_id: AWS_KEY_ID.to_owned(),
        secret_access_key: AWS_SECRET.to_owned().into(),
        session_token: Some(AWS_SESSION.to_owned().into()),
    }
}

pub async fn fake_bedrock() -> (SocketAddr, FakeBedrock) {
    let fake = FakeBedrock {
        seen: Arc::default(),
        replies: Arc::default(),
        expect: Arc::new(Mutex::new(AwsExpect::SigV4(test_credentials()))),
    };
    let app = Router::new().fallback(bedrock).with_state(fake.clone());
    (serve(app).await, fake)
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn json_response(status: u16, headers: &[(&str, &str)], body: String) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body)).unwrap()
}

fn aws_error(status: u16, name: &str, message: &str) -> Response {
    json_response(
        status,
        &[("x-amzn-errortype", name)],
        json!({ "message": message }).to_string(),
    )
}

/// Whether the request carries a good signature (or key) made within five minutes.
fn check_auth(
    expect: &AwsExpect,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    match expect {
        AwsExpect::Bearer(key) => {
            let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
            if sent == Some(format!("Bearer {key}").as_str()) {
                Ok(())
            } else {
                Err("not the expected Bedrock API key".to_owned())
            }
        }
        AwsExpect::SigV4(credentials) => {
            let date = headers
                .get("x-amz-date")
                .and_then(|v| v.to_str().ok())
                .ok_or("no x-amz-date")?;
            let signed_at = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", date)
                .and_then(|t| t.to_datetime())
                .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt))
                .map_err(|e| format!("x-amz-date: {e}"))?;
            let skew = (jiff::Timestamp::now().as_second() - signed_at.as_second()).abs();
            if skew > 300 {
                return Err(format!("x-amz-date is {skew} s off"));
            }
            sign::verify(
                &SignInput {
                    method,
                    url: path,
                    headers: &refs,
                    body,
                },
                credentials,
                AWS_REGION,
                sign::SERVICE,
            )
            .map_err(|e| e.to_string())
        }
    }
}

async fn bedrock(State(fake): State<FakeBedrock>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let method = parts.method.as_str().to_owned();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let expect = fake.expect.lock().unwrap().clone();
    let mut verdict = check_auth(&expect, &method, &path, &parts.headers, &body);
    let record = |verdict: Result<(), String>| {
        fake.seen.lock().unwrap().push(CloudSeen {
            method: method.clone(),
            path: path.clone(),
            headers: parts.headers.clone(),
            body: body.clone(),
            verdict,
        });
    };
    if let Err(why) = &verdict {
        record(verdict.clone());
        return aws_error(
            403,
            "InvalidSignatureException",
            &format!(
                "The request signature we calculated does not match the signature you provided ({why})"
            ),
        );
    }
    if method == "GET" && path == "/foundation-models?byProvider=anthropic" {
        record(Ok(()));
        return json_response(
            200,
            &[],
            json!({"modelSummaries": [
                {"modelId": "anthropic.claude-sonnet-4-5-20250929-v1:0", "providerName": "Anthropic"},
                {"modelId": "anthropic.claude-haiku-4-5-20251001-v1:0", "providerName": "Anthropic"},
            ]})
            .to_string(),
        );
    }
    // `/model/{id, as AWS encodes a path label}/invoke[-with-response-stream]`.
    let stream = path.ends_with("/invoke-with-response-stream");
    let shape_ok = method == "POST"
        && path.starts_with("/model/")
        && (stream || path.ends_with("/invoke"))
        && path["/model/".len()..].split('/').count() == 2
        && !path["/model/".len()..].contains(':');
    if !shape_ok {
        verdict = Err(format!("not an InvokeModel URL: {method} {path}"));
    }
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    if verdict.is_ok() {
        verdict = match &parsed {
            None => Err("the body is not JSON".to_owned()),
            Some(v) if v["anthropic_version"] != "bedrock-2023-05-31" => {
                Err(format!("anthropic_version {}", v["anthropic_version"]))
            }
            Some(v) if v.get("model").is_some() => Err("the body has a model".to_owned()),
            Some(v) if v.get("stream").is_some() => Err("the body has stream".to_owned()),
            Some(_) => Ok(()),
        };
    }
    record(verdict.clone());
    if let Err(why) = verdict {
        return aws_error(400, "ValidationException", &why);
    }
    let reply = fake.replies.lock().unwrap().pop_front();
    match reply {
        None => aws_error(
            500,
            "InternalServerException",
            "fake Bedrock has no reply programmed",
        ),
        Some(CloudReply::Error(status, name, message)) => aws_error(status, name, &message),
        Some(CloudReply::Message(json)) => json_response(200, &[], json),
        Some(CloudReply::Events(events, piece)) => {
            event_stream(events.iter().flat_map(|e| chunk_frame(e)).collect(), piece)
        }
        Some(CloudReply::EventsThenException(events, name, message)) => {
            let mut bytes: Vec<u8> = events.iter().flat_map(|e| chunk_frame(e)).collect();
            bytes.extend(frame(
                &[
                    (":exception-type", name),
                    (":content-type", "application/json"),
                    (":message-type", "exception"),
                ],
                json!({ "message": message }).to_string().as_bytes(),
            ));
            event_stream(bytes, usize::MAX)
        }
    }
}

fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut message = Message::new(payload.to_vec());
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    aws_smithy_eventstream::frame::write_message_to(&message, &mut out).unwrap();
    out
}

/// One Anthropic event as Bedrock frames it: a `chunk` event whose payload holds the event's
/// bytes in base64 (and the padding Bedrock adds).
pub fn chunk_frame(event: &str) -> Vec<u8> {
    let payload = json!({
        "bytes": base64::engine::general_purpose::STANDARD.encode(event),
        "p": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
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

/// A 200 streamed answer: `bytes` sent in pieces of `piece` bytes, each flushed on its own.
fn event_stream(bytes: Vec<u8>, piece: usize) -> Response {
    let pieces: Vec<Bytes> = bytes
        .chunks(piece.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    let stream = futures::stream::unfold(pieces.into_iter(), |mut it| async move {
        let piece = it.next()?;
        tokio::time::sleep(Duration::from_millis(1)).await;
        Some((Ok::<_, Infallible>(piece), it))
    });
    Response::builder()
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-bedrock-content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

#[derive(Clone)]
pub struct FakeVertex {
    pub seen: Arc<Mutex<Vec<CloudSeen>>>,
    replies: Arc<Mutex<VecDeque<CloudReply>>>,
    /// Token exchanges answered (good or not).
    pub exchanges: Arc<AtomicUsize>,
    /// Tokens issued, in order.
    pub issued: Arc<Mutex<Vec<String>>>,
    /// Why refused exchanges were refused.
    pub refused: Arc<Mutex<Vec<String>>>,
    /// `expires_in` of the tokens issued.
    pub expires_in: Arc<AtomicU64>,
    pub addr: SocketAddr,
}

impl FakeVertex {
    pub fn push(&self, reply: CloudReply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    pub fn seen(&self) -> Vec<CloudSeen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn token_uri(&self) -> String {
        format!("http://{}/token", self.addr)
    }
}

pub async fn fake_vertex() -> FakeVertex {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = FakeVertex {
        seen: Arc::default(),
        replies: Arc::default(),
        exchanges: Arc::default(),
        issued: Arc::default(),
        refused: Arc::default(),
        expires_in: Arc::new(AtomicU64::new(3599)),
        addr,
    };
    let app = Router::new().fallback(vertex).with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    fake
}

fn b64url(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| e.to_string())
}

/// Whether `form` (`grant_type=...&assertion=...`) holds an assertion the test service
/// account signed, with the claims Google checks.
fn check_assertion(form: &str, token_uri: &str) -> Result<(), String> {
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
        return Err(format!("grant_type {:?}", field("grant_type")));
    }
    let jwt = field("assertion").ok_or("no assertion")?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("the assertion is not a JWT".to_owned());
    };
    let public_der = base64::engine::general_purpose::STANDARD
        .decode(
            SA_PUBLIC_KEY
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_der,
    );
    key.verify(format!("{header}.{claims}").as_bytes(), &b64url(signature)?)
        .map_err(|_| "the assertion's signature does not verify".to_owned())?;
    let header: Value = serde_json::from_slice(&b64url(header)?).map_err(|e| e.to_string())?;
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let claims: Value = serde_json::from_slice(&b64url(claims)?).map_err(|e| e.to_string())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let checks = [
        (claims["iss"] == SA_EMAIL, "iss"),
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
        (
            claims["iat"]
                .as_u64()
                .is_some_and(|iat| iat.abs_diff(now) < 300),
            "iat",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, claim)) => Err(format!("claim {claim}: {claims}")),
        None => Ok(()),
    }
}

async fn vertex(State(fake): State<FakeVertex>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let path = parts.uri.path().to_owned();
    if path == "/token" {
        fake.exchanges.fetch_add(1, Ordering::SeqCst);
        return match check_assertion(&String::from_utf8_lossy(&body), &fake.token_uri()) {
            Ok(()) => {
                let token = {
                    let mut issued = fake.issued.lock().unwrap();
                    let token = format!("ya29.fake-vertex-token-{}", issued.len() + 1);
                    issued.push(token.clone());
                    token
                };
                json_response(
                    200,
                    &[],
                    json!({
                        "access_token": token,
                        "expires_in": fake.expires_in.load(Ordering::SeqCst),
                        "token_type": "Bearer",
                    })
                    .to_string(),
                )
            }
            Err(why) => {
                fake.refused.lock().unwrap().push(why.clone());
                json_response(
                    400,
                    &[],
                    json!({"error": "invalid_grant", "error_description": why}).to_string(),
                )
            }
        };
    }
    let bearer = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let token_ok = bearer.is_some_and(|t| fake.issued.lock().unwrap().contains(&t));
    let prefix = format!(
        "/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_REGION}/publishers/anthropic/models/"
    );
    let method_of = |path: &str| -> Option<(String, String)> {
        let rest = path.strip_prefix(&prefix)?;
        let (model, method) = rest.split_once(':')?;
        (!model.contains('/')).then(|| (model.to_owned(), method.to_owned()))
    };
    if parts.method == http::Method::GET {
        let listing = format!("/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_REGION}/endpoints");
        return match (token_ok, path == listing) {
            (false, _) => google_error(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
            ),
            (true, true) => json_response(200, &[], "{}".to_owned()),
            (true, false) => google_error(404, "NOT_FOUND", "no such resource"),
        };
    }
    let verdict = if !token_ok {
        Err("not a token the fake issued".to_owned())
    } else {
        match (method_of(&path), serde_json::from_slice::<Value>(&body)) {
            (None, _) => Err(format!("not a rawPredict URL: {path}")),
            (Some((_, method)), _) if method != "rawPredict" && method != "streamRawPredict" => {
                Err(format!("method {method}"))
            }
            (_, Err(_)) => Err("the body is not JSON".to_owned()),
            (_, Ok(v)) if v["anthropic_version"] != "vertex-2023-10-16" => {
                Err(format!("anthropic_version {}", v["anthropic_version"]))
            }
            (_, Ok(v)) if v.get("model").is_some() => Err("the body has a model".to_owned()),
            (Some((_, method)), Ok(v))
                if (method == "streamRawPredict") != (v["stream"] == true) =>
            {
                Err(format!("{method} with stream {}", v["stream"]))
            }
            _ => Ok(()),
        }
    };
    fake.seen.lock().unwrap().push(CloudSeen {
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
        verdict: verdict.clone(),
    });
    match verdict {
        Err(why) if !token_ok => return google_error(401, "UNAUTHENTICATED", &why),
        Err(why) => return google_error(400, "INVALID_ARGUMENT", &why),
        Ok(()) => {}
    }
    match fake.replies.lock().unwrap().pop_front() {
        None => google_error(500, "INTERNAL", "fake Vertex has no reply programmed"),
        Some(CloudReply::Message(json)) => json_response(200, &[], json),
        Some(CloudReply::Error(status, _, body)) => json_response(status, &[], body),
        Some(CloudReply::Events(events, piece)) => {
            let text: String = events
                .iter()
                .map(|e| {
                    let kind = serde_json::from_str::<Value>(e).unwrap()["type"]
                        .as_str()
                        .unwrap()
                        .to_owned();
                    format!("event: {kind}\ndata: {e}\n\n")
                })
                .collect();
            let pieces: Vec<Bytes> = text
                .into_bytes()
                .chunks(piece.max(1))
                .map(Bytes::copy_from_slice)
                .collect();
            let stream = futures::stream::iter(pieces.into_iter().map(Ok::<_, Infallible>));
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Some(CloudReply::EventsThenException(..)) => {
            google_error(500, "INTERNAL", "not a Vertex reply")
        }
    }
}

pub fn google_error(status: u16, name: &str, message: &str) -> Response {
    json_response(
        status,
        &[],
        json!({"error": {"code": status, "message": message, "status": name}}).to_string(),
    )
}

/// A Claude answer's events: text, then a stop, with usage.
pub fn claude_events(text: &str) -> Vec<String> {
    vec![
        json!({"type":"message_start","message":{"id":"msg_cloud_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":31,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":8}}}).to_string(),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}).to_string(),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":text}}).to_string(),
        json!({"type":"content_block_stop","index":0}).to_string(),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}).to_string(),
        json!({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":31,"outputTokenCount":7,"invocationLatency":420,"firstByteLatency":200}}).to_string(),
    ]
}

/// A complete Claude answer (JSON).
pub fn claude_message(text: &str) -> String {
    json!({"id":"msg_cloud_2","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":text}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":22,"output_tokens":5,"cache_creation_input_tokens":3,"cache_read_input_tokens":0}}).to_string()
}
