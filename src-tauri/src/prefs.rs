//! Desktop-only preferences (language, capture, retention) kept next to the config file, as JSON.
//! Engine settings (listen port, backends, profiles) live in the engine's config instead.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use specta::Type;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// Follow the OS/webview language.
    System,
    En,
    ZhCn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Type)]
#[serde(default)]
pub struct Prefs {
    pub language: Language,
    pub capture_requests: bool,
    pub retention_days: u32,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            language: Language::System,
            capture_requests: false,
            retention_days: 90,
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

/// Writes atomically (temp file + rename) so a crash never leaves half a file.
pub fn save(path: &Path, prefs: &Prefs) -> std::io::Result<()> {
    let body = serde_json::to_vec_pretty(prefs).map_err(std::io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, body)?;
    std::fs::rename(tmp, path)
}
