//! Importing LiteLLM proxy configs: every guide config in `fixtures/litellm/` into the default
//! config (the written file and the report as snapshots), and the rules the import keeps:
//! keys, targets, unknown providers, comments, dry runs, YAML errors, idempotence, backups,
//! the keychain failing, and the engine operation.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]
#![expect(clippy::panic, reason = "tests fail loudly")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use switchyard_core::config::{self, DEFAULT_CONFIG, RouteSpec, Strategy};
use switchyard_core::litellm::{self, ImportError, ImportOptions, Imported, Outcome};
use switchyard_core::secrets::{
    ExposeSecret, MemoryStore, SecretError, SecretStore, SecretString, backend_account,
};

fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn import(path: &Path, yaml: &str, store: &dyn SecretStore) -> Imported {
    litellm::import_into(path, yaml, ImportOptions::default(), store).unwrap()
}

fn dry_run(path: &Path, yaml: &str, store: &dyn SecretStore) -> Imported {
    let options = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    litellm::import_into(path, yaml, options, store).unwrap()
}

/// The report with the temporary folder's path taken out.
fn rendered(imported: &Imported, dir: &Path) -> String {
    let mut text = litellm::render(&imported.report);
    if let Some(backup) = &imported.report.backup {
        text = text.replace(backup, "<backup>");
    }
    text.replace(&dir.display().to_string(), "<dir>")
}

fn rule<'a>(config: &'a config::Config, profile: &str, pattern: &str) -> &'a config::Rule {
    config.profiles[profile]
        .rules
        .iter()
        .find(|r| r.pattern == pattern)
        .unwrap_or_else(|| panic!("no rule {pattern}"))
}

#[test]
fn every_guide_config_imports_into_the_default_config() {
    insta::glob!("fixtures/litellm/*.yaml", |fixture| {
        let yaml = std::fs::read_to_string(fixture).unwrap();
        let (dir, path) = config_file(DEFAULT_CONFIG);
        let store = MemoryStore::default();
        let imported = import(&path, &yaml, &store);
        let text = std::fs::read_to_string(&path).unwrap();
        // The file loads back to exactly what the import meant, with the default's comments.
        assert_eq!(
            config::load(&path).unwrap(),
            imported.config.clone().unwrap()
        );
        assert!(text.contains("# Switchyard configuration."));
        assert!(!text.contains("sk-1234") && !rendered(&imported, dir.path()).contains("sk-1234"));
        assert!(!text.contains("postgresql://"));
        insta::assert_snapshot!("config", text);
        insta::assert_snapshot!("report", rendered(&imported, dir.path()));
    });
}

const DEEPSEEK: &str = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: deepseek/deepseek-chat
      api_key: os.environ/DEEPSEEK_KEY
      rpm: 60
  - model_name: claude-haiku-4-5
    litellm_params:
      model: openrouter/qwen/qwen3-coder
      api_key: ${OPENROUTER_KEY}
";

#[test]
fn environment_keys_become_api_key_env() {
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let imported = import(&path, DEEPSEEK, &MemoryStore::default());
    let config = imported.config.unwrap();
    let env_of = |id: &str| {
        config
            .backend(id)
            .unwrap()
            .first_key_env()
            .map(str::to_owned)
    };
    assert_eq!(env_of("deepseek").as_deref(), Some("DEEPSEEK_KEY"));
    assert_eq!(env_of("openrouter").as_deref(), Some("OPENROUTER_KEY"));
    assert!(imported.report.keys_stored.is_empty());
    let rpm = imported
        .report
        .rows
        .iter()
        .find(|r| r.item.contains("rpm 60"))
        .unwrap();
    assert_eq!(rpm.outcome, Outcome::Imported);
    assert!(rpm.item.contains("claude-sonnet-4-5"), "{rpm:?}");
    assert!(
        rpm.detail.contains("rpm = 60 on backend \"deepseek\""),
        "{rpm:?}"
    );
    assert_eq!(config.backend("deepseek").unwrap().rpm, Some(60));
    assert_eq!(config.backend("openrouter").unwrap().rpm, None);
}

#[test]
fn a_literal_key_goes_to_the_keychain_and_never_into_the_file() {
    let yaml = "model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-live-very-secret
";
    let (dir, path) = config_file(DEFAULT_CONFIG);
    let store = MemoryStore::default();
    let dry = dry_run(&path, yaml, &store);
    assert_eq!(dry.report.keys_stored, ["openai"]);
    assert!(store.get(&backend_account("openai")).unwrap().is_none());

    let imported = import(&path, yaml, &store);
    assert_eq!(imported.report.keys_stored, ["openai"]);
    let stored = store.get(&backend_account("openai")).unwrap().unwrap();
    assert_eq!(stored.expose_secret(), "sk-live-very-secret");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("sk-live"), "{text}");
    let report = rendered(&imported, dir.path());
    assert!(!report.contains("sk-live"), "{report}");
    assert!(report.contains("key stored in the keychain"), "{report}");
    assert_eq!(
        imported
            .config
            .unwrap()
            .backend("openai")
            .unwrap()
            .api_key_env,
        None
    );
}

#[test]
fn a_different_literal_key_for_a_provider_already_set_up_gets_its_own_backend() {
    let yaml = "model_list:
  - model_name: claude-opus-4-1
    litellm_params:
      model: anthropic/claude-opus-4-1
      api_key: sk-ant-other-account
";
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let store = MemoryStore::default();
    store
        .set(
            &backend_account("anthropic"),
            &SecretString::from("sk-ant-mine".to_owned()),
        )
        .unwrap();
    let config = import(&path, yaml, &store).config.unwrap();
    assert_eq!(
        rule(&config, "local", "claude-opus-4-1").targets[0].backend,
        "anthropic-2"
    );
    let mine = store.get(&backend_account("anthropic")).unwrap().unwrap();
    assert_eq!(mine.expose_secret(), "sk-ant-mine");
    let other = store.get(&backend_account("anthropic-2")).unwrap().unwrap();
    assert_eq!(other.expose_secret(), "sk-ant-other-account");
    // The same file again finds that backend by its key.
    let again = import(&path, yaml, &store);
    assert!(!again.report.changed);
    assert_eq!(again.config, None);
}

#[test]
fn entries_sharing_a_model_name_become_one_rule_with_several_targets() {
    let yaml = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: ollama_chat/qwen3-coder:30b
      weight: 0.75
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: hosted_vllm/Qwen/Qwen3-Coder-30B
      api_base: http://127.0.0.1:8000/v1
      weight: 0.25
";
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let config = import(&path, yaml, &MemoryStore::default()).config.unwrap();
    let sonnet = rule(&config, "local", "claude-sonnet-4-5");
    let targets: Vec<(&str, Option<&str>, Option<u32>)> = sonnet
        .targets
        .iter()
        .map(|t| (t.backend.as_str(), t.model.as_deref(), t.weight))
        .collect();
    assert_eq!(
        targets,
        [
            ("ollama", Some("qwen3-coder:30b"), Some(3)),
            ("vllm", Some("Qwen/Qwen3-Coder-30B"), Some(1)),
        ]
    );
    assert_eq!(sonnet.strategy, Some(Strategy::Weighted));
    assert_eq!(
        config.backend("vllm").unwrap().base_url,
        "http://127.0.0.1:8000/v1"
    );
}

#[test]
fn an_unknown_provider_is_reported_and_nothing_is_imported_for_it() {
    let yaml = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: bedrock/amazon.nova-pro-v1:0
      aws_region_name: us-east-1
";
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let before = std::fs::read_to_string(&path).unwrap();
    let imported = import(&path, yaml, &MemoryStore::default());
    assert!(!imported.report.changed);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    let rows = &imported.report.rows;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].outcome, Outcome::NotImported);
    assert_eq!(rows[0].line, Some(2));
    assert!(rows[0].item.contains("bedrock/"), "{rows:?}");
    assert!(rows[0].detail.contains("Claude on Bedrock"), "{rows:?}");
    assert!(imported.report.backup.is_none());
}

/// AWS keys written in the file go to the keychain in the form a Bedrock backend reads
/// (`ID:SECRET[:TOKEN]`), never to the config or the report.
#[test]
fn bedrock_keys_written_in_the_file_go_to_the_keychain_as_one_credential() {
    let yaml = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0
      aws_region_name: us-west-2
      aws_access_key_id: AKIDLITELLMCANARY
      aws_secret_access_key: litellm/secret+canary
      aws_session_token: session-canary
";
    let (dir, path) = config_file(DEFAULT_CONFIG);
    let store = MemoryStore::default();
    let imported = import(&path, yaml, &store);
    let text = std::fs::read_to_string(&path).unwrap();
    let report = rendered(&imported, dir.path());
    for canary in [
        "AKIDLITELLMCANARY",
        "litellm/secret+canary",
        "session-canary",
    ] {
        assert!(!text.contains(canary), "{canary} in the config");
        assert!(!report.contains(canary), "{canary} in the report");
    }
    let config = config::load(&path).unwrap();
    let backend = config.backend("bedrock").unwrap();
    assert_eq!(backend.kind, config::BackendKind::Bedrock);
    assert_eq!(backend.region(), Some("us-west-2"));
    assert_eq!(backend.base_url, "");
    let stored = store.get(&backend_account("bedrock")).unwrap().unwrap();
    assert_eq!(
        stored.expose_secret(),
        "AKIDLITELLMCANARY:litellm/secret+canary:session-canary"
    );
    let rule = rule(&config, "local", "claude-sonnet-4-5");
    assert_eq!(
        rule.targets[0].model.as_deref(),
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
}

#[test]
fn the_users_comments_survive_and_a_backup_is_taken_first() {
    let mine = DEFAULT_CONFIG.replace(
        "[profiles.cloud]",
        "# my cloud profile: keep this comment\n[profiles.cloud]",
    );
    let (dir, path) = config_file(&mine);
    let imported = import(&path, DEEPSEEK, &MemoryStore::default());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("# my cloud profile: keep this comment\n[profiles.cloud]"),
        "{text}"
    );
    assert!(
        text.contains("# The key lives in the OS keychain"),
        "{text}"
    );
    let backup = PathBuf::from(imported.report.backup.clone().unwrap());
    assert_eq!(backup.parent().unwrap(), dir.path());
    assert!(
        backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("config.toml.before-litellm-import-"),
        "{backup:?}"
    );
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), mine);
}

#[test]
fn a_dry_run_changes_nothing() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/guide-003-0.yaml");
    let yaml = std::fs::read_to_string(fixture).unwrap();
    let (dir, path) = config_file(DEFAULT_CONFIG);
    let store = MemoryStore::default();
    let dry = dry_run(&path, &yaml, &store);
    assert!(dry.report.dry_run && dry.report.changed);
    assert_eq!(dry.config, None);
    assert_eq!(std::fs::read(&path).unwrap(), DEFAULT_CONFIG.as_bytes());
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(files, ["config.toml"]);
    // The rows are those of the import itself.
    let done = import(&path, &yaml, &store);
    assert_eq!(dry.report.rows, done.report.rows);
    assert!(rendered(&dry, dir.path()).starts_with("Dry run (nothing was changed)"));
}

#[test]
fn a_yaml_error_names_line_and_column() {
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let broken = "model_list:\n  - model_name: x\n    litellm_params:\n      model: openai/x\n     api_key: y\n";
    let err = litellm::import_into(
        &path,
        broken,
        ImportOptions::default(),
        &MemoryStore::default(),
    )
    .unwrap_err();
    match &err {
        ImportError::Yaml { line, column, .. } => assert_eq!((*line, *column), (5, 6)),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("line 5, column 6"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), DEFAULT_CONFIG.as_bytes());
}

#[test]
fn importing_twice_adds_no_second_backend_or_rule() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/guide-000-0.yaml");
    let yaml = std::fs::read_to_string(fixture).unwrap();
    let (dir, path) = config_file(DEFAULT_CONFIG);
    let store = MemoryStore::default();
    let first = import(&path, &yaml, &store).config.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let again = import(&path, &yaml, &store);
    assert!(!again.report.changed);
    assert_eq!(again.report.backup, None);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(config::load(&path).unwrap(), first);
    assert!(rendered(&again, dir.path()).starts_with("Nothing changed"));
    // Rules already there from before are replaced in place, not added again.
    let mut edited = first.clone();
    edited.profiles.get_mut("local").unwrap().rules[1].targets[0].model = Some("other".into());
    config::save(&path, &edited).unwrap();
    let third = import(&path, &yaml, &store).config.unwrap();
    assert_eq!(third, first);
}

#[test]
fn fallbacks_aliases_and_settings_land_where_switchyard_keeps_them() {
    let yaml = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: ollama/qwen3-coder:30b
      timeout: 900
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      input_cost_per_token: 0.000003
      output_cost_per_token: 0.000015
  - model_name: big
    litellm_params:
      model: anthropic/claude-opus-4-1
router_settings:
  routing_strategy: latency-based-routing
  num_retries: 2
  timeout: 120
  cooldown_time: 30
  model_group_alias: {claude-3-7-sonnet-latest: claude-sonnet-4-5}
litellm_settings:
  context_window_fallbacks: [{claude-sonnet-4-5: [big]}]
  num_retries: 5
";
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let imported = import(&path, yaml, &MemoryStore::default());
    let config = imported.config.unwrap();
    let sonnet = rule(&config, "local", "claude-sonnet-4-5");
    assert_eq!(
        sonnet.strategy,
        Some(switchyard_core::config::Strategy::LowestLatency),
        "latency-based-routing: the faster target first"
    );
    assert_eq!(sonnet.targets.len(), 2);
    assert_eq!(
        sonnet.fallbacks[0].model.as_deref(),
        Some("claude-opus-4-1")
    );
    let alias = rule(&config, "local", "claude-3-7-sonnet-latest");
    assert_eq!(
        (&alias.targets, &alias.fallbacks),
        (&sonnet.targets, &sonnet.fallbacks)
    );
    let ollama = config.backend("ollama").unwrap();
    assert_eq!((ollama.retries, ollama.timeout_first_byte_s), (2, 900));
    let anthropic = config.backend("anthropic").unwrap();
    assert_eq!(
        (anthropic.retries, anthropic.timeout_first_byte_s),
        (2, 120)
    );
    assert_eq!(config.pricing["claude-sonnet-4-5"].input, 3.0);
    assert_eq!(config.pricing["claude-sonnet-4-5"].output, 15.0);
    let row = |item: &str| {
        imported
            .report
            .rows
            .iter()
            .find(|r| r.item.starts_with(item))
            .unwrap_or_else(|| panic!("no row {item}"))
            .clone()
    };
    assert_eq!(
        row("router_settings.cooldown_time").outcome,
        Outcome::Imported
    );
    assert_eq!(ollama.cooldown_s, Some(30));
    assert_eq!(anthropic.cooldown_s, Some(30));
    assert_eq!(
        row("litellm_settings.num_retries").outcome,
        Outcome::NotNeeded
    );
    assert!(
        row("litellm_settings.context_window_fallbacks")
            .detail
            .contains("context window")
    );
    let strategy = row("router_settings.routing_strategy");
    assert_eq!(strategy.outcome, Outcome::Imported);
    assert!(
        strategy.detail.contains("strategy = \"lowest_latency\""),
        "{strategy:?}"
    );
}

#[test]
fn rules_go_into_the_profile_asked_for_and_a_missing_one_is_made() {
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let options = ImportOptions {
        profile: Some("litellm"),
        dry_run: false,
    };
    let imported = litellm::import_into(&path, DEEPSEEK, options, &MemoryStore::default()).unwrap();
    let config = imported.config.unwrap();
    assert_eq!(config.active_profile, "local");
    assert_eq!(config.profiles["litellm"].rules.len(), 2);
    assert_eq!(config.profiles["local"].rules.len(), 1);
    assert!(matches!(
        config.profiles["cloud"].default,
        Some(RouteSpec::Target(_))
    ));
    assert!(
        imported.report.rows[0]
            .detail
            .contains("new profile \"litellm\"")
    );
}

/// A keychain that refuses to store anything.
struct Refusing(MemoryStore);

impl SecretStore for Refusing {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError> {
        self.0.get(account)
    }
    fn set(&self, _: &str, _: &SecretString) -> Result<(), SecretError> {
        Err(SecretError::Unavailable {
            detail: "no D-Bus session".into(),
        })
    }
    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        self.0.delete(account)
    }
}

#[test]
fn a_keychain_that_refuses_the_key_leaves_everything_as_it_was() {
    let yaml = "model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: sk-x\n";
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let err = litellm::import_into(
        &path,
        yaml,
        ImportOptions::default(),
        &Refusing(MemoryStore::default()),
    )
    .unwrap_err();
    assert!(
        matches!(err, ImportError::Keychain { ref backend, .. } if backend == "openai"),
        "{err}"
    );
    assert!(err.to_string().contains("os.environ/NAME"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), DEFAULT_CONFIG.as_bytes());
}

#[tokio::test]
async fn the_engine_imports_and_routes_with_the_result_at_once() {
    use switchyard_core::engine::{Engine, EngineOptions};
    let (_dir, path) = config_file(DEFAULT_CONFIG);
    let store = Arc::new(MemoryStore::default());
    let engine = Engine::start(
        EngineOptions {
            config_path: Some(path.clone()),
            listen: Some("127.0.0.1:0".parse().unwrap()),
            token: Some(SecretString::from("test-token".to_owned())),
            usage_sink: Some(Arc::new(())),
            ..Default::default()
        },
        store.clone(),
    )
    .await
    .unwrap();
    let dry = engine.import_litellm(DEEPSEEK, None, true).await.unwrap();
    assert!(dry.dry_run);
    assert!(engine.config().backend("deepseek").is_none());
    let report = engine.import_litellm(DEEPSEEK, None, false).await.unwrap();
    assert!(report.changed && report.backup.is_some());
    assert!(engine.config().backend("deepseek").is_some());
    assert_eq!(*engine.config(), config::load(&path).unwrap());
    let err = engine
        .import_litellm("model_list: [", None, false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("line 1"), "{err}");
    engine.shutdown().await;
}
