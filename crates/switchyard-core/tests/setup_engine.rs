//! The first-hour operations against a real engine and a fake Ollama on loopback: engines on
//! extra URLs are found, already-configured ones name their backend, adding gives unique ids,
//! mapping the families keeps the other rules and the file's comments.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use switchyard_core::config::{BackendKind, TargetSpec};
use switchyard_core::discovery::EngineKind;
use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{MemoryStore, SecretString};
use switchyard_core::setup::FamilyModels;

async fn fake_ollama() -> String {
    let app = Router::new()
        .route(
            "/api/version",
            get(|| async { Json(json!({"version": "0.33.0"})) }),
        )
        .route(
            "/api/tags",
            get(|| async {
                Json(json!({"models": [
                    {"name": "qwen2.5-coder:1.5b", "model": "qwen2.5-coder:1.5b"},
                    {"name": "qwen2.5-coder:14b", "model": "qwen2.5-coder:14b"}
                ]}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn start(path: &Path, discover: Vec<String>) -> Engine {
    Engine::start(
        EngineOptions {
            config_path: Some(path.to_owned()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from("t".to_owned())),
            usage_sink: Some(Arc::new(())),
            discover_urls: Some(discover),
            ..Default::default()
        },
        Arc::new(MemoryStore::default()),
    )
    .await
    .unwrap()
}

fn config_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("config.toml")
}

#[tokio::test]
async fn a_fresh_config_is_a_first_run_and_an_extra_engine_is_found_and_added() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_path(&dir);
    let url = fake_ollama().await;
    let engine = start(&path, vec![format!("{url}/")]).await;
    assert!(engine.first_run());

    let found = engine.discover_engines().await;
    let ours: Vec<_> = found.iter().filter(|f| f.base_url == url).collect();
    assert_eq!(ours.len(), 1, "{found:?}");
    assert_eq!(ours[0].engine, EngineKind::Ollama);
    assert_eq!(
        ours[0].models,
        vec![
            "qwen2.5-coder:1.5b".to_owned(),
            "qwen2.5-coder:14b".to_owned()
        ]
    );
    assert_eq!(ours[0].backend_id, None);
    assert_eq!(
        ours[0].suggested.sonnet.as_deref(),
        Some("qwen2.5-coder:14b")
    );
    assert!(engine.discovery_urls().contains(&url));

    // The default config already has an `ollama` backend (on the usual port).
    let first = engine
        .add_found_engine(&url, EngineKind::Ollama)
        .await
        .unwrap();
    assert_eq!(first.id, "ollama-2");
    assert_eq!(first.kind, BackendKind::Ollama);
    assert_eq!(first.base_url, url);
    let second = engine
        .add_found_engine(&url, EngineKind::Ollama)
        .await
        .unwrap();
    assert_eq!(second.id, "ollama-3");

    let again = engine.discover_engines().await;
    let ours = again.iter().find(|f| f.base_url == url).unwrap();
    assert_eq!(ours.backend_id.as_deref(), Some("ollama-2"));

    let vllm = engine
        .add_found_engine("http://127.0.0.1:9/v1/", EngineKind::Vllm)
        .await
        .unwrap();
    assert_eq!(vllm.id, "vllm");
    assert_eq!(vllm.kind, BackendKind::OpenaiChat);
    assert_eq!(vllm.base_url, "http://127.0.0.1:9/v1");
    engine.shutdown().await;
}

#[tokio::test]
async fn an_existing_config_is_not_a_first_run_and_its_backend_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_path(&dir);
    let url = fake_ollama().await;
    std::fs::write(
        &path,
        format!(
            "active_profile = \"local\"\n[[backends]]\nid = \"mine\"\nkind = \"openai_chat\"\nbase_url = \"{url}/v1\"\n[profiles.local]\ndefault = {{ backend = \"mine\" }}\n"
        ),
    )
    .unwrap();
    let engine = start(&path, vec![url.clone()]).await;
    assert!(!engine.first_run());
    let found = engine.discover_engines().await;
    let ours = found.iter().find(|f| f.base_url == url).unwrap();
    assert_eq!(ours.backend_id.as_deref(), Some("mine"));
    engine.shutdown().await;
}

#[tokio::test]
async fn mapping_families_replaces_their_rules_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_path(&dir);
    std::fs::write(
        &path,
        r#"# my own notes
active_profile = "local"
[[backends]]
id = "ollama"
kind = "ollama"
base_url = "http://127.0.0.1:11434"
[[backends]]
id = "cloud"
kind = "anthropic"
base_url = "https://api.anthropic.com"
[profiles.local]
default = { backend = "cloud" }
# exact models first
[[profiles.local.rules]]
match = "claude-3-5-*"
targets = [{ backend = "cloud" }]
[[profiles.local.rules]]
match = "*haiku*"
targets = [{ backend = "cloud", model = "claude-haiku-4-5" }]
"#,
    )
    .unwrap();
    let engine = start(&path, Vec::new()).await;
    let view = engine
        .map_families(
            "local",
            "ollama",
            FamilyModels {
                opus: None,
                sonnet: Some("qwen2.5-coder:14b".into()),
                haiku: Some("qwen2.5-coder:1.5b".into()),
            },
        )
        .await
        .unwrap();
    let patterns: Vec<&str> = view.rules.iter().map(|r| r.pattern.as_str()).collect();
    assert_eq!(patterns, ["*sonnet*", "claude-3-5-*", "*haiku*"]);
    let ollama = |model: &str| TargetSpec {
        backend: "ollama".into(),
        model: Some(model.into()),
        weight: None,
        vision: None,
    };
    assert_eq!(
        view.rules[0].route.targets,
        vec![ollama("qwen2.5-coder:14b")]
    );
    assert_eq!(
        view.rules[2].route.targets,
        vec![ollama("qwen2.5-coder:1.5b")]
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# my own notes"), "{text}");
    assert!(text.contains("# exact models first"), "{text}");
    assert!(text.contains("claude-3-5-*"), "{text}");
    assert!(!text.contains("claude-haiku-4-5"), "{text}");
    assert!(!text.contains("*opus*"), "{text}");
    let err = engine
        .map_families("nope", "ollama", FamilyModels::default())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "There is no profile called “nope”.");
    engine.shutdown().await;
}
