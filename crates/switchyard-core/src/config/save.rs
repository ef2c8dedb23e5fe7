use std::io::Write;
use std::path::Path;

use super::{Config, ConfigError, edit, parse};

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Write `text` to `path` atomically: a temporary file of its own in the same folder (never
/// shared: 16 concurrent writers once truncated each other's), synced, then renamed over the
/// old file, so a crash never leaves a half-written config. The file keeps its mode; a new one
/// is private (0600), as the temporary file is created.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), ConfigError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    crate::fsmode::create_private_dir_all(dir).map_err(write_err(path))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".to_owned());
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(write_err(path))?;
    // Private by default; an existing config keeps its mode (see `fsmode`).
    crate::fsmode::set_mode(tmp.as_file(), &crate::fsmode::mode_to_keep(path))
        .map_err(write_err(path))?;
    tmp.write_all(text.as_bytes()).map_err(write_err(path))?;
    tmp.as_file().sync_all().map_err(write_err(path))?;
    tmp.persist(path)
        .map_err(|err| write_err(path)(err.error))?;
    Ok(())
}

/// The writer's turn on a config file: one thread of this process at a time (a mutex), and one
/// process at a time (an advisory lock on `<file>.lock`: the app and the CLI may run
/// together; `File::lock`, hence Rust 1.89). Held across each read-modify-write; released on
/// drop.
pub(crate) struct WriteTurn {
    _file: std::fs::File,
    _thread: std::sync::MutexGuard<'static, ()>,
}

static THREADS: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub(crate) fn write_turn(path: &Path) -> Result<WriteTurn, ConfigError> {
    let thread = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let mut lock_name = path.as_os_str().to_owned();
    lock_name.push(".lock");
    let lock_path = std::path::PathBuf::from(lock_name);
    if let Some(dir) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::fsmode::create_private_dir_all(dir).map_err(write_err(path))?;
    }
    crate::fsmode::ensure_private_file(&lock_path).map_err(write_err(path))?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&lock_path)
        .map_err(write_err(path))?;
    file.lock().map_err(write_err(path))?;
    Ok(WriteTurn {
        _file: file,
        _thread: thread,
    })
}

/// Save a whole config (from the GUI) into the file, changing only what changed: comments,
/// order and the defaults the file leaves out are kept (see `edit.rs`). The config is validated
/// first, so an invalid config is never written; a file that no longer loads (a hand edit
/// half done) is never overwritten either: its own error is returned. With no file yet, or
/// should the edited text not mean exactly `config`, the whole config is written.
pub fn save(path: &Path, config: &Config) -> Result<(), ConfigError> {
    save_over(path, None, config)
}

/// [`save`] for an edit made to `base`: refused ([`ConfigError::ChangedOnDisk`]) when the file
/// no longer means `base`, since writing would undo what another program (the CLI, a text
/// editor) changed meanwhile. The check and the write happen under the same write turn.
pub fn save_edit(path: &Path, base: &Config, config: &Config) -> Result<(), ConfigError> {
    save_over(path, Some(base), config)
}

fn save_over(path: &Path, base: Option<&Config>, config: &Config) -> Result<(), ConfigError> {
    let _turn = write_turn(path)?;
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
    if base.is_some_and(|base| *base != old) {
        return Err(ConfigError::ChangedOnDisk {
            path: path.to_owned(),
        });
    }
    write_edit(path, &current, &old, config)
}

/// Write `config` into the file whose text is `current` (which means `old`), changing only
/// what differs (see `edit.rs`); the caller holds the write turn. The whole config is written
/// when the edited text would not mean exactly `config`.
pub(crate) fn write_edit(
    path: &Path,
    current: &str,
    old: &Config,
    config: &Config,
) -> Result<(), ConfigError> {
    if *old == *config {
        return Ok(());
    }
    let text = match edit::merge(current, old, config) {
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
    let _turn = write_turn(path)?;
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

    /// 16 switches at once, from threads of this process: the file always loads, ends with
    /// one of the profiles, and no temporary file is left behind.
    #[test]
    fn concurrent_writes_never_corrupt_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        write_atomic(&path, DEFAULT_CONFIG).unwrap();
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let profile = if i % 2 == 0 { "cloud" } else { "local" };
                    for _ in 0..10 {
                        set_active_profile(&path, profile).unwrap();
                        let mut config = load(&path).unwrap();
                        config.usage.retention_days = Some(30 + i);
                        save(&path, &config).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let config = load(&path).unwrap();
        assert!(["cloud", "local"].contains(&config.active_profile.as_str()));
        assert!(text.contains("# Switchyard configuration."), "{text}");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }

    /// Another process holding the lock (a separate open of the lock file conflicts like one)
    /// makes a switch wait for it rather than write under it.
    #[test]
    fn a_write_waits_for_another_writers_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        write_atomic(&path, DEFAULT_CONFIG).unwrap();
        let other = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.path().join("config.toml.lock"))
            .unwrap();
        other.lock().unwrap();
        let switch = {
            let path = path.clone();
            std::thread::spawn(move || set_active_profile(&path, "cloud").unwrap())
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(load(&path).unwrap().active_profile, "local");
        other.unlock().unwrap();
        assert_eq!(switch.join().unwrap().active_profile, "cloud");
        assert_eq!(load(&path).unwrap().active_profile, "cloud");
    }

    #[cfg(unix)]
    #[test]
    fn a_written_file_keeps_its_mode_and_a_new_one_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        write_atomic(&path, DEFAULT_CONFIG).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        set_active_profile(&path, "cloud").unwrap();
        assert_eq!(mode(&path), 0o640);
    }
}
