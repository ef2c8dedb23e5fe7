//! Desktop-only preferences (the window's language) kept next to the config file, as JSON.
//! Engine settings (listen port, backends, profiles, usage retention) live in the engine's
//! config instead.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use specta::Type;
use switchyard_core::config::ConfigError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Follow the OS/webview language.
    System,
    En,
    ZhCn,
}

/// The window's colours. `System` follows the desktop's light/dark setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// Unknown keys are ignored, so files written by older versions (which kept retention and a
/// capture switch here) still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(default)]
pub struct Prefs {
    pub language: Language,
    pub theme: Theme,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            language: Language::System,
            theme: Theme::System,
        }
    }
}

pub fn prefs_path(config_path: &Path) -> PathBuf {
    config_path.with_file_name("desktop.json")
}

pub fn load(path: &Path) -> Prefs {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Written like the config file (unique temp file, synced, renamed): never half a file.
pub fn save(path: &Path, prefs: &Prefs) -> Result<(), ConfigError> {
    let text = serde_json::to_string_pretty(prefs).map_err(|e| ConfigError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    switchyard_core::config::write_atomic(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_files_with_retention_and_capture_still_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desktop.json");
        std::fs::write(
            &path,
            r#"{"language":"zh_cn","capture_requests":true,"retention_days":90}"#,
        )
        .unwrap();
        assert_eq!(load(&path).language, Language::ZhCn);
    }
}
