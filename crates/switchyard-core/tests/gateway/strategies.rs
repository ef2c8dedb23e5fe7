//! The balancing strategies on the real gateway: `least_busy` sends a request past a backend
//! that is busy with another; `lowest_latency` prefers the target that answered faster;
//! `usage` the one that served fewer tokens this minute; `allowed_fails` lets failures pass
//! before a backend cools down.

use std::time::Duration;

use crate::harness::*;

async fn gateway(strategy: &str, backend_lines: &str) -> (Gateway, Fake, Fake) {
    let (a, slow) = fake_upstream().await;
    let (b, fast) = fake_upstream().await;
    let text = format!(
        "active_profile = \"p\"\n\
         [[backends]]\nid = \"a\"\nkind = \"anthropic\"\nbase_url = \"http://{a}\"\n{backend_lines}\n\
         [[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://{b}\"\n{backend_lines}\n\
         [profiles.p]\nstrategy = \"{strategy}\"\ndefault = {{ targets = [{{ backend = \"a\" }}, {{ backend = \"b\" }}] }}\n"
    );
    (Gateway::start(&text, &[]).await, slow, fast)
}

async fn ask(gw: &Gateway) -> u16 {
    gw.post("/v1/messages")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn least_busy_goes_past_a_backend_with_a_request_in_flight() {
    let (gw, a, b) = gateway("least_busy", "").await;
    // A request that keeps `a` busy (its answer comes after 600 ms).
    a.push(Reply::Delay(
        Duration::from_millis(600),
        Box::new(Reply::Json(200, message_json("slow"))),
    ));
    b.push(Reply::Json(200, message_json("free")));
    let busy = {
        let request = gw
            .post("/v1/messages")
            .body(request("claude-sonnet-4-5", false));
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    };
    // Until the first request is in flight at `a`.
    for _ in 0..100 {
        if !a.seen().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(a.seen().len(), 1);
    assert_eq!(ask(&gw).await, 200);
    assert_eq!(
        b.seen().len(),
        1,
        "the second request went to the idle backend"
    );
    assert_eq!(busy.await.unwrap(), 200);
    // Both idle again: the order written decides.
    a.push(Reply::Json(200, message_json("again")));
    assert_eq!(ask(&gw).await, 200);
    assert_eq!(a.seen().len(), 2);
}

#[tokio::test]
async fn lowest_latency_prefers_the_target_that_answered_faster() {
    let (gw, a, b) = gateway("lowest_latency", "").await;
    // Neither measured: the order written (a), then b is measured too.
    a.push(Reply::Delay(
        Duration::from_millis(150),
        Box::new(Reply::Json(200, message_json("slow"))),
    ));
    assert_eq!(ask(&gw).await, 200);
    b.push(Reply::Json(200, message_json("fast")));
    assert_eq!(ask(&gw).await, 200, "b, not measured yet, goes first");
    assert_eq!((a.seen().len(), b.seen().len()), (1, 1));
    for _ in 0..3 {
        b.push(Reply::Json(200, message_json("fast")));
        assert_eq!(ask(&gw).await, 200);
    }
    assert_eq!(
        (a.seen().len(), b.seen().len()),
        (1, 4),
        "the faster one keeps it"
    );
}

#[tokio::test]
async fn usage_prefers_the_backend_that_served_fewer_tokens_this_minute() {
    let (gw, a, b) = gateway("usage", "").await;
    // Each answer uses 12 + 3 + 4 tokens (message_json): a, then b (fewer), then a tie ->
    // the order written (a).
    a.push(Reply::Json(200, message_json("one")));
    b.push(Reply::Json(200, message_json("two")));
    a.push(Reply::Json(200, message_json("three")));
    for _ in 0..3 {
        assert_eq!(ask(&gw).await, 200);
    }
    assert_eq!((a.seen().len(), b.seen().len()), (2, 1));
}

/// `allowed_fails = 1`: after one failure `a` is still tried first; after the second within
/// the minute it cools down and `b` goes first.
#[tokio::test]
async fn allowed_fails_let_a_failure_pass_before_the_backend_cools_down() {
    let (gw, a, b) = gateway("ordered", "allowed_fails = 1\ncooldown_s = 60").await;
    let overloaded = || {
        Reply::Json(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#.into(),
        )
    };
    a.push(overloaded());
    b.push(Reply::Json(200, message_json("b1")));
    assert_eq!(ask(&gw).await, 200);
    a.push(overloaded());
    b.push(Reply::Json(200, message_json("b2")));
    assert_eq!(ask(&gw).await, 200);
    assert_eq!(a.seen().len(), 2, "one failure allowed: a was tried again");
    b.push(Reply::Json(200, message_json("b3")));
    assert_eq!(ask(&gw).await, 200);
    assert_eq!(
        a.seen().len(),
        2,
        "two failures: a cools down and goes last"
    );
    assert_eq!(b.seen().len(), 3);
}
