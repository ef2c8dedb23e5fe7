//! `switchyard env --profile NAME`: the exports for a base URL that routes under that profile.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::process::Command;

fn env(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        switchyard_core::config::DEFAULT_CONFIG.replace("127.0.0.1:4747", "127.0.0.1:4848"),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&config)
        .arg("env")
        .args(args)
        .env("SWITCHYARD_TOKEN", "sy-test-token-0123456789")
        .env("HOME", dir)
        .output()
        .unwrap()
}

#[test]
fn env_for_a_profile_points_at_its_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = env(dir.path(), &["--profile", "cloud"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("export ANTHROPIC_BASE_URL='http://127.0.0.1:4848/profiles/cloud'"),
        "{text}"
    );
    let plain = String::from_utf8(env(dir.path(), &[]).stdout).unwrap();
    assert!(
        plain.contains("export ANTHROPIC_BASE_URL='http://127.0.0.1:4848'"),
        "{plain}"
    );
}

#[test]
fn env_for_an_unknown_profile_names_the_ones_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let out = env(dir.path(), &["--profile", "work"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no profile \"work\"") && err.contains("cloud, local"),
        "{err}"
    );
}

/// `--project DIR --profile NAME --configure` writes DIR/.claude/settings.local.json (the
/// user's settings untouched), keeps it out of git, and `--project DIR --restore` undoes it.
#[test]
fn a_project_folder_is_configured_for_a_profile_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("webshop");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    let folder = project.to_str().unwrap();
    let out = env(
        dir.path(),
        &["--project", folder, "--profile", "local", "--configure"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".git/info/exclude"), "{text}");
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join(".claude/settings.local.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        written["env"]["ANTHROPIC_BASE_URL"],
        "http://127.0.0.1:4848/profiles/local"
    );
    assert!(
        !dir.path().join(".claude/settings.json").exists(),
        "the user's own settings are not touched"
    );
    let exclude = std::fs::read_to_string(project.join(".git/info/exclude")).unwrap();
    assert!(exclude.contains(".claude/settings.local.json"), "{exclude}");

    let out = env(dir.path(), &["--project", folder, "--restore"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join(".claude/settings.local.json")).unwrap(),
    )
    .unwrap();
    assert!(after["env"].get("ANTHROPIC_BASE_URL").is_none(), "{after}");

    // Alone, or pointing at no folder, it says what to do.
    let alone = env(dir.path(), &["--project", folder]);
    assert!(!alone.status.success());
    assert!(String::from_utf8_lossy(&alone.stderr).contains("goes with --configure"));
    let missing = env(
        dir.path(),
        &["--project", "/nonexistent/folder", "--configure"],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("is not a folder"));
}
