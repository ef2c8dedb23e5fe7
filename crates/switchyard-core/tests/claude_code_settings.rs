//! Editing Claude Code's settings.json in temporary directories.

// Helpers live in a cfg(test) module so the workspace unwrap/expect lints treat them as test code.
#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};
    use switchyard_core::claude_code::{
        ClaudeSettings, ClaudeSettingsError, ConflictKind, EnvOptions, backup_path, configure,
        conflicts, env_vars, record_path, restore,
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

    /// Reads `path`, lets `edit` change the document as a user would, writes it back.
    fn user_edits(path: &Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
        let mut doc = read_json(path);
        edit(doc.as_object_mut().unwrap());
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }

    #[test]
    fn restore_undoes_only_switchyards_variables_and_keeps_the_users_later_edits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(
            &path,
            r#"{
  "model": "opus",
  "env": {"ANTHROPIC_BASE_URL": "https://corp.invalid", "ANTHROPIC_API_KEY": "sk-ant-mine", "MY_VAR": "keep"}
}"#,
        )
        .unwrap();
        configure(&path, &vars()).unwrap();
        user_edits(&path, |doc| {
            doc.insert(
                "hooks".into(),
                json!({"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}]}),
            );
            doc.insert(
                "permissions".into(),
                json!({"allow": ["Bash(cargo test:*)"]}),
            );
            let env = doc["env"].as_object_mut().unwrap();
            env.insert("ADDED_LATER".into(), json!("yes"));
            env.insert("MY_VAR".into(), json!("edited"));
        });

        let restored = restore(&path).unwrap();
        let mut expected: Vec<String> = vars().into_iter().map(|(name, _)| name).collect();
        expected.sort();
        let mut reverted = restored.reverted.clone();
        reverted.sort();
        assert_eq!(reverted, expected);
        assert!(restored.kept.is_empty(), "{:?}", restored.kept);
        assert_eq!(
            read_json(&path),
            json!({
                "model": "opus",
                "env": {
                    "ANTHROPIC_BASE_URL": "https://corp.invalid",
                    "ANTHROPIC_API_KEY": "sk-ant-mine",
                    "MY_VAR": "edited",
                    "ADDED_LATER": "yes"
                },
                "hooks": {"PostToolUse": [{"matcher": "Edit", "hooks": [{"type": "command", "command": "fmt"}]}]},
                "permissions": {"allow": ["Bash(cargo test:*)"]}
            })
        );
        // The variables Switchyard added are gone, not blanked, and the file stays readable.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("ANTHROPIC_AUTH_TOKEN"), "{text}");
        assert!(text.contains("\n  \"hooks\": {\n"), "pretty JSON: {text}");
        assert!(!backup_path(&path).exists());
        assert!(!record_path(&path).exists());
        let said = restored.describe();
        assert!(said.contains("ANTHROPIC_BASE_URL"), "{said}");
        assert!(
            said.contains("everything else in the file is as you left it"),
            "{said}"
        );
    }

    #[test]
    fn a_variable_the_user_changed_after_configure_keeps_their_value_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"env": {"API_TIMEOUT_MS": "60000"}}"#).unwrap();
        configure(&path, &vars()).unwrap();
        user_edits(&path, |doc| {
            let env = doc["env"].as_object_mut().unwrap();
            env.insert("ANTHROPIC_BASE_URL".into(), json!("http://127.0.0.1:9999"));
            env.remove("CLAUDE_CODE_ATTRIBUTION_HEADER");
        });
        let restored = restore(&path).unwrap();
        assert_eq!(restored.kept, ["ANTHROPIC_BASE_URL"]);
        // The attribution header was absent before, and the user removed it: already undone.
        assert_eq!(
            restored.reverted,
            [
                "ANTHROPIC_AUTH_TOKEN",
                "ANTHROPIC_API_KEY",
                "API_TIMEOUT_MS"
            ]
        );
        assert_eq!(
            read_json(&path),
            json!({"env": {"API_TIMEOUT_MS": "60000", "ANTHROPIC_BASE_URL": "http://127.0.0.1:9999"}})
        );
        let said = restored.describe();
        assert!(
            said.contains(
                "You changed ANTHROPIC_BASE_URL after Switchyard set it, so your value was kept."
            ),
            "{said}"
        );
    }

    #[test]
    fn the_record_keeps_the_value_before_the_first_configure_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"env": {"ANTHROPIC_AUTH_TOKEN": "theirs"}}"#).unwrap();
        configure(&path, &vars()).unwrap();
        // A later run (another process: all it has is the files) with a new token.
        let other = env_vars("http://127.0.0.1:4747", "new-token", &EnvOptions::default());
        assert_eq!(
            configure(&path, &other).unwrap().changed,
            ["ANTHROPIC_AUTH_TOKEN"]
        );
        let restored = restore(&path).unwrap();
        assert!(restored.kept.is_empty(), "{:?}", restored.kept);
        assert_eq!(
            read_json(&path),
            json!({"env": {"ANTHROPIC_AUTH_TOKEN": "theirs"}})
        );
    }

    #[test]
    fn an_env_block_switchyard_added_goes_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"model": "opus"}"#).unwrap();
        configure(&path, &vars()).unwrap();
        user_edits(&path, |doc| {
            doc.insert("theme".into(), json!("dark"));
        });
        restore(&path).unwrap();
        assert_eq!(read_json(&path), json!({"model": "opus", "theme": "dark"}));
    }

    #[test]
    fn a_backup_from_a_switchyard_without_records_restores_only_its_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        // What an earlier version left: a copy of the original and the configured file, which
        // the user has edited since.
        std::fs::write(
            backup_path(&path),
            r#"{"env": {"ANTHROPIC_BASE_URL": "https://corp.invalid", "MINE": "1"}}"#,
        )
        .unwrap();
        std::fs::write(
            &path,
            r#"{"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:4747", "MINE": "2",
                "ANTHROPIC_AUTH_TOKEN": "sy-token", "ANTHROPIC_API_KEY": ""},
               "hooks": {"Stop": []}}"#,
        )
        .unwrap();
        let restored = restore(&path).unwrap();
        assert_eq!(
            restored.reverted,
            [
                "ANTHROPIC_BASE_URL",
                "ANTHROPIC_AUTH_TOKEN",
                "ANTHROPIC_API_KEY"
            ]
        );
        assert_eq!(
            read_json(&path),
            json!({"env": {"ANTHROPIC_BASE_URL": "https://corp.invalid", "MINE": "2"}, "hooks": {"Stop": []}})
        );
        assert!(!backup_path(&path).exists());
    }

    #[test]
    fn restore_refuses_a_settings_file_that_no_longer_parses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        configure(&path, &vars()).unwrap();
        let broken = "{\"env\": {\n";
        std::fs::write(&path, broken).unwrap();
        let err = restore(&path).unwrap_err();
        assert!(
            matches!(err, ClaudeSettingsError::InvalidJson { .. }),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
        assert!(record_path(&path).exists(), "kept for a second try");
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn settings_its_record_copy_and_folder_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join(".claude");
        let path = folder.join("settings.json");
        configure(&path, &vars()).unwrap();
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&backup_path(&path)), 0o600);
        assert_eq!(mode(&record_path(&path)), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_settings_file_that_receives_the_token_becomes_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, r#"{"model": "opus"}"#).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        configure(&path, &vars()).unwrap();
        assert_eq!(mode(&path), 0o600);
        // Configured earlier by a Switchyard that left it readable: nothing to change but that.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(configure(&path, &vars()).unwrap().is_unchanged());
        assert_eq!(mode(&path), 0o600);
        // Restore writes the file with the mode it has.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        restore(&path).unwrap();
        assert_eq!(mode(&path), 0o640);
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
