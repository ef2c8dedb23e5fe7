//! A real gateway (the engine, on 127.0.0.1:0) in front of fake Anthropic-style upstreams,
//! also on loopback. The fake's behaviour is picked per request by the requested model.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{MemoryStore, SecretStore, SecretString, backend_account};
use switchyard_core::usage::{UsageRecord, UsageSink};
use tokio::sync::mpsc;

pub const TOKEN: &str = "test-local-token";
pub const BACKEND_KEY: &str = "sk-backend-key";

/// What the fake upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One programmed answer of the fake upstream.
#[derive(Clone)]
pub enum Reply {
    /// Status and JSON body, at once.
    Json(u16, String),
    /// A 200 SSE stream sent as these chunks, with a pause before each.
    Stream(Vec<(Duration, Bytes)>),
    /// Chunks (each after a short pause, so they reach the gateway), then the connection
    /// breaks (an aborted body).
    StreamThenBreak(Vec<Bytes>),
    /// Chunks, then silence forever (the stream stays open); `dropped` fires when the
    /// gateway goes away.
    StreamThenHang(Vec<Bytes>),
    /// Wait this long before answering anything.
    Delay(Duration, Box<Reply>),
    /// Status and JSON body with a `retry-after` of this many seconds.
    JsonRetryAfter(u16, u64, String),
    /// A redirect (status, `Location`).
    Redirect(u16, String),
    /// A 200 JSON answer of this many bytes (a body far larger than any real answer).
    Huge(usize),
}

#[derive(Clone, Default)]
pub struct Fake {
    /// Answers to metadata probes (`/api/show`, `/v1/models`, ...) by path; they are not
    /// recorded in `seen` and do not consume programmed replies. Unlisted probes get a 404.
    pub probes: Arc<Mutex<std::collections::HashMap<String, String>>>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    /// Sent when a hanging stream's body is dropped (the gateway cancelled it).
    pub dropped: Arc<Mutex<Option<mpsc::UnboundedSender<()>>>>,
}

impl Fake {
    pub fn push(&self, reply: Reply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn on_drop(&self) -> mpsc::UnboundedReceiver<()> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.dropped.lock().unwrap() = Some(tx);
        rx
    }
}

struct DropSignal(Option<mpsc::UnboundedSender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Paths the gateway's discovery probes for context windows.
fn is_probe(method: &http::Method, path: &str) -> bool {
    method == http::Method::GET || path == "/api/show"
}

async fn handle(State(fake): State<Fake>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if is_probe(&parts.method, parts.uri.path()) {
        let answer = fake.probes.lock().unwrap().get(parts.uri.path()).cloned();
        let reply = match answer {
            Some(json) => Reply::Json(200, json),
            None => Reply::Json(404, r#"{"error":"not found"}"#.into()),
        };
        return respond(&fake, reply).await;
    }
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    fake.seen.lock().unwrap().push(Seen {
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
    });
    let reply = fake
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Json(
        500,
        r#"{"type":"error","error":{"type":"api_error","message":"fake has no reply programmed"}}"#
            .into(),
    ));
    respond(&fake, reply).await
}

fn respond(
    fake: &Fake,
    reply: Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response> + Send + '_>> {
    Box::pin(async move {
        match reply {
            Reply::Redirect(status, location) => Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("location", location)
                .body(Body::empty())
                .unwrap(),
            Reply::Huge(len) => {
                let chunk = Bytes::from(vec![b' '; 1 << 20]);
                let chunks =
                    (0..len.div_ceil(1 << 20)).map(move |_| Ok::<_, Infallible>(chunk.clone()));
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from_stream(futures::stream::iter(chunks)))
                    .unwrap()
            }
            Reply::JsonRetryAfter(status, seconds, body) => Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json")
                .header("retry-after", seconds.to_string())
                .body(Body::from(body))
                .unwrap(),
            Reply::Json(status, body) => Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
            Reply::Stream(chunks) => {
                let stream = futures::stream::unfold(chunks.into_iter(), |mut it| async move {
                    let (pause, chunk) = it.next()?;
                    tokio::time::sleep(pause).await;
                    Some((Ok::<_, Infallible>(chunk), it))
                });
                sse(Body::from_stream(stream))
            }
            Reply::StreamThenBreak(chunks) => {
                let items: Vec<Result<Bytes, std::io::Error>> = chunks
                    .into_iter()
                    .map(Ok)
                    .chain([Err(std::io::Error::other(
                        "fake upstream broke the connection",
                    ))])
                    .collect();
                let stream = futures::stream::unfold(items.into_iter(), |mut it| async move {
                    let item = it.next()?;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((item, it))
                });
                sse(Body::from_stream(stream))
            }
            Reply::StreamThenHang(chunks) => {
                let signal = DropSignal(fake.dropped.lock().unwrap().clone());
                let stream = futures::stream::unfold(
                    (chunks.into_iter(), signal),
                    |(mut it, signal)| async move {
                        match it.next() {
                            Some(chunk) => Some((Ok::<_, Infallible>(chunk), (it, signal))),
                            None => {
                                std::future::pending::<()>().await;
                                None
                            }
                        }
                    },
                );
                sse(Body::from_stream(stream))
            }
            Reply::Delay(pause, inner) => {
                tokio::time::sleep(pause).await;
                respond(fake, *inner).await
            }
        }
    })
}

fn sse(body: Body) -> Response {
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap()
}

/// Start a fake upstream; returns its address and handle.
pub async fn fake_upstream() -> (SocketAddr, Fake) {
    let fake = Fake::default();
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, fake)
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// Collects usage records.
#[derive(Default)]
pub struct Records(pub Mutex<Vec<UsageRecord>>);

impl UsageSink for Records {
    fn record(&self, record: UsageRecord) {
        self.0.lock().unwrap().push(record);
    }
}

impl Records {
    /// Wait (bounded) until `n` records arrived; streamed requests finish after the response.
    pub async fn wait_for(&self, n: usize) -> Vec<UsageRecord> {
        for _ in 0..200 {
            {
                let records = self.0.lock().unwrap();
                if records.len() >= n {
                    return records.clone();
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {n} usage records, got {:?}",
            self.0.lock().unwrap()
        );
    }
}

pub struct Gateway {
    pub engine: Engine,
    pub base: String,
    pub client: reqwest::Client,
    pub records: Arc<Records>,
    pub dir: tempfile::TempDir,
}

impl Gateway {
    /// Start the engine with `config` (TOML) and a provider key for every backend id given.
    pub async fn start(config: &str, keyed_backends: &[&str]) -> Gateway {
        Gateway::start_in(tempfile::tempdir().unwrap(), config, keyed_backends).await
    }

    /// [`Gateway::start`] with `dir` as config and data dir (an earlier engine's, to restart
    /// on its files). Usage records go to `records`; the response cache to the data dir.
    pub async fn start_in(
        dir: tempfile::TempDir,
        config: &str,
        keyed_backends: &[&str],
    ) -> Gateway {
        let accounts: Vec<(String, &str)> = keyed_backends
            .iter()
            .map(|id| (backend_account(id), BACKEND_KEY))
            .collect();
        Gateway::start_with_secrets(dir, config, &accounts).await
    }

    /// [`Gateway::start_in`] with these keychain entries (account, secret).
    pub async fn start_with_secrets(
        dir: tempfile::TempDir,
        config: &str,
        entries: &[(String, &str)],
    ) -> Gateway {
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let secrets = Arc::new(MemoryStore::default());
        for (account, secret) in entries {
            secrets
                .set(account, &SecretString::from((*secret).to_owned()))
                .unwrap();
        }
        let records = Arc::new(Records::default());
        let engine = Engine::start(
            EngineOptions {
                config_path: Some(path),
                listen: Some("127.0.0.1:0".parse().unwrap()),
                token: Some(SecretString::from(TOKEN.to_owned())),
                usage_sink: Some(records.clone()),
                data_dir: Some(dir.path().to_owned()),
                ..Default::default()
            },
            secrets.clone(),
        )
        .await
        .unwrap();
        let base = format!("http://{}", engine.listen_addr());
        Gateway {
            engine,
            base,
            client: reqwest::Client::new(),
            records,
            dir,
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("x-api-key", TOKEN)
            .header("anthropic-version", "2023-06-01")
            .header("content-type", "application/json")
    }

    /// The minimal Messages request for `model` ([`request`]) through the gateway.
    pub async fn ask(&self, model: &str, stream: bool) -> reqwest::Response {
        self.post("/v1/messages")
            .body(request(model, stream))
            .send()
            .await
            .unwrap()
    }

    /// `GET /metrics`, as text.
    pub async fn metrics_text(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.base))
            .header("x-api-key", TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// A config with pass-through backends at the given addresses (ids b0, b1, ...) and one
/// profile `main` whose default route has the first as target and the others as fallbacks.
pub fn passthrough_config(upstreams: &[SocketAddr], extra_backend_lines: &str) -> String {
    let mut text = String::from("active_profile = \"main\"\n");
    for (i, addr) in upstreams.iter().enumerate() {
        text.push_str(&format!(
            "[[backends]]\nid = \"b{i}\"\nkind = \"anthropic\"\nbase_url = \"http://{addr}\"\n{extra_backend_lines}\n"
        ));
    }
    let fallbacks: Vec<String> = (1..upstreams.len())
        .map(|i| format!("{{ backend = \"b{i}\" }}"))
        .collect();
    text.push_str(&format!(
        "[profiles.main]\ndefault = {{ targets = [{{ backend = \"b0\", model = \"upstream-model\" }}], fallbacks = [{}] }}\n",
        fallbacks.join(", ")
    ));
    text
}

/// A minimal Messages request body.
pub fn request(model: &str, stream: bool) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":64,"stream":{stream},"messages":[{{"role":"user","content":"hello"}}]}}"#
    )
}

pub fn message_json(text: &str) -> String {
    format!(
        r#"{{"id":"msg_1","type":"message","role":"assistant","model":"upstream-model","content":[{{"type":"text","text":"{text}"}}],"stop_reason":"end_turn","stop_sequence":null,"usage":{{"input_tokens":12,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":4}}}}"#
    )
}

/// An Anthropic SSE stream with thinking (and its signature), text and usage, as separate
/// event strings.
pub fn sse_events() -> Vec<String> {
    vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"upstream-model\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1,\"cache_creation_input_tokens\":7,\"cache_read_input_tokens\":100}}}\n\n".into(),
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me think \u{2014} caf\u{e9}.\"}}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrk+/==\"}}\n\n".into(),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n".into(),
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \u{4e16}\u{754c}\"}}\n\n".into(),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n".into(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":42}}\n\n".into(),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into(),
    ]
}
