//! `switchyard import litellm FILE [--dry-run] [--profile NAME]`: the table, the config file
//! left alone by a dry run, then changed with a backup beside it.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;

const LITELLM: &str = "model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: ollama/qwen3-coder:30b
      api_base: http://localhost:11434
      rpm: 60
  - model_name: claude-opus-4-1
    litellm_params:
      model: bedrock/anthropic.claude-opus-4-1
general_settings:
  master_key: sk-master-secret
";

fn import(dir: &std::path::Path, args: &[&str]) -> (std::process::Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(["import", "litellm"])
        .arg(dir.join("litellm.yaml"))
        .args(args)
        .env("SWITCHYARD_TOKEN", "sy-test-token-0123456789")
        .env("HOME", dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

#[test]
fn a_dry_run_prints_the_table_and_an_import_writes_with_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        switchyard_core::config::DEFAULT_CONFIG.replace("127.0.0.1:4747", "127.0.0.1:4849");
    std::fs::write(dir.path().join("config.toml"), &config).unwrap();
    std::fs::write(dir.path().join("litellm.yaml"), LITELLM).unwrap();

    let (out, text) = import(dir.path(), &["--dry-run", "--profile", "litellm"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("Dry run (nothing was changed)"), "{text}");
    assert!(
        text.contains("rule \"claude-sonnet-4-5\" → ollama: qwen3-coder:30b"),
        "{text}"
    );
    assert!(text.contains("rpm = 60 on backend"), "{text}");
    assert!(text.contains("AWS"), "{text}");
    assert!(text.contains("local token"), "{text}");
    assert!(!text.contains("sk-master-secret"), "{text}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("config.toml")).unwrap(),
        config
    );

    let (out, text) = import(dir.path(), &["--profile", "litellm"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with("Imported into profile \"litellm\""),
        "{text}"
    );
    let written = std::fs::read_to_string(dir.path().join("config.toml")).unwrap();
    assert!(
        written.contains("[[profiles.litellm.rules]]\nmatch = \"claude-sonnet-4-5\""),
        "{written}"
    );
    assert!(written.contains("# Switchyard configuration."));
    assert!(written.contains("rpm = 60"), "{written}");
    let backup = text
        .lines()
        .find_map(|l| l.strip_prefix("The config as it was before: "))
        .unwrap();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), config);
}

#[test]
fn a_broken_file_is_named_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("litellm.yaml"),
        "model_list:\n  - model_name: [x\n",
    )
    .unwrap();
    let (out, _) = import(dir.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not valid YAML: line 3, column 1") || err.contains("line 2"),
        "{err}"
    );
    assert!(
        !dir.path().join("config.toml").exists(),
        "a failed import creates no config"
    );
}
