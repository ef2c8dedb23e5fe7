//! Claude on Amazon Bedrock and Google Vertex AI through the real gateway, against fakes that
//! check what the clouds check (see `cloud_fakes.rs`): signatures and tokens, URL shapes, the
//! body's `anthropic_version` and missing `model`; answers streamed in each cloud's framing;
//! errors in each cloud's words; fallback on throttling; the response cache; the backend
//! check; and no credential in the usage database, the captures or the logs.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use switchyard_core::capture::Selection;
use switchyard_core::discovery::CheckOutcome;
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{MemoryStore, SecretStore, SecretString, backend_account};
use switchyard_core::usage::RequestStatus;

use crate::cloud_fakes::*;
use crate::harness::*;

const BEDROCK_MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const VERTEX_MODEL: &str = "claude-sonnet-4-5@20250929";

fn bedrock_backend(id: &str, addr: std::net::SocketAddr) -> String {
    format!(
        "[[backends]]\nid = \"{id}\"\nkind = \"bedrock\"\nregion = \"{AWS_REGION}\"\nbase_url = \"http://{addr}\"\n"
    )
}

fn vertex_backend(id: &str, fake: &FakeVertex) -> String {
    format!(
        "[[backends]]\nid = \"{id}\"\nkind = \"vertex\"\nproject = \"{VERTEX_PROJECT}\"\nregion = \"{VERTEX_REGION}\"\nbase_url = \"http://{}\"\n",
        fake.addr
    )
}

/// A profile `p` whose default route is `targets` (TOML inline tables), then `fallbacks`.
fn config(backends: &str, targets: &str, fallbacks: &str, extra_profile: &str) -> String {
    format!(
        "active_profile = \"p\"\n{backends}[profiles.p]\n{extra_profile}default = {{ targets = [{targets}], fallbacks = [{fallbacks}] }}\n"
    )
}

async fn start(config: &str, entries: &[(String, &str)]) -> Gateway {
    Gateway::start_with_secrets(tempfile::tempdir().unwrap(), config, entries).await
}

fn sse(events: &[String]) -> String {
    events
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).unwrap();
            format!("event: {}\ndata: {e}\n\n", v["type"].as_str().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn bedrock_streams_are_signed_and_come_back_as_anthropic_sse() {
    let (addr, fake) = fake_bedrock().await;
    let events = claude_events("Hello from Bedrock \u{2014} caf\u{e9} \u{4e16}\u{754c}");
    // Pieces of 1, 5 and 64 bytes: frames (and their preludes and CRCs) split anywhere.
    for piece in [1, 5, 64] {
        fake.push(CloudReply::Events(events.clone(), piece));
    }
    let text = config(
        &bedrock_backend("bedrock", addr),
        &format!("{{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}"),
        "",
        "",
    );
    let stored = aws_stored();
    let gw = start(&text, &[(backend_account("bedrock"), &stored)]).await;
    for _ in 0..3 {
        let response = gw
            .post("/v1/messages?beta=true")
            .header(
                "anthropic-beta",
                "claude-code-20250219,interleaved-thinking-2025-05-14",
            )
            .body(request("claude-sonnet-4-5", true))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream; charset=utf-8"
        );
        // The model's own events, byte for byte.
        assert_eq!(response.text().await.unwrap(), sse(&events));
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(s.verdict, Ok(()), "the fake's checks");
        assert_eq!(
            s.path,
            "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        );
        assert_eq!(s.headers["x-amz-security-token"], AWS_SESSION);
        assert!(
            s.headers["authorization"]
                .to_str()
                .unwrap()
                .starts_with(&format!("AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/"))
        );
        assert_eq!(s.headers["accept"], "application/vnd.amazon.eventstream");
        assert!(s.headers.get("x-api-key").is_none());
        let body = s.json();
        // Only the flags Bedrock takes; the client's messages as they were.
        assert_eq!(
            body["anthropic_beta"],
            serde_json::json!(["interleaved-thinking-2025-05-14"])
        );
        assert_eq!(body["messages"][0]["content"], "hello");
        assert_eq!(body["max_tokens"], 64);
    }
    let records = gw.records.wait_for(3).await;
    for record in &records {
        assert_eq!(record.status, RequestStatus::Ok);
        assert_eq!(record.backend.as_deref(), Some("bedrock"));
        assert_eq!(record.backend_kind.as_deref(), Some("bedrock"));
        assert_eq!(record.upstream_model.as_deref(), Some(BEDROCK_MODEL));
        assert_eq!(
            (
                record.usage.input_tokens,
                record.usage.output_tokens,
                record.usage.cache_read_input_tokens
            ),
            (31, 7, 8)
        );
        let notes = record.notes.as_deref().unwrap_or_default();
        assert!(
            notes.contains("anthropic-beta flags not sent to bedrock: claude-code-20250219"),
            "{notes}"
        );
    }
}

#[tokio::test]
async fn bedrock_answers_whole_and_takes_a_bedrock_api_key() {
    let (addr, fake) = fake_bedrock().await;
    fake.expect(AwsExpect::Bearer(BEDROCK_API_KEY.to_owned()));
    fake.push(CloudReply::Message(claude_message("whole answer")));
    let text = config(
        &bedrock_backend("bedrock", addr),
        "{ backend = \"bedrock\", model = \"anthropic.claude-haiku-4-5-20251001-v1:0\" }",
        "",
        "",
    );
    let gw = start(&text, &[(backend_account("bedrock"), BEDROCK_API_KEY)]).await;
    let response = gw.ask("claude-haiku-4-5", false).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["content"][0]["text"], "whole answer");
    let seen = fake.seen();
    assert_eq!(seen[0].verdict, Ok(()));
    assert_eq!(
        seen[0].path,
        "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke"
    );
    assert_eq!(seen[0].headers["accept"], "application/json");
    assert!(seen[0].headers.get("x-amz-date").is_none());
    let record = &gw.records.wait_for(1).await[0];
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (22, 5)
    );
}

/// The fake recomputes the signature from the secret it knows: one made with another secret
/// fails, and the client learns its key was refused.
#[tokio::test]
async fn a_request_signed_with_another_secret_fails_the_fakes_check() {
    let (addr, fake) = fake_bedrock().await;
    let text = config(
        &bedrock_backend("bedrock", addr),
        &format!("{{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}"),
        "",
        "",
    );
    let wrong = format!("{AWS_KEY_ID}:not-the-secret:{AWS_SESSION}");
    let gw = start(&text, &[(backend_account("bedrock"), &wrong)]).await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("signature"),
        "{body}"
    );
    let seen = fake.seen();
    assert_eq!(
        seen[0].verdict,
        Err("the signature does not match the request".to_owned())
    );
}

#[tokio::test]
async fn bedrock_throttling_falls_back_to_the_next_target() {
    let (addr, fake) = fake_bedrock().await;
    let (second_addr, second) = fake_upstream().await;
    // An HTTP 429, then a 200 stream whose first frame is a throttling exception.
    fake.push(CloudReply::Error(
        429,
        "ThrottlingException",
        "Too many requests, please wait before trying again.".to_owned(),
    ));
    fake.push(CloudReply::EventsThenException(
        Vec::new(),
        "throttlingException",
        "Too many tokens, please wait before trying again.".to_owned(),
    ));
    second.push(Reply::Json(200, message_json("from the fallback")));
    second.push(Reply::Stream(
        sse_events()
            .into_iter()
            .map(|e| (std::time::Duration::from_millis(1), bytes::Bytes::from(e)))
            .collect(),
    ));
    let backends = format!(
        "{}[[backends]]\nid = \"second\"\nkind = \"anthropic\"\nbase_url = \"http://{second_addr}\"\n",
        bedrock_backend("bedrock", addr)
    );
    let text = config(
        &backends,
        &format!("{{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}"),
        "{ backend = \"second\", model = \"second-model\" }",
        "",
    );
    let stored = aws_stored();
    let gw = start(&text, &[(backend_account("bedrock"), &stored)]).await;
    let whole = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(whole.status(), 200);
    assert!(whole.text().await.unwrap().contains("from the fallback"));
    // The 429 cooled Bedrock down (tried last); first again, its stream throttles.
    gw.engine.gateway().cooldowns.succeed("bedrock");
    let streamed = gw.ask("claude-sonnet-4-5", true).await;
    assert_eq!(streamed.status(), 200);
    let text = streamed.text().await.unwrap();
    assert!(text.contains("Hello \u{4e16}\u{754c}"), "{text}");
    assert!(!text.contains("event: error"), "{text}");
    assert_eq!(fake.seen().len(), 2);
    assert_eq!(second.seen().len(), 2);
    let records = gw.records.wait_for(2).await;
    for record in &records {
        assert_eq!(record.backend.as_deref(), Some("second"));
        assert_eq!(record.attempts, 2);
    }
}

#[tokio::test]
async fn bedrock_errors_keep_bedrocks_words_in_anthropics_shape() {
    let (addr, fake) = fake_bedrock().await;
    fake.push(CloudReply::Error(
        400,
        "ValidationException",
        "Input is too long for requested model.".to_owned(),
    ));
    fake.push(CloudReply::Error(
        400,
        "ValidationException",
        "messages.0.content: text content blocks must be non-empty".to_owned(),
    ));
    // A stream broken by an exception after its content started: an error event.
    let mut started = claude_events("partial");
    started.truncate(3);
    fake.push(CloudReply::EventsThenException(
        started,
        "modelStreamErrorException",
        "The model stream failed".to_owned(),
    ));
    let text = config(
        &bedrock_backend("bedrock", addr),
        &format!("{{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}"),
        "",
        "",
    );
    let stored = aws_stored();
    let gw = start(&text, &[(backend_account("bedrock"), &stored)]).await;
    let ask = |stream: bool| gw.ask("claude-sonnet-4-5", stream);
    let long = ask(false).await;
    assert_eq!(long.status(), 400);
    let body: serde_json::Value = long.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(
        body["error"]["message"],
        "prompt is too long: Input is too long for requested model."
    );
    let invalid = ask(false).await;
    assert_eq!(invalid.status(), 400);
    let body: serde_json::Value = invalid.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "messages.0.content: text content blocks must be non-empty"
    );
    let broken = ask(true).await;
    assert_eq!(broken.status(), 200);
    let text = broken.text().await.unwrap();
    assert!(text.contains("\"text\":\"partial\""), "{text}");
    assert!(
        text.ends_with("\n\n") && text.contains("event: error"),
        "{text}"
    );
    assert!(text.contains("The model stream failed"), "{text}");
    let records = gw.records.wait_for(3).await;
    assert!(records.iter().all(|r| r.status == RequestStatus::Error));
    // A validation error is the request's fault: not retried elsewhere.
    assert_eq!(fake.seen().len(), 3);
}

fn vertex_entries(fake: &FakeVertex) -> Vec<(String, String)> {
    vec![(
        backend_account("vertex"),
        service_account_json(&fake.token_uri()),
    )]
}

#[tokio::test]
async fn vertex_gets_a_token_from_the_service_account_and_relays_sse_as_it_comes() {
    let fake = fake_vertex().await;
    let events = claude_events("Hello from Vertex");
    fake.push(CloudReply::Events(events.clone(), 9));
    fake.push(CloudReply::Message(claude_message("whole from Vertex")));
    let text = config(
        &vertex_backend("vertex", &fake),
        &format!("{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}"),
        "",
        "",
    );
    let entries = vertex_entries(&fake);
    let refs: Vec<(String, &str)> = entries
        .iter()
        .map(|(a, s)| (a.clone(), s.as_str()))
        .collect();
    let gw = start(&text, &refs).await;
    let streamed = gw
        .post("/v1/messages?beta=true")
        .header("anthropic-beta", "oauth-2025-04-20,context-1m-2025-08-07")
        .body(request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(streamed.text().await.unwrap(), sse(&events));
    let whole = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(whole.status(), 200);
    let answer: serde_json::Value = whole.json().await.unwrap();
    assert_eq!(answer["content"][0]["text"], "whole from Vertex");

    assert_eq!(fake.refused.lock().unwrap().clone(), Vec::<String>::new());
    // One exchange serves both requests: the token is kept until shortly before it expires.
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 1);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let base = format!(
        "/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_REGION}/publishers/anthropic/models/{VERTEX_MODEL}"
    );
    assert_eq!(seen[0].path, format!("{base}:streamRawPredict"));
    assert_eq!(seen[1].path, format!("{base}:rawPredict"));
    for s in &seen {
        assert_eq!(s.verdict, Ok(()));
        assert_eq!(
            s.headers["authorization"],
            "Bearer ya29.fake-vertex-token-1"
        );
        assert!(s.headers.get("x-api-key").is_none());
    }
    assert_eq!(seen[0].headers["anthropic-beta"], "context-1m-2025-08-07");
    assert_eq!(seen[0].json()["stream"], true);
    let records = gw.records.wait_for(2).await;
    assert_eq!(records[0].backend_kind.as_deref(), Some("vertex"));
    assert_eq!(
        (
            records[0].usage.input_tokens,
            records[0].usage.output_tokens
        ),
        (31, 7)
    );
    assert_eq!(
        (
            records[1].usage.input_tokens,
            records[1].usage.output_tokens
        ),
        (22, 5)
    );
}

#[tokio::test]
async fn a_vertex_token_about_to_expire_is_replaced_before_it_is_sent() {
    let fake = fake_vertex().await;
    // Inside the five-minute margin from the start: every request needs a new one.
    fake.expires_in.store(200, Ordering::SeqCst);
    for i in 0..3 {
        fake.push(CloudReply::Message(claude_message(&format!("answer {i}"))));
    }
    let text = config(
        &vertex_backend("vertex", &fake),
        &format!("{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}"),
        "",
        "",
    );
    let entries = vertex_entries(&fake);
    let refs: Vec<(String, &str)> = entries
        .iter()
        .map(|(a, s)| (a.clone(), s.as_str()))
        .collect();
    let gw = start(&text, &refs).await;
    for _ in 0..3 {
        let response = gw.ask("claude-sonnet-4-5", false).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(fake.exchanges.load(Ordering::SeqCst), 3);
    let sent: Vec<String> = fake
        .seen()
        .iter()
        .map(|s| s.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "Bearer ya29.fake-vertex-token-1",
            "Bearer ya29.fake-vertex-token-2",
            "Bearer ya29.fake-vertex-token-3"
        ]
    );
}

#[tokio::test]
async fn vertex_errors_are_anthropic_errors_and_a_quota_falls_back() {
    let fake = fake_vertex().await;
    let (second_addr, second) = fake_upstream().await;
    fake.push(CloudReply::Error(
        429,
        "",
        r#"{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.","status":"RESOURCE_EXHAUSTED"}}"#.to_owned(),
    ));
    second.push(Reply::Json(200, message_json("after the quota")));
    fake.push(CloudReply::Error(
        403,
        "",
        r#"[{"error":{"code":403,"message":"Permission 'aiplatform.endpoints.predict' denied on resource","status":"PERMISSION_DENIED"}}]"#.to_owned(),
    ));
    let backends = format!(
        "{}[[backends]]\nid = \"second\"\nkind = \"anthropic\"\nbase_url = \"http://{second_addr}\"\n",
        vertex_backend("vertex", &fake)
    );
    let text = config(
        &backends,
        &format!("{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}"),
        "{ backend = \"second\", model = \"second-model\" }",
        "",
    );
    let entries = vertex_entries(&fake);
    let refs: Vec<(String, &str)> = entries
        .iter()
        .map(|(a, s)| (a.clone(), s.as_str()))
        .collect();
    let gw = start(&text, &refs).await;
    let ask = || gw.ask("claude-sonnet-4-5", false);
    let fell_back = ask().await;
    assert_eq!(fell_back.status(), 200);
    assert!(fell_back.text().await.unwrap().contains("after the quota"));
    // The cooldown put vertex last; with it first again it answers its permission error.
    gw.engine.gateway().cooldowns.succeed("vertex");
    let denied = ask().await;
    assert_eq!(denied.status(), 403);
    let body: serde_json::Value = denied.json().await.unwrap();
    assert_eq!(body["error"]["type"], "permission_error");
    assert_eq!(
        body["error"]["message"],
        "Permission 'aiplatform.endpoints.predict' denied on resource"
    );
}

#[tokio::test]
async fn a_service_account_the_token_endpoint_refuses_is_an_authentication_error() {
    let fake = fake_vertex().await;
    let (second_addr, second) = fake_upstream().await;
    second.push(Reply::Json(200, message_json("from the fallback")));
    // Another account's email: the fake checks the assertion's claims and refuses it.
    let impostor = service_account_json(&fake.token_uri())
        .replace(SA_EMAIL, "other@else.iam.gserviceaccount.com");
    let backends = format!(
        "{}[[backends]]\nid = \"second\"\nkind = \"anthropic\"\nbase_url = \"http://{second_addr}\"\n",
        vertex_backend("vertex", &fake)
    );
    let alone = config(
        &backends,
        &format!("{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}"),
        "",
        "",
    );
    let gw = start(&alone, &[(backend_account("vertex"), &impostor)]).await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("iss"),
        "{message}"
    );
    assert!(fake.seen().is_empty(), "no model request without a token");
    assert!(fake.refused.lock().unwrap()[0].contains("claim iss"));

    // With a fallback, the next target answers instead.
    let with_fallback = config(
        &backends,
        &format!("{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}"),
        "{ backend = \"second\", model = \"second-model\" }",
        "",
    );
    let gw = start(&with_fallback, &[(backend_account("vertex"), &impostor)]).await;
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_repeated_request_is_answered_from_the_cache_and_counted_locally() {
    let (addr, fake) = fake_bedrock().await;
    fake.push(CloudReply::Events(claude_events("cached answer"), 64));
    let text = format!(
        "{}\n[cache]\nenabled = true\n",
        config(
            &bedrock_backend("bedrock", addr),
            &format!("{{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}"),
            "",
            "cache = true\n",
        )
    );
    let stored = aws_stored();
    let gw = start(&text, &[(backend_account("bedrock"), &stored)]).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = gw.ask("claude-sonnet-4-5", true).await;
        assert_eq!(response.status(), 200);
        answers.push(response.text().await.unwrap());
        gw.records.wait_for(answers.len()).await;
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        fake.seen().len(),
        1,
        "the second answer came from the cache"
    );
    assert!(gw.records.wait_for(2).await[1].cache_hit);

    // count_tokens: estimated here, never sent to Bedrock.
    let counted: serde_json::Value = gw
        .post("/v1/messages/count_tokens")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(counted["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn the_check_proves_each_clouds_credentials() {
    let (addr, bedrock) = fake_bedrock().await;
    let vertex = fake_vertex().await;
    let backends = format!(
        "{}{}{}",
        bedrock_backend("bedrock", addr),
        bedrock_backend("wrong", addr),
        vertex_backend("vertex", &vertex),
    );
    let text = config(&backends, "{ backend = \"bedrock\" }", "", "");
    let stored = aws_stored();
    let sa = service_account_json(&vertex.token_uri());
    let wrong = format!("{AWS_KEY_ID}:not-the-secret:{AWS_SESSION}");
    let gw = start(
        &text,
        &[
            (backend_account("bedrock"), &stored),
            (backend_account("wrong"), &wrong),
            (backend_account("vertex"), &sa),
        ],
    )
    .await;
    let check = gw.engine.check_backend("bedrock").await.unwrap();
    match &check.outcome {
        CheckOutcome::Ok { models } => {
            let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
            assert_eq!(
                ids,
                [
                    "anthropic.claude-sonnet-4-5-20250929-v1:0",
                    "anthropic.claude-haiku-4-5-20251001-v1:0"
                ]
            );
            assert_eq!(models[0].context_length, Some(200_000));
        }
        other => panic!("{other:?}: {}", check.detail),
    }
    assert_eq!(bedrock.seen()[0].verdict, Ok(()), "the GET was signed too");
    assert_eq!(bedrock.seen()[0].method, "GET");
    assert!(!check.detail.contains(AWS_SECRET), "{}", check.detail);

    let rejected = gw.engine.check_backend("wrong").await.unwrap();
    assert_eq!(
        rejected.outcome,
        CheckOutcome::KeyRejected,
        "{}",
        rejected.detail
    );
    assert!(!rejected.ok);

    let check = gw.engine.check_backend("vertex").await.unwrap();
    assert!(check.ok, "{check:?}");
    assert_eq!(check.outcome, CheckOutcome::NoModelList);
    assert!(check.detail.contains("accepted"), "{}", check.detail);
    assert_eq!(vertex.exchanges.load(Ordering::SeqCst), 1);
}

/// Every log line of this test binary, from the first cloud test that asks on.
fn log_sink() -> Arc<Mutex<Vec<u8>>> {
    static SINK: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    SINK.get_or_init(|| {
        #[derive(Clone)]
        struct Writer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Writer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Arc::new(Mutex::new(Vec::new()));
        let writer = Writer(sink.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,switchyard_core=trace,reqwest=trace,hyper=debug,hyper_util=debug",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        sink
    })
    .clone()
}

/// The canary test: a gateway with its real usage database and capture on, Bedrock and
/// Vertex requests streamed and not, a failed one included; then no AWS secret, session
/// token, Bedrock key, service-account private key or access token in any file of the data
/// folder, the capture export, or the log.
#[tokio::test]
async fn no_cloud_credential_reaches_the_usage_database_the_captures_or_the_logs() {
    let logs = log_sink();
    let (addr, bedrock) = fake_bedrock().await;
    let vertex = fake_vertex().await;
    for reply in [
        CloudReply::Events(claude_events("one"), 11),
        CloudReply::Message(claude_message("two")),
        CloudReply::Error(429, "ThrottlingException", "slow down".to_owned()),
    ] {
        bedrock.push(reply);
    }
    vertex.push(CloudReply::Events(claude_events("three"), 13));
    vertex.push(CloudReply::Message(claude_message("four")));
    let backends = format!(
        "{}{}",
        bedrock_backend("bedrock", addr),
        vertex_backend("vertex", &vertex)
    );
    let text = format!(
        "active_profile = \"p\"\n{backends}[profiles.p]\ncapture = true\ndefault = {{ backend = \"bedrock\", model = \"{BEDROCK_MODEL}\" }}\n[[profiles.p.rules]]\nmatch = \"*haiku*\"\ntargets = [{{ backend = \"vertex\", model = \"{VERTEX_MODEL}\" }}]\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let secrets = Arc::new(MemoryStore::default());
    let sa = service_account_json(&vertex.token_uri());
    for (account, secret) in [
        (backend_account("bedrock"), aws_stored()),
        (backend_account("vertex"), sa.clone()),
    ] {
        secrets.set(&account, &SecretString::from(secret)).unwrap();
    }
    let engine = Engine::start(
        EngineOptions {
            config_path: Some(path),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from(TOKEN.to_owned())),
            data_dir: Some(dir.path().to_owned()),
            ..Default::default()
        },
        secrets,
    )
    .await
    .unwrap();
    let base = format!("http://{}", engine.listen_addr());
    let client = reqwest::Client::new();
    for (model, stream) in [
        ("claude-sonnet-4-5", true),
        ("claude-sonnet-4-5", false),
        ("claude-sonnet-4-5", false),
        ("claude-haiku-4-5", true),
        ("claude-haiku-4-5", false),
    ] {
        let response = client
            .post(format!("{base}/v1/messages"))
            .header("x-api-key", TOKEN)
            .header("anthropic-version", "2023-06-01")
            .body(request(model, stream))
            .send()
            .await
            .unwrap();
        response.bytes().await.unwrap();
    }
    assert!(bedrock.seen().iter().all(|s| s.verdict.is_ok()));
    assert!(vertex.seen().iter().all(|s| s.verdict.is_ok()));
    assert_eq!(vertex.seen().len(), 2);
    // The canaries are real: the upstreams got them.
    assert_eq!(
        bedrock.seen()[0].headers["x-amz-security-token"],
        AWS_SESSION
    );

    let captures = engine.gateway().captures().unwrap().clone();
    captures.flush();
    let export = {
        let conn = rusqlite::Connection::open(captures.path()).unwrap();
        let mut out = Vec::new();
        let n =
            switchyard_core::capture::export_jsonl(&conn, &Selection::Since(0), &mut out).unwrap();
        assert_eq!(n, 5, "every request was captured");
        String::from_utf8(out).unwrap()
    };
    assert!(
        export.contains("invoke-with-response-stream"),
        "the export holds the attempts"
    );
    assert!(export.contains(":streamRawPredict"));
    engine.shutdown().await;

    let mut files = Vec::new();
    for entry in walk(dir.path()) {
        if entry.file_name().is_some_and(|n| n == "config.toml") {
            continue;
        }
        files.push((entry.clone(), std::fs::read(&entry).unwrap()));
    }
    assert!(
        files
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("usage")),
        "the usage database is there: {:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    let tokens = vertex.issued.lock().unwrap().clone();
    let mut canaries = vec![
        AWS_SECRET,
        AWS_SESSION,
        private_key_canary(),
        // A signature is a credential for five minutes.
        "Signature=",
    ];
    canaries.extend(tokens.iter().map(String::as_str));
    for canary in canaries {
        assert!(!export.contains(canary), "{canary} in the capture export");
        assert!(!logs.contains(canary), "{canary} in the logs");
        for (path, bytes) in &files {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{canary} in {}",
                path.display()
            );
        }
    }
    assert!(
        logs.contains("attempt failed"),
        "the log did record the requests"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
