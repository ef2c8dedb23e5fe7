use std::path::{Path, PathBuf};

use super::locate::line_at;
use super::{Config, ConfigError, DEFAULT_CONFIG, validate, write_atomic};

/// `<OS config dir>/switchyard/config.toml`, unless `SWITCHYARD_CONFIG` says otherwise.
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    if let Some(path) = std::env::var_os("SWITCHYARD_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    directories::ProjectDirs::from("", "", "switchyard")
        .map(|dirs| dirs.config_dir().join("config.toml"))
        .ok_or(ConfigError::NoConfigDir)
}

/// Parse and validate config text. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|err| ConfigError::Syntax {
        path: path.to_owned(),
        line: err.span().map_or(1, |span| line_at(text, span.start)),
        message: err.message().to_owned(),
    })?;
    let issues = validate(&config, text);
    if issues.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            issues,
        })
    }
}

/// Read and validate the config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Read the config file, writing the commented default first if there is none. Returns the
/// config and whether it was just created.
pub fn load_or_create(path: &Path) -> Result<(Config, bool), ConfigError> {
    match std::fs::metadata(path) {
        Ok(_) => load(path).map(|config| (config, false)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            write_atomic(path, DEFAULT_CONFIG)?;
            parse(DEFAULT_CONFIG, path).map(|config| (config, true))
        }
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}
