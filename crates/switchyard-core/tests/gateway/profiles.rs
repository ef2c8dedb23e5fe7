//! A base URL per profile: `/profiles/<name>/v1/...` routes under that profile whatever the
//! active one is (two terminals, two setups, no global switch).

use crate::harness::*;

fn two_profiles(local: std::net::SocketAddr, cloud: std::net::SocketAddr) -> String {
    format!(
        "active_profile = \"local\"\n[[backends]]\nid = \"near\"\nkind = \"anthropic\"\nbase_url = \"http://{local}\"\n[[backends]]\nid = \"far\"\nkind = \"anthropic\"\nbase_url = \"http://{cloud}\"\n[profiles.local]\ndefault = {{ backend = \"near\", model = \"local-model\" }}\n[profiles.cloud]\ndefault = {{ backend = \"far\", model = \"cloud-model\" }}\n[[profiles.cloud.rules]]\nmatch = \"claude-opus-4-5\"\ntargets = [{{ backend = \"far\" }}]\n"
    )
}

#[tokio::test]
async fn a_profile_in_the_url_wins_over_the_active_one() {
    let (local, near) = fake_upstream().await;
    let (cloud, far) = fake_upstream().await;
    let gw = Gateway::start(&two_profiles(local, cloud), &[]).await;

    far.push(Reply::Json(200, message_json("from the cloud")));
    let response = gw
        .post("/profiles/cloud/v1/messages?beta=true")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("from the cloud"));
    assert_eq!(far.seen().len(), 1);
    assert_eq!(far.seen()[0].query.as_deref(), Some("beta=true"));
    let sent: serde_json::Value = serde_json::from_slice(&far.seen()[0].body).unwrap();
    assert_eq!(sent["model"], "cloud-model");
    assert!(
        near.seen().is_empty(),
        "the active profile's backend got the request"
    );

    // The unprefixed URL still follows the active profile.
    near.push(Reply::Json(200, message_json("local")));
    let response = gw
        .post("/v1/messages")
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(near.seen().len(), 1);

    let records = gw.records.wait_for(2).await;
    assert_eq!(records[0].profile, "cloud");
    assert_eq!(records[1].profile, "local");

    // That profile's models.
    let models: serde_json::Value = gw
        .client
        .get(format!("{}/profiles/cloud/v1/models", gw.base))
        .header("x-api-key", TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"claude-opus-4-5"), "{ids:?}");
}

#[tokio::test]
async fn an_unknown_profile_is_a_404_naming_it_and_the_guard_still_applies() {
    let (local, near) = fake_upstream().await;
    let (cloud, _far) = fake_upstream().await;
    let gw = Gateway::start(&two_profiles(local, cloud), &[]).await;
    for path in [
        "/profiles/work/v1/messages",
        "/profiles/work/v1/messages/count_tokens",
    ] {
        let response = gw
            .post(path)
            .body(request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "not_found_error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("\"work\"") && message.contains("cloud, local"),
            "{message}"
        );
    }
    let no_token = gw
        .client
        .post(format!("{}/profiles/cloud/v1/messages", gw.base))
        .body(request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    assert!(near.seen().is_empty());
}
