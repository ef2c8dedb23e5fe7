//! Key pools (`keys = ["work", "personal"]` on a backend): requests rotate over the usable
//! keys; a key the upstream refuses (401/403) is set aside until it is set anew, a throttled
//! one (429) until its `retry-after`; the usage row names the key, never the secret.

use switchyard_core::config::key_account;
use switchyard_core::gateway::KeyHealth;

use crate::harness::*;

const WORK: &str = "sk-work-canary-1";
const PERSONAL: &str = "sk-personal-canary-2";

/// A pass-through backend `pool` with two named keys, the only target of every model.
async fn pool_gateway() -> (Gateway, Fake) {
    let (addr, fake) = fake_upstream().await;
    let text = format!(
        "active_profile = \"p\"\n\
         [[backends]]\nid = \"pool\"\nkind = \"anthropic\"\nbase_url = \"http://{addr}\"\nkeys = [\"work\", \"personal\"]\n\
         [profiles.p]\ndefault = {{ backend = \"pool\" }}\n"
    );
    let entries = [
        (key_account("pool", Some("work")), WORK),
        (key_account("pool", Some("personal")), PERSONAL),
    ];
    let gw = Gateway::start_with_secrets(tempfile::tempdir().unwrap(), &text, &entries).await;
    (gw, fake)
}

fn key_sent(seen: &Seen) -> &str {
    seen.headers["x-api-key"].to_str().unwrap()
}

fn pool_keys(gw: &Gateway) -> Vec<(String, KeyHealth)> {
    gw.engine
        .backend_states()
        .into_iter()
        .find(|s| s.backend == "pool")
        .unwrap()
        .keys
        .into_iter()
        .map(|k| (k.name, k.health))
        .collect()
}

#[tokio::test]
async fn requests_rotate_over_the_keys_and_the_row_names_each() {
    let (gw, fake) = pool_gateway().await;
    for i in 0..4 {
        fake.push(Reply::Json(200, message_json(&format!("answer {i}"))));
    }
    for _ in 0..4 {
        assert_eq!(gw.ask("claude-sonnet-4-5", false).await.status(), 200);
    }
    let sent: Vec<String> = fake.seen().iter().map(|s| key_sent(s).to_owned()).collect();
    assert_eq!(sent, [WORK, PERSONAL, WORK, PERSONAL]);
    let records = gw.records.wait_for(4).await;
    let names: Vec<_> = records.iter().map(|r| r.key_name.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("work"),
            Some("personal"),
            Some("work"),
            Some("personal")
        ]
    );
    assert!(
        pool_keys(&gw)
            .iter()
            .all(|(_, health)| *health == KeyHealth::Ready)
    );
}

#[tokio::test]
async fn a_throttled_key_is_answered_by_the_next_and_rests_until_its_retry_after() {
    let (gw, fake) = pool_gateway().await;
    fake.push(Reply::JsonRetryAfter(
        429,
        30,
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
    ));
    for i in 0..3 {
        fake.push(Reply::Json(200, message_json(&format!("answer {i}"))));
    }
    let first = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(first.status(), 200, "the second key answered at once");
    for _ in 0..2 {
        assert_eq!(gw.ask("claude-sonnet-4-5", false).await.status(), 200);
    }
    let sent: Vec<String> = fake.seen().iter().map(|s| key_sent(s).to_owned()).collect();
    assert_eq!(
        sent,
        [WORK, PERSONAL, PERSONAL, PERSONAL],
        "work is not used again within its 30 s"
    );
    let records = gw.records.wait_for(3).await;
    assert_eq!(records[0].key_name.as_deref(), Some("personal"));
    assert_eq!(records[0].attempts, 2);
    assert_eq!(
        records[0].notes.as_deref(),
        Some("key work of pool throttled (429) for 30 s")
    );
    let keys = pool_keys(&gw);
    assert_eq!(keys[0].0, "work");
    let KeyHealth::CoolingDown { until_ms } = keys[0].1 else {
        panic!("work should be cooling down: {keys:?}");
    };
    let in_s = (until_ms - switchyard_core::usage::now_ms()) / 1000;
    assert!((25..=30).contains(&in_s), "{in_s}");
    assert_eq!(keys[1], ("personal".to_owned(), KeyHealth::Ready));
}

#[tokio::test]
async fn when_every_key_is_throttled_the_client_gets_a_429_with_retry_after() {
    let (gw, fake) = pool_gateway().await;
    for _ in 0..2 {
        fake.push(Reply::JsonRetryAfter(
            429,
            20,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#.into(),
        ));
    }
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 429);
    assert_eq!(fake.seen().len(), 2, "each key tried once");
    // Both keys rest now: the next request is refused without calling the upstream, told when
    // the first key is free again.
    let response = gw.ask("claude-sonnet-4-5", false).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((15..=20).contains(&retry_after), "{retry_after}");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "rate_limit_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("pool (all keys cooling down)"),
        "{message}"
    );
    assert_eq!(fake.seen().len(), 2, "the upstream was not called again");
}

#[tokio::test]
async fn a_refused_key_is_set_aside_until_it_is_set_anew() {
    let (gw, fake) = pool_gateway().await;
    fake.push(Reply::Json(
        401,
        r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#
            .into(),
    ));
    for i in 0..3 {
        fake.push(Reply::Json(200, message_json(&format!("answer {i}"))));
    }
    assert_eq!(
        gw.ask("claude-sonnet-4-5", false).await.status(),
        200,
        "the second key answered"
    );
    assert_eq!(gw.ask("claude-sonnet-4-5", false).await.status(), 200);
    let sent: Vec<String> = fake.seen().iter().map(|s| key_sent(s).to_owned()).collect();
    assert_eq!(sent, [WORK, PERSONAL, PERSONAL]);
    let keys = pool_keys(&gw);
    assert!(
        matches!(keys[0].1, KeyHealth::Rejected { status: 401, .. }),
        "{keys:?}"
    );
    let records = gw.records.wait_for(2).await;
    assert_eq!(
        records[0].notes.as_deref(),
        Some("key work of pool refused (401)")
    );

    // A new secret for `work` (the app's backend form, `switchyard key set pool --name work`)
    // puts it back in turn.
    gw.engine
        .add_backend_key(
            "pool",
            Some("work".into()),
            switchyard_core::secrets::SecretString::from("sk-work-new".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(pool_keys(&gw)[0].1, KeyHealth::Ready);
    fake.push(Reply::Json(200, message_json("again")));
    for _ in 0..2 {
        assert_eq!(gw.ask("claude-sonnet-4-5", false).await.status(), 200);
    }
    let sent: Vec<String> = fake.seen().iter().map(|s| key_sent(s).to_owned()).collect();
    assert!(sent[3..].contains(&"sk-work-new".to_owned()), "{sent:?}");
}

#[tokio::test]
async fn when_every_key_is_refused_the_message_names_them_and_the_way_out() {
    let (gw, fake) = pool_gateway().await;
    for _ in 0..2 {
        fake.push(Reply::Json(
            403,
            r#"{"type":"error","error":{"type":"permission_error","message":"key disabled"}}"#
                .into(),
        ));
    }
    let response = gw.ask("claude-sonnet-4-5", false).await;
    let error: serde_json::Value = response.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("work was refused (403)")
            && message.contains("personal was refused (403)")
            && message.contains("switchyard key set pool --name"),
        "{message}"
    );
    assert!(!message.contains("canary"), "{message}");
    assert_eq!(fake.seen().len(), 2);
}

/// The backend's own keychain entry in a pool (`default`) is named in the usage row too.
#[tokio::test]
async fn the_backends_own_key_in_a_pool_is_named_default() {
    let (addr, fake) = fake_upstream().await;
    let text = format!(
        "active_profile = \"p\"\n\
         [[backends]]\nid = \"pool\"\nkind = \"anthropic\"\nbase_url = \"http://{addr}\"\nkeys = [\"default\", \"work\"]\n\
         [profiles.p]\ndefault = {{ backend = \"pool\" }}\n"
    );
    let entries = [
        (key_account("pool", None), PERSONAL),
        (key_account("pool", Some("work")), WORK),
    ];
    let gw = Gateway::start_with_secrets(tempfile::tempdir().unwrap(), &text, &entries).await;
    for i in 0..2 {
        fake.push(Reply::Json(200, message_json(&format!("answer {i}"))));
    }
    for _ in 0..2 {
        assert_eq!(gw.ask("claude-sonnet-4-5", false).await.status(), 200);
    }
    let sent: Vec<String> = fake.seen().iter().map(|s| key_sent(s).to_owned()).collect();
    assert_eq!(sent, [PERSONAL, WORK]);
    let records = gw.records.wait_for(2).await;
    let names: Vec<_> = records.iter().map(|r| r.key_name.as_deref()).collect();
    assert_eq!(names, [Some("default"), Some("work")]);
}
