//! Config edits through the engine are serialised and never undo another program's change.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::Arc;

use switchyard_core::config::{self, DEFAULT_CONFIG};
use switchyard_core::engine::{Engine, EngineOptions, ProfileError};
use switchyard_core::secrets::{MemoryStore, SecretString};

async fn start(dir: &std::path::Path) -> Engine {
    let path = dir.join("config.toml");
    std::fs::write(&path, DEFAULT_CONFIG).unwrap();
    Engine::start(
        EngineOptions {
            config_path: Some(path),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from("t".to_owned())),
            usage_sink: Some(Arc::new(())),
            ..Default::default()
        },
        Arc::new(MemoryStore::default()),
    )
    .await
    .unwrap()
}

/// Sixteen edits at once from the app's side: every one lands (none is based on a config
/// another has already replaced).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let engine = start(dir.path()).await;
    let edits: Vec<_> = (0..16)
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.create_profile(&format!("p{i}")).await })
        })
        .collect();
    for edit in edits {
        edit.await.unwrap().unwrap();
    }
    let on_disk = config::load(&engine.config_path()).unwrap();
    for i in 0..16 {
        assert!(
            on_disk.profiles.contains_key(&format!("p{i}")),
            "p{i} was lost"
        );
    }
    assert_eq!(*engine.config(), on_disk);
    engine.shutdown().await;
}

/// The CLI (or an editor) changed the file after the app read it: the app's edit is refused
/// with a sentence, the file keeps the other program's change, and the engine now uses it.
#[tokio::test]
async fn an_edit_over_a_file_changed_elsewhere_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let engine = start(dir.path()).await;
    let path = engine.config_path();
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("active_profile = \"local\"", "active_profile = \"cloud\"");
    std::fs::write(&path, &edited).unwrap();

    let err = engine.create_profile("work").await.unwrap_err();
    assert!(matches!(err, ProfileError::Engine(_)), "{err:?}");
    assert!(
        err.to_string().contains("changed by another program"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    assert_eq!(engine.config().active_profile, "cloud");
    // Made again, the edit lands on top of the other program's change.
    engine.create_profile("work").await.unwrap();
    let on_disk = config::load(&path).unwrap();
    assert_eq!(on_disk.active_profile, "cloud");
    assert!(on_disk.profiles.contains_key("work"));
    engine.shutdown().await;
}

/// A rule's conditions, written by hand, survive a save of the profile from the app.
#[tokio::test]
async fn a_saved_profile_keeps_its_rules_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = start(dir.path()).await;
    let path = engine.config_path();
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        "\n# Images go to the vision model.\n[[profiles.local.rules]]\nwhen = { images = true }\ntargets = [{ backend = \"ollama\", model = \"qwen2.5vl:7b\" }]\n",
    );
    std::fs::write(&path, &text).unwrap();
    engine.shutdown().await;
    let engine = Engine::start(
        EngineOptions {
            config_path: Some(path.clone()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from("t".to_owned())),
            usage_sink: Some(Arc::new(())),
            ..Default::default()
        },
        Arc::new(MemoryStore::default()),
    )
    .await
    .unwrap();
    let mut view = engine
        .profiles()
        .into_iter()
        .find(|p| p.name == "local")
        .unwrap();
    let conditional = view
        .rules
        .iter()
        .find(|r| r.when.is_some())
        .unwrap()
        .clone();
    assert_eq!(conditional.pattern, "*");
    // The user reorders the rules in the app and saves.
    view.rules.reverse();
    engine.save_profile(view).await.unwrap();
    let saved = config::load(&path).unwrap();
    let rule = saved.profiles["local"]
        .rules
        .iter()
        .find(|r| r.when.is_some())
        .unwrap();
    assert_eq!(rule.when.as_ref().unwrap().images, Some(true));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("# Images go to the vision model.")
    );
    engine.shutdown().await;
}

/// The app's "Copy env for this profile": the exports of a terminal routed under it.
#[tokio::test]
async fn the_env_for_a_profile_points_at_its_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let engine = start(dir.path()).await;
    let env = engine.claude_env_for_profile("cloud").unwrap();
    let base = env
        .vars
        .iter()
        .find(|v| v.name == "ANTHROPIC_BASE_URL")
        .unwrap();
    assert_eq!(
        base.value,
        format!("http://{}/profiles/cloud", engine.listen_addr())
    );
    assert!(env.shell.contains("/profiles/cloud"));
    assert!(matches!(
        engine.claude_env_for_profile("work"),
        Err(ProfileError::NotFound(name)) if name == "work"
    ));
    engine.shutdown().await;
}
