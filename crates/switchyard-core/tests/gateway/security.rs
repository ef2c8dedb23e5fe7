use std::time::Duration;

use bytes::Bytes;

use crate::harness::*;

async fn error_of(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    (
        status,
        body["error"]["type"].as_str().unwrap().to_owned(),
        body["error"]["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn requests_without_the_right_token_are_refused() {
    let (up, fake) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[up], ""), &[]).await;
    let url = format!("{}/v1/messages", gw.base);
    let body = request("claude-sonnet-4-5", false);

    let (status, kind, message) = error_of(
        gw.client
            .post(&url)
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, kind.as_str()), (401, "authentication_error"));
    assert!(message.contains("missing local token"), "{message}");

    for (name, value) in [
        ("x-api-key", "nope"),
        ("authorization", "Bearer nope"),
        ("x-api-key", "test-local-token-but-longer"),
    ] {
        let (status, _, message) = error_of(
            gw.client
                .post(&url)
                .header(name, value)
                .body(body.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);
        assert!(message.contains("wrong local token"), "{message}");
    }
    let ok = gw
        .client
        .get(format!("{}/v1/models", gw.base))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert!(fake.seen().is_empty(), "nothing may reach the upstream");
}

#[tokio::test]
async fn foreign_hosts_and_browser_origins_are_refused() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(200, message_json("ok")));
    let gw = Gateway::start(&passthrough_config(&[up], ""), &["b0"]).await;
    let body = request("claude-sonnet-4-5", false);

    let (status, kind, message) = error_of(
        gw.post("/v1/messages")
            .header("host", "attacker.example:4747")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, kind.as_str()), (403, "permission_error"));
    assert!(message.contains("attacker.example"), "{message}");

    let (status, _, message) = error_of(
        gw.post("/v1/messages")
            .header("origin", "https://evil.example")
            .body(body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
    assert!(message.contains("https://evil.example"), "{message}");
    // Even the public probes refuse browsers.
    let probe = gw
        .client
        .get(format!("{}/health", gw.base))
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 403);

    for host in ["localhost", "127.0.0.1:1234", "[::1]:80"] {
        let response = gw
            .post("/v1/messages")
            .header("host", host)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_ne!(response.status(), 403, "{host}");
        if response.status() == 200 {
            fake.push(Reply::Json(200, message_json("ok")));
        }
    }
    assert!(!fake.seen().is_empty());
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_clear_errors() {
    let (up, fake) = fake_upstream().await;
    let config = passthrough_config(&[up], "").replace(
        "active_profile = \"main\"\n",
        "active_profile = \"main\"\nmax_body_mib = 1\n",
    );
    let gw = Gateway::start(&config, &[]).await;

    let big = format!(
        r#"{{"model":"m","max_tokens":1,"messages":[{{"role":"user","content":"{}"}}]}}"#,
        "x".repeat(1_100_000)
    );
    let (status, kind, message) =
        error_of(gw.post("/v1/messages").body(big).send().await.unwrap()).await;
    assert_eq!((status, kind.as_str()), (413, "request_too_large"));
    assert!(message.contains("1 MiB"), "{message}");

    let (status, kind, message) = error_of(
        gw.post("/v1/messages")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, kind.as_str()), (400, "invalid_request_error"));
    assert!(
        message.contains("not a valid Messages API request"),
        "{message}"
    );

    let (status, _, message) = error_of(
        gw.post("/v1/messages")
            .body(r#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("max_tokens"), "{message}");
    assert!(fake.seen().is_empty());

    let records = gw.records.wait_for(3).await;
    assert!(
        records
            .iter()
            .all(|r| r.status == switchyard_core::usage::RequestStatus::Error)
    );
}

#[tokio::test]
async fn unmapped_models_are_404_naming_model_and_profile() {
    let (up, _fake) = fake_upstream().await;
    let config = format!(
        "active_profile = \"narrow\"\n[[backends]]\nid = \"b0\"\nkind = \"anthropic\"\nbase_url = \"http://{up}\"\n[profiles.narrow]\n[[profiles.narrow.rules]]\nmatch = \"*haiku*\"\ntargets = [{{ backend = \"b0\" }}]\n"
    );
    let gw = Gateway::start(&config, &[]).await;
    let (status, kind, message) = error_of(
        gw.post("/v1/messages")
            .body(request("claude-opus-4-6", false))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, kind.as_str()), (404, "not_found_error"));
    assert!(
        message.contains("\"claude-opus-4-6\"") && message.contains("\"narrow\""),
        "{message}"
    );
}

/// A backend that redirects must not get the provider key and the prompt to another host:
/// no redirect is followed (messages and count_tokens alike), and the error names the backend
/// and where it pointed.
#[tokio::test]
async fn redirects_are_not_followed_and_name_the_location() {
    let (up, fake) = fake_upstream().await;
    let (elsewhere, thief) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[up], ""), &["b0"]).await;
    let location = format!("http://{elsewhere}/v1/messages");
    for path in ["/v1/messages", "/v1/messages/count_tokens"] {
        fake.push(Reply::Redirect(307, location.clone()));
        let response = gw
            .post(path)
            .body(request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        let (status, _, message) = error_of(response).await;
        assert_eq!(status, 502, "{path}");
        assert!(message.contains("\"b0\" redirects to"), "{message}");
        assert!(message.contains(&location), "{message}");
    }
    assert!(thief.seen().is_empty(), "the redirect target got a request");
    assert_eq!(fake.seen().len(), 2);
}

/// A non-streaming answer far larger than any real one is refused without holding it all.
#[tokio::test]
async fn a_huge_answer_is_refused() {
    let (up, fake) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[up], ""), &[]).await;
    fake.push(Reply::Huge(80 << 20));
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(response).await;
    assert!(status >= 500, "{status}");
    assert!(message.contains("larger than 64 MiB"), "{message}");
}

/// A client that never finishes its request head is closed once the header-read timeout
/// passes (it used to hold its socket forever, token or not).
#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (up, _fake) = fake_upstream().await;
    let gw = Gateway::start(&passthrough_config(&[up], ""), &[]).await;
    let mut tcp = tokio::net::TcpStream::connect(gw.engine.listen_addr())
        .await
        .unwrap();
    tcp.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let bound = switchyard_core::server::HEADER_READ_TIMEOUT + Duration::from_secs(3);
    let read = tokio::time::timeout(bound, tcp.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "still open after {:?}", started.elapsed());
    assert!(
        started.elapsed() >= switchyard_core::server::HEADER_READ_TIMEOUT - Duration::from_secs(1)
    );
}

/// Shutdown waits for running requests, but not forever: a stream that never ends and a
/// half-sent request are closed at the drain deadline.
#[tokio::test]
async fn shutdown_drains_for_a_bounded_time() {
    use tokio::io::AsyncWriteExt;
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::StreamThenHang(vec![Bytes::from(
        sse_events()[0].clone(),
    )]));
    let gw = Gateway::start(&passthrough_config(&[up], "timeout_idle_s = 3600"), &[]).await;
    let response = gw
        .post("/v1/messages")
        .body(request("m", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut half = tokio::net::TcpStream::connect(gw.engine.listen_addr())
        .await
        .unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let bound = switchyard_core::server::DRAIN_DEADLINE + Duration::from_secs(5);
    assert!(
        tokio::time::timeout(bound, gw.engine.shutdown())
            .await
            .is_ok(),
        "shutdown still waiting after {:?}",
        started.elapsed()
    );
    // The stream was cut, not left hanging.
    let rest = tokio::time::timeout(Duration::from_secs(5), response.text()).await;
    assert!(rest.is_ok(), "the client's stream is still open");
}

/// Counting four multi-MB prompts at once does not hold up `/health`: the heavy work hands its
/// worker over (it took both workers, and `/health` waited for the counts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heavy_counts_do_not_starve_other_requests() {
    let (up, _fake) = fake_upstream().await;
    // A translating backend: the count is the local estimate, all CPU.
    let config = format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"t\"\nkind = \"openai_chat\"\nbase_url = \"http://{up}/v1\"\n[profiles.p]\ndefault = {{ backend = \"t\", model = \"m\" }}\n"
    );
    let gw = Gateway::start(&config, &[]).await;
    let words: String = (0..400_000).map(|i| format!("w{i} ")).collect();
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","messages":[{{"role":"user","content":"{words}"}}]}}"#
    );
    let started = std::time::Instant::now();
    let counts: Vec<_> = (0..4)
        .map(|_| {
            let request = gw.post("/v1/messages/count_tokens").body(body.clone());
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 200);
                started.elapsed()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let health = gw
        .client
        .get(format!("{}/health", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health_done = started.elapsed();
    let mut first_count = Duration::MAX;
    for count in counts {
        first_count = first_count.min(count.await.unwrap());
    }
    assert!(
        health_done < first_count,
        "/health answered after {health_done:?}, the first count after {first_count:?}"
    );
}
