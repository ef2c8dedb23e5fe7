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
