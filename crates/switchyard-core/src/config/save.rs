use std::io::Write;
use std::path::Path;

use super::{Config, ConfigError, edit, parse};

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Write `text` to `path` atomically: a temporary file in the same folder, synced, then renamed
/// over the old file, so a crash never leaves a half-written config.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), ConfigError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::fsmode::create_private_dir_all(dir).map_err(write_err(path))?;
    let mut tmp = tempfile_in(dir, path)?;
    // Private by default; an existing config keeps its mode (see `fsmode`).
    crate::fsmode::set_mode(&tmp.1, &crate::fsmode::mode_to_keep(path)).map_err(write_err(path))?;
    tmp.1.write_all(text.as_bytes()).map_err(write_err(path))?;
    tmp.1.sync_all().map_err(write_err(path))?;
    drop(tmp.1);
    std::fs::rename(&tmp.0, path).map_err(|err| {
        let _ = std::fs::remove_file(&tmp.0);
        write_err(path)(err)
    })
}

fn tempfile_in(
    dir: &Path,
    path: &Path,
) -> Result<(std::path::PathBuf, std::fs::File), ConfigError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(write_err(path))?;
    Ok((tmp, file))
}

/// Save a whole config (from the GUI) into the file, changing only what changed: comments,
/// order and the defaults the file leaves out are kept (see `edit.rs`). The config is validated
/// first, so an invalid config is never written; a file that no longer loads (a hand edit
/// half done) is never overwritten either: its own error is returned. With no file yet, or
/// should the edited text not mean exactly `config`, the whole config is written.
pub fn save(path: &Path, config: &Config) -> Result<(), ConfigError> {
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return write_atomic(path, &whole(path, config)?);
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let old = parse(&current, path)?;
    if old == *config {
        return Ok(());
    }
    let text = match edit::merge(&current, &old, config) {
        Ok(merged) => match parse(&merged, path) {
            Ok(meant) if meant == *config => merged,
            Ok(_) => {
                tracing::warn!(
                    path = %path.display(),
                    "the edited config file would not mean the saved settings; writing it whole instead (its comments are lost)"
                );
                whole(path, config)?
            }
            // Most likely the config itself is invalid: report it against the user's layout.
            Err(err) => match whole(path, config) {
                Ok(text) => {
                    tracing::warn!(
                        path = %path.display(),
                        "the edited config file does not load ({err}); writing it whole instead (its comments are lost)"
                    );
                    text
                }
                Err(_) => return Err(err),
            },
        },
        Err(err) => {
            tracing::warn!(
                path = %path.display(),
                "the config file cannot be edited in place ({err}); writing it whole instead (its comments are lost)"
            );
            whole(path, config)?
        }
    };
    write_atomic(path, &text)
}

/// The whole config as TOML (every field written out), checked to load back.
fn whole(path: &Path, config: &Config) -> Result<String, ConfigError> {
    let text = toml::to_string_pretty(config).map_err(|err| ConfigError::Write {
        path: path.to_owned(),
        source: std::io::Error::other(err),
    })?;
    parse(&text, path)?;
    Ok(text)
}

/// Switch `active_profile` in the file, keeping its comments and layout. The file must be
/// valid before and after; otherwise it is left untouched.
pub fn set_active_profile(path: &Path, profile: &str) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)?;
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|err: toml_edit::TomlError| ConfigError::Syntax {
                path: path.to_owned(),
                line: 1,
                message: err.to_string(),
            })?;
    doc["active_profile"] = toml_edit::value(profile);
    let new_text = doc.to_string();
    let config = parse(&new_text, path)?;
    write_atomic(path, &new_text)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG, load, load_or_create};

    #[test]
    fn first_run_writes_the_commented_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.toml");
        let (config, created) = load_or_create(&path).unwrap();
        assert!(created);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), DEFAULT_CONFIG);
        let (again, created) = load_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(again, config);
    }

    #[test]
    fn switching_profile_keeps_comments_and_refuses_unknown_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        write_atomic(&path, DEFAULT_CONFIG).unwrap();
        let config = set_active_profile(&path, "cloud").unwrap();
        assert_eq!(config.active_profile, "cloud");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("# Switchyard configuration."));
        assert_eq!(load(&path).unwrap().active_profile, "cloud");

        let err = set_active_profile(&path, "nope").unwrap_err();
        assert!(err.to_string().contains("no profile \"nope\""), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn a_broken_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let broken = "active_profile = \"local\"\n[[backends]\n";
        std::fs::write(&path, broken).unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(ConfigError::Syntax { .. })
        ));
        assert!(set_active_profile(&path, "cloud").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    }

    #[test]
    fn saving_round_trips_and_refuses_invalid_configs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut config = parse(DEFAULT_CONFIG, &path).unwrap();
        save(&path, &config).unwrap();
        assert_eq!(load(&path).unwrap(), config);
        let before = std::fs::read_to_string(&path).unwrap();
        config.active_profile = "missing".into();
        assert!(matches!(
            save(&path, &config),
            Err(ConfigError::Invalid { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
    }
}
