//! Editing Claude Code's settings.json in temporary directories.

// Helpers live in a cfg(test) module so the workspace unwrap/expect lints treat them as test code.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};
    use switchyard_core::claude_code::{
        ClaudeSettings, ClaudeSettingsError, ConflictKind, EnvOptions, backup_path, configure,
        conflicts, env_vars, restore,
    };

    fn vars() -> Vec<(String, String)> {
        env_vars("http://127.0.0.1:4747", "sy-token", &EnvOptions::default())
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn shell_exports_survive_a_real_shell() {
        use switchyard_core::claude_code::render_shell_exports;
        let tricky = "a'b\"c $HOME `id` \\ \n end";
        let vars = vec![("SY_TEST_VALUE".to_owned(), tricky.to_owned())];
        let script = format!(
            "{}printf %s \"$SY_TEST_VALUE\"",
            render_shell_exports(&vars)
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), tricky);
    }

    #[test]
    fn settings_env_block_parses_back() {
        use switchyard_core::claude_code::render_settings_env_block;
        let block: Value = serde_json::from_str(&render_settings_env_block(&vars())).unwrap();
        assert_eq!(block["env"]["ANTHROPIC_AUTH_TOKEN"], "sy-token");
        assert_eq!(block.as_object().unwrap().len(), 1);
    }

    #[test]
    fn fresh_file_and_directory_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".claude").join("settings.json");
        let outcome = configure(&path, &vars()).unwrap();
        assert!(outcome.created);
        assert_eq!(outcome.changed.len(), vars().len());
        let doc = read_json(&path);
        assert_eq!(doc["env"]["ANTHROPIC_BASE_URL"], "http://127.0.0.1:4747");
        assert_eq!(doc["env"]["ANTHROPIC_AUTH_TOKEN"], "sy-token");
        assert_eq!(doc["env"]["ANTHROPIC_API_KEY"], "");
        // The absent file is backed up as empty settings, so restore gives an empty config.
        assert_eq!(read_json(&backup_path(&path)), json!({}));
    }

    #[test]
    fn other_keys_and_their_order_are_preserved() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let original = r#"{
  "permissions": {"allow": ["Bash(cargo test:*)"], "deny": []},
  "env": {"MY_VAR": "keep", "ANTHROPIC_BASE_URL": "https://old.invalid", "OTHER": "x"},
  "model": "opus",
  "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}]},
  "statusLine": {"type": "command", "command": "echo hi"}
}"#;
        std::fs::write(&path, original).unwrap();
        let outcome = configure(&path, &vars()).unwrap();
        assert!(!outcome.created);
        assert!(outcome.backup_taken.is_some());

        let doc = read_json(&path);
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["permissions", "env", "model", "hooks", "statusLine"]);
        let env_keys: Vec<&str> = doc["env"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        // Existing entries keep their place (the base URL is updated in place), new ones follow.
        assert_eq!(
            &env_keys[..4],
            [
                "MY_VAR",
                "ANTHROPIC_BASE_URL",
                "OTHER",
                "ANTHROPIC_AUTH_TOKEN"
            ]
        );
        assert_eq!(doc["env"]["ANTHROPIC_BASE_URL"], "http://127.0.0.1:4747");
        assert_eq!(doc["env"]["MY_VAR"], "keep");
        assert_eq!(doc["hooks"]["PostToolUse"][0]["hooks"][0]["command"], "fmt");
        assert_eq!(doc["permissions"]["allow"][0], "Bash(cargo test:*)");
        // The backup is the original, byte for byte.
        assert_eq!(
            std::fs::read_to_string(backup_path(&path)).unwrap(),
            original
        );
    }

    #[test]
    fn second_run_changes_nothing_and_keeps_the_first_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"model": "sonnet"}"#).unwrap();
        configure(&path, &vars()).unwrap();
        let after_first = std::fs::read_to_string(&path).unwrap();
        let again = configure(&path, &vars()).unwrap();
        assert!(again.is_unchanged());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), after_first);

        // A different token changes one variable and keeps the pre-Switchyard backup.
        let other = env_vars("http://127.0.0.1:4747", "new-token", &EnvOptions::default());
        let third = configure(&path, &other).unwrap();
        assert_eq!(third.changed, ["ANTHROPIC_AUTH_TOKEN"]);
        assert_eq!(third.backup_taken, None);
        assert_eq!(
            std::fs::read_to_string(backup_path(&path)).unwrap(),
            r#"{"model": "sonnet"}"#
        );
    }

    #[test]
    fn invalid_json_is_refused_and_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let broken = "{\"env\": {\"A\": \"1\",}\n";
        std::fs::write(&path, broken).unwrap();
        let err = configure(&path, &vars()).unwrap_err();
        assert!(
            matches!(err, ClaudeSettingsError::InvalidJson { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("left it untouched"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
        assert!(!backup_path(&path).exists());
    }

    #[test]
    fn non_object_env_or_document_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"env": ["A=1"]}"#).unwrap();
        let err = configure(&path, &vars()).unwrap_err();
        assert!(
            matches!(
                err,
                ClaudeSettingsError::EnvNotAnObject {
                    found: "an array",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"env": ["A=1"]}"#
        );

        std::fs::write(&path, "[1, 2]").unwrap();
        let err = configure(&path, &vars()).unwrap_err();
        assert!(
            matches!(err, ClaudeSettingsError::NotAnObject { .. }),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[1, 2]");
    }

    #[test]
    fn blanking_a_real_api_key_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"env":{"ANTHROPIC_API_KEY":"sk-ant-real"}}"#).unwrap();
        let outcome = configure(&path, &vars()).unwrap();
        assert!(outcome.blanked_api_key);
        // Already blank (or absent): nothing to tell.
        let again = configure(&path, &vars()).unwrap();
        assert!(!again.blanked_api_key);
        let fresh = dir.path().join("fresh.json");
        assert!(!configure(&fresh, &vars()).unwrap().blanked_api_key);
    }

    #[test]
    fn backup_and_restore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let original = "{\n  \"model\": \"opus\",\n  \"env\": {\"X\": \"y\"}\n}\n";
        std::fs::write(&path, original).unwrap();
        configure(&path, &vars()).unwrap();
        assert_ne!(std::fs::read_to_string(&path).unwrap(), original);
        let restored = restore(&path).unwrap();
        assert_eq!(restored.path, path);
        // What was undone, for the user: the variables Switchyard set (X kept its value).
        let mut reverted = restored.reverted.clone();
        reverted.sort();
        let mut expected: Vec<String> = vars().into_iter().map(|(name, _)| name).collect();
        expected.sort();
        assert_eq!(reverted, expected);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
        assert!(!backup_path(&path).exists());
        // Nothing left to restore.
        assert!(matches!(
            restore(&path),
            Err(ClaudeSettingsError::NoBackup { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn permissions_and_symlinks_survive() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles-settings.json");
        std::fs::write(&real, "{}").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("settings.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        configure(&link, &vars()).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read_json(&real)["env"]["ANTHROPIC_AUTH_TOKEN"], "sy-token");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn conflicts_are_found_in_a_real_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(
            &path,
            r#"{"apiKeyHelper": "pass show anthropic", "env": {"ANTHROPIC_API_KEY": "sk-ant-1"}}"#,
        )
        .unwrap();
        let settings = ClaudeSettings::load(&path).unwrap().unwrap();
        let found = conflicts(
            &settings,
            [("ANTHROPIC_BASE_URL", "https://api.anthropic.com")],
            "http://127.0.0.1:4747",
        );
        let kinds: Vec<ConflictKind> = found.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ConflictKind::ApiKeySet,
                ConflictKind::ApiKeyHelper,
                ConflictKind::BaseUrlElsewhere
            ]
        );
        // After configure, the settings-side problems that configure owns are gone.
        configure(&path, &vars()).unwrap();
        let settings = ClaudeSettings::load(&path).unwrap().unwrap();
        let found = conflicts(&settings, [], "http://127.0.0.1:4747");
        let kinds: Vec<ConflictKind> = found.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ConflictKind::ApiKeyHelper]);
        assert!(
            ClaudeSettings::load(&dir.path().join("missing.json"))
                .unwrap()
                .is_none()
        );
    }
}
