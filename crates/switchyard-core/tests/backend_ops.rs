//! Backends as engine operations, against a real engine on loopback and fake upstreams:
//! checks that send the stored key, renames that keep it, deletions that handle the routes
//! using the backend.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::routing::get;
use switchyard_core::config::{self, BackendKind, RouteSpec};
use switchyard_core::discovery::{CheckOutcome, CheckedModel};
use switchyard_core::engine::{
    BackendDraft, BackendField, BackendOpError, DeleteMode, Dependent, Engine, EngineOptions,
    KeySource, TargetRole,
};
use switchyard_core::secrets::{
    ExposeSecret, MemoryStore, SecretStore, SecretString, backend_account,
};

const TOKEN: &str = "test-local-token";
const RIGHT_KEY: &str = "sk-right-key";

struct Running {
    engine: Engine,
    secrets: Arc<MemoryStore>,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

async fn start(config: &str, keys: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let secrets = Arc::new(MemoryStore::default());
    for (id, key) in keys {
        secrets
            .set(&backend_account(id), &SecretString::from((*key).to_owned()))
            .unwrap();
    }
    let engine = Engine::start(
        EngineOptions {
            config_path: Some(path.clone()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from(TOKEN.to_owned())),
            usage_sink: Some(Arc::new(())),
            ..Default::default()
        },
        secrets.clone(),
    )
    .await
    .unwrap();
    Running {
        engine,
        secrets,
        path,
        _dir: dir,
    }
}

impl Running {
    fn key(&self, id: &str) -> Option<String> {
        self.secrets
            .get(&backend_account(id))
            .unwrap()
            .map(|k| k.expose_secret().to_owned())
    }
}

/// The fake Anthropic upstream, answering 401 unless `x-api-key` is [`RIGHT_KEY`].
async fn anthropic_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = fake_upstream::Options {
        expect_key: Some(RIGHT_KEY.to_owned()),
        ..Default::default()
    };
    tokio::spawn(fake_upstream::serve(listener, options));
    addr
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// `cloud` (anthropic at `cloud`) and `local` (ollama at `local`), used by two profiles.
fn two_backends(cloud: SocketAddr, local: SocketAddr) -> String {
    format!(
        r#"active_profile = "main"

[[backends]]
id = "cloud"
kind = "anthropic"
base_url = "http://{cloud}"

[[backends]]
id = "local"
kind = "ollama"
base_url = "http://{local}"

[profiles.main]
default = {{ backend = "cloud" }}

[[profiles.main.rules]]
match = "*haiku*"
targets = [{{ backend = "local", model = "qwen" }}]
fallbacks = [{{ backend = "cloud" }}]

[[profiles.main.rules]]
match = "*opus*"
targets = [{{ backend = "cloud" }}]

[profiles.spare]
default = {{ backend = "local" }}
"#
    )
}

fn messages_request(base: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .header("content-type", "application/json")
        .body(r#"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#)
}

#[tokio::test]
async fn test_sends_the_stored_key_and_tells_right_from_wrong() {
    let cloud = anthropic_upstream().await;
    let config = two_backends(cloud, closed_port().await);

    let wrong = start(&config, &[("cloud", "sk-wrong-key")]).await;
    let check = wrong.engine.check_backend("cloud").await.unwrap();
    assert_eq!(check.outcome, CheckOutcome::KeyRejected);
    assert!(!check.ok);
    assert_eq!(check.message, "Key rejected by cloud");
    assert!(check.detail.contains("HTTP 401"), "{}", check.detail);
    assert!(!check.detail.contains("sk-wrong-key"), "{}", check.detail);

    let right = start(&config, &[("cloud", RIGHT_KEY)]).await;
    let check = right.engine.check_backend("cloud").await.unwrap();
    assert!(check.ok, "{check:?}");
    assert_eq!(check.message, "cloud is running and offers 2 models");
    let models = right.engine.backend_models("cloud").await.unwrap();
    assert_eq!(
        models,
        [
            CheckedModel {
                id: "claude-sonnet-4-5".into(),
                context_length: None
            },
            CheckedModel {
                id: "claude-haiku-4-5".into(),
                context_length: None
            },
        ]
    );

    let keyless = start(&config, &[]).await;
    let check = keyless.engine.check_backend("cloud").await.unwrap();
    assert_eq!(check.outcome, CheckOutcome::KeyMissing);
    assert_eq!(
        check.message,
        "cloud needs a key: add one in the backend's settings"
    );
}

#[tokio::test]
async fn a_stopped_server_is_not_running_at_its_url() {
    let local = closed_port().await;
    let running = start(&two_backends(closed_port().await, local), &[]).await;
    let check = running.engine.check_backend("local").await.unwrap();
    assert_eq!(check.outcome, CheckOutcome::NotRunning);
    assert_eq!(
        check.message,
        format!("local is not running at http://{local}")
    );
    assert!(matches!(
        running.engine.backend_models("local").await,
        Err(BackendOpError::CheckFailed(_))
    ));
}

#[tokio::test]
async fn openai_backends_get_the_key_as_a_bearer_token() {
    let app = Router::new().route(
        "/v1/models",
        get(|headers: http::HeaderMap| async move {
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
            if auth == Some("Bearer sk-openai") {
                (
                    http::StatusCode::OK,
                    r#"{"object":"list","data":[{"id":"qwen3","max_model_len":40960}]}"#,
                )
            } else {
                (http::StatusCode::UNAUTHORIZED, r#"{"error":"no"}"#)
            }
        }),
    );
    let addr = serve(app).await;
    let config = format!(
        "active_profile = \"p\"\n[profiles.p]\n[[backends]]\nid = \"vllm\"\nkind = \"openai_chat\"\nbase_url = \"http://{addr}/v1\"\n"
    );
    let running = start(&config, &[("vllm", "sk-openai")]).await;
    let check = running.engine.check_backend("vllm").await.unwrap();
    assert_eq!(
        check.outcome,
        CheckOutcome::Ok {
            models: vec![CheckedModel {
                id: "qwen3".into(),
                context_length: Some(40960)
            }]
        }
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let elsewhere = serve(Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { r#"{"data":[]}"# }
    }))
    .await;
    let redirecting = serve(Router::new().fallback(move || async move {
        (
            http::StatusCode::FOUND,
            [("location", format!("http://{elsewhere}/v1/models"))],
        )
    }))
    .await;
    let config = format!(
        "active_profile = \"p\"\n[profiles.p]\n[[backends]]\nid = \"moved\"\nkind = \"anthropic\"\nbase_url = \"http://{redirecting}\"\n"
    );
    let running = start(&config, &[("moved", RIGHT_KEY)]).await;
    let check = running.engine.check_backend("moved").await.unwrap();
    assert_eq!(check.outcome, CheckOutcome::Redirected);
    assert!(check.detail.contains("HTTP 302"), "{}", check.detail);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the redirect was followed");
}

#[tokio::test]
async fn renaming_moves_the_key_and_requests_still_authenticate() {
    let cloud = anthropic_upstream().await;
    let running = start(
        &two_backends(cloud, closed_port().await),
        &[("cloud", RIGHT_KEY)],
    )
    .await;
    let draft = BackendDraft {
        id: "anthropic".into(),
        kind: BackendKind::Anthropic,
        base_url: format!("http://{cloud}/"),
        region: None,
        project: None,
        api_key_env: None,
        context_length: None,
        max_output_tokens: None,
        local: None,
        rpm: None,
        tpm: None,
    };
    let saved = running
        .engine
        .save_backend(draft, Some("cloud"))
        .await
        .unwrap();
    assert_eq!(saved.id, "anthropic");
    assert_eq!(saved.base_url, format!("http://{cloud}"));
    assert_eq!(running.key("anthropic").as_deref(), Some(RIGHT_KEY));
    assert_eq!(running.key("cloud"), None);
    assert_eq!(
        running.engine.backend_info("anthropic").await.unwrap().key,
        KeySource::Keychain
    );

    // The file on disk names the new id everywhere.
    let on_disk = config::load(&running.path).unwrap();
    assert!(on_disk.backend("cloud").is_none());
    assert_eq!(
        on_disk.profiles["main"].default,
        Some(RouteSpec::Target(switchyard_core::config::TargetSpec {
            backend: "anthropic".into(),
            model: None,
            weight: None,
            vision: None,
        }))
    );
    assert_eq!(
        on_disk.profiles["main"].rules[0].fallbacks[0].backend,
        "anthropic"
    );

    let base = format!("http://{}", running.engine.listen_addr());
    let answer = messages_request(&base).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

#[tokio::test]
async fn form_errors_name_the_field() {
    let running = start(&two_backends(closed_port().await, closed_port().await), &[]).await;
    let draft = BackendDraft {
        id: "vllm".into(),
        kind: BackendKind::OpenaiChat,
        base_url: "127.0.0.1:8000".into(),
        region: None,
        project: None,
        api_key_env: None,
        context_length: None,
        max_output_tokens: None,
        local: None,
        rpm: None,
        tpm: None,
    };
    match running.engine.save_backend(draft.clone(), None).await {
        Err(BackendOpError::Field { field, message }) => {
            assert_eq!(field, BackendField::BaseUrl);
            assert!(message.contains("http://"), "{message}");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    let taken = BackendDraft {
        id: "local".into(),
        base_url: "http://127.0.0.1:8000/v1".into(),
        region: None,
        project: None,
        ..draft
    };
    match running.engine.save_backend(taken, None).await {
        Err(BackendOpError::Field { field, message }) => {
            assert_eq!(field, BackendField::Id);
            assert!(message.contains("already called local"), "{message}");
        }
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(running.engine.config().backends.len(), 2);
}

fn dependent(profile: &str, rule: Option<(u32, &str)>, role: TargetRole) -> Dependent {
    Dependent {
        profile: profile.into(),
        rule: rule.map(|(_, p)| p.into()),
        rule_index: rule.map(|(i, _)| i),
        role,
    }
}

#[tokio::test]
async fn deleting_a_used_backend_refuses_and_lists_the_routes() {
    let running = start(
        &two_backends(closed_port().await, closed_port().await),
        &[("cloud", RIGHT_KEY)],
    )
    .await;
    let expected = vec![
        dependent("main", None, TargetRole::Target),
        dependent("main", Some((0, "*haiku*")), TargetRole::Fallback),
        dependent("main", Some((1, "*opus*")), TargetRole::Target),
    ];
    assert_eq!(running.engine.backend_dependents("cloud"), expected);
    match running
        .engine
        .delete_backend("cloud", DeleteMode::RefuseIfUsed)
        .await
    {
        Err(BackendOpError::InUse { id, dependents }) => {
            assert_eq!(id, "cloud");
            assert_eq!(dependents, expected);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(running.engine.config().backend("cloud").is_some());
    assert_eq!(running.key("cloud").as_deref(), Some(RIGHT_KEY));
}

#[tokio::test]
async fn removing_the_targets_leaves_a_valid_config() {
    let running = start(
        &two_backends(closed_port().await, closed_port().await),
        &[("cloud", RIGHT_KEY)],
    )
    .await;
    let removal = running
        .engine
        .delete_backend("cloud", DeleteMode::RemoveTargets)
        .await
        .unwrap();
    assert_eq!(
        removal.removed,
        [
            dependent("main", None, TargetRole::Target),
            dependent("main", Some((1, "*opus*")), TargetRole::Target),
        ]
    );
    assert!(removal.key_deleted);
    assert_eq!(running.key("cloud"), None);
    let on_disk = config::load(&running.path).unwrap();
    assert!(on_disk.backend("cloud").is_none());
    let main = &on_disk.profiles["main"];
    assert_eq!(main.default, None);
    assert_eq!(main.rules.len(), 1);
    assert_eq!(main.rules[0].pattern, "*haiku*");
    assert!(main.rules[0].fallbacks.is_empty());
}

#[tokio::test]
async fn repointing_leaves_a_valid_config() {
    let running = start(&two_backends(closed_port().await, closed_port().await), &[]).await;
    let removal = running
        .engine
        .delete_backend("cloud", DeleteMode::RepointTo("local".into()))
        .await
        .unwrap();
    assert_eq!(removal.repointed_to.as_deref(), Some("local"));
    assert_eq!(removal.changed.len(), 3);
    let on_disk = config::load(&running.path).unwrap();
    assert!(on_disk.backend("cloud").is_none());
    let main = &on_disk.profiles["main"];
    assert_eq!(main.rules.len(), 2);
    assert_eq!(main.rules[0].targets[0].backend, "local");
    assert_eq!(main.rules[0].fallbacks[0].backend, "local");
    assert_eq!(main.rules[1].targets[0].backend, "local");
    assert!(matches!(
        running
            .engine
            .delete_backend("local", DeleteMode::RepointTo("local".into()))
            .await,
        Err(BackendOpError::RepointToItself(_))
    ));
}

/// A loopback proxy to a cloud provider is a cloud backend when the user says so: the form's
/// choice reaches the file, and the app then shows (and the usage writer prices) it as cloud.
#[tokio::test]
async fn a_backend_can_say_it_is_a_cloud_behind_a_loopback_address() {
    let cloud = anthropic_upstream().await;
    let running = start(&two_backends(cloud, closed_port().await), &[]).await;
    let proxy = BackendDraft {
        id: "litellm-proxy".into(),
        kind: BackendKind::Anthropic,
        base_url: "http://127.0.0.1:4000".into(),
        region: None,
        project: None,
        api_key_env: None,
        context_length: None,
        max_output_tokens: None,
        local: Some(false),
        rpm: None,
        tpm: None,
    };
    running.engine.save_backend(proxy, None).await.unwrap();
    let info = running.engine.backend_info("litellm-proxy").await.unwrap();
    assert!(!info.local, "declared cloud despite the loopback URL");
    assert_eq!(info.local_declared, Some(false));
    let on_disk = config::load(&running.path).unwrap();
    assert_eq!(on_disk.backend("litellm-proxy").unwrap().local, Some(false));
}
