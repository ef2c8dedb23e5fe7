//! Rate limits (`rpm`, `tpm` on a backend): a target at its limit is skipped to the next, and
//! only when none is left does the client get a 429 `rate_limit_error` with `retry-after`.

use crate::harness::*;

/// `limited` (the first target, with `limit`) and `spare` (the second); model `claude-haiku-4-5`
/// goes to `limited` alone.
async fn gateway(limit: &str) -> (Gateway, Fake, Fake) {
    let (a, limited) = fake_upstream().await;
    let (b, spare) = fake_upstream().await;
    let text = format!(
        "active_profile = \"p\"\n\
         [[backends]]\nid = \"limited\"\nkind = \"anthropic\"\nbase_url = \"http://{a}\"\n{limit}\n\
         [[backends]]\nid = \"spare\"\nkind = \"anthropic\"\nbase_url = \"http://{b}\"\n\
         [profiles.p]\ndefault = {{ targets = [{{ backend = \"limited\" }}, {{ backend = \"spare\" }}] }}\n\
         [[profiles.p.rules]]\nmatch = \"claude-haiku-4-5\"\ntargets = [{{ backend = \"limited\" }}]\n"
    );
    (Gateway::start(&text, &[]).await, limited, spare)
}

#[tokio::test]
async fn rpm_sends_the_next_request_of_the_minute_to_the_next_target_then_refuses() {
    let (gw, limited, spare) = gateway("rpm = 1").await;
    limited.push(Reply::Json(200, message_json("first")));
    spare.push(Reply::Json(200, message_json("second")));
    for _ in 0..2 {
        let response = gw
            .post("/v1/messages")
            .body(request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(limited.seen().len(), 1);
    assert_eq!(
        spare.seen().len(),
        1,
        "the second request of the minute went on"
    );

    // A model routed to the limited backend alone: nothing is left.
    let response = gw
        .post("/v1/messages")
        .body(request("claude-haiku-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "rate_limit_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("limited (rpm)") && message.contains(&format!("retry in {retry_after} s")),
        "{message}"
    );
    assert_eq!(
        limited.seen().len(),
        1,
        "the limited backend was not called"
    );

    let records = gw.records.wait_for(3).await;
    assert_eq!(
        records[1].notes.as_deref(),
        Some("limited skipped at its rpm limit")
    );
    assert_eq!(records[1].backend.as_deref(), Some("spare"));
    assert_eq!(records[2].http_status, 429);
}

/// The estimate lets the first request through; the upstream's usage (12 + 3 + 4 cached
/// tokens) then fills the minute's 15, so the next request goes to the next target.
#[tokio::test]
async fn tpm_counts_the_real_usage_once_it_is_known() {
    let (gw, limited, spare) = gateway("tpm = 15").await;
    limited.push(Reply::Json(200, message_json("first")));
    spare.push(Reply::Json(200, message_json("second")));
    for _ in 0..2 {
        let response = gw
            .post("/v1/messages")
            .body(request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(limited.seen().len(), 1);
    assert_eq!(spare.seen().len(), 1);
    let records = gw.records.wait_for(2).await;
    assert_eq!(
        records[1].notes.as_deref(),
        Some("limited skipped at its tpm limit")
    );
}

#[tokio::test]
async fn a_backend_without_limits_takes_every_request() {
    let (gw, limited, spare) = gateway("").await;
    for _ in 0..5 {
        limited.push(Reply::Json(200, message_json("ok")));
        let response = gw
            .post("/v1/messages")
            .body(request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(limited.seen().len(), 5);
    assert!(spare.seen().is_empty());
}
