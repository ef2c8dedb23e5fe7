//! "Import LiteLLM config…": the same file operation as `switchyard import litellm`
//! (`litellm::import_into`), in the engine's edit turn, then the new config applied to the
//! next requests. The app hands over the path the user chose; the engine reads the file, with
//! a size bound, so the desktop shell only passes arguments.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::Engine;
use crate::litellm::{self, ImportError, ImportOptions, ImportReport};

/// The largest LiteLLM file the engine reads (1 MiB). A proxy config is a few kilobytes; a
/// bigger file is something else chosen by mistake.
pub const LITELLM_FILE_LIMIT: u64 = 1024 * 1024;

/// Why a LiteLLM file could not be imported; every message is a sentence for a person.
/// Nothing was changed when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportFileError {
    #[error(
        "{} is {}, too large for a LiteLLM config (at most 1 MiB): choose the proxy's config.yaml",
        path.display(), size_words(*size)
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{} is not a file: choose the LiteLLM proxy's config.yaml", path.display())]
    NotAFile { path: PathBuf },
    #[error("{} is not a text file: choose the LiteLLM proxy's config.yaml", path.display())]
    NotText { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// A file size for a person: "3.2 MiB", "812 KiB".
fn size_words(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        // Tenths of a MiB, rounded down, in integers (no float casts).
        let tenths = bytes * 10 / MIB;
        format!("{}.{} MiB", tenths / 10, tenths % 10)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// The file's text, refused when it is over [`LITELLM_FILE_LIMIT`] (checked before reading,
/// and again while reading, for a file that grows or reports no size), not a regular file,
/// or not UTF-8. A byte-order mark is not part of the YAML.
pub fn read_litellm_file(path: &Path) -> Result<String, ImportFileError> {
    let read_error = |source| ImportFileError::Read {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(ImportFileError::NotAFile {
            path: path.to_owned(),
        });
    }
    let too_large = |size| ImportFileError::TooLarge {
        path: path.to_owned(),
        size,
    };
    if meta.len() > LITELLM_FILE_LIMIT {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(LITELLM_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > LITELLM_FILE_LIMIT {
        return Err(too_large(read));
    }
    let text = String::from_utf8(bytes).map_err(|_| ImportFileError::NotText {
        path: path.to_owned(),
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

impl Engine {
    /// Import a LiteLLM proxy config (its YAML text) into `profile` (the active one when
    /// `None`; created if missing). With `dry_run` nothing is written or stored: the report
    /// says what an import would do.
    pub async fn import_litellm(
        &self,
        yaml: &str,
        profile: Option<&str>,
        dry_run: bool,
    ) -> Result<ImportReport, ImportError> {
        let _turn = self.edit_turn().await;
        let path = self.config_path();
        let store = self.gateway().secrets().clone();
        let (yaml, profile) = (yaml.to_owned(), profile.map(str::to_owned));
        let imported = tokio::task::spawn_blocking(move || {
            let options = ImportOptions {
                profile: profile.as_deref(),
                dry_run,
            };
            litellm::import_into(&path, &yaml, options, store.as_ref())
        })
        .await
        .map_err(|err| ImportError::Internal(err.to_string()))??;
        if let Some(config) = imported.config {
            self.gateway().set_config(config);
        }
        if !dry_run && !imported.report.keys_stored.is_empty() {
            self.gateway().forget_keys();
        }
        Ok(imported.report)
    }

    /// [`Engine::import_litellm`] of the file at `path` (the app's "Import LiteLLM config…"):
    /// read with [`read_litellm_file`]'s bound, so a wrong file chosen in the dialog is a
    /// sentence, not a stall. The real run reads the file again.
    pub async fn import_litellm_file(
        &self,
        path: &Path,
        profile: Option<&str>,
        dry_run: bool,
    ) -> Result<ImportReport, ImportFileError> {
        let owned = path.to_owned();
        let yaml = tokio::task::spawn_blocking(move || read_litellm_file(&owned))
            .await
            .map_err(|err| ImportError::Internal(err.to_string()))??;
        Ok(self.import_litellm(&yaml, profile, dry_run).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config;
    use crate::engine::{EngineOptions, Problem, ProblemKind};
    use crate::litellm::Outcome;
    use crate::secrets::MemoryStore;

    const CONFIG: &str = "listen = \"127.0.0.1:0\"\nactive_profile = \"local\"\n\n# the user's own words\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:9\"\n\n[profiles.local]\ndefault = { backend = \"b\" }\n\n[profiles.cloud]\n";

    const LITELLM: &str = "model_list:
  - model_name: team-model
    litellm_params:
      model: openai/team-model
      api_base: http://127.0.0.1:8000/v1
  - model_name: team-bedrock
    litellm_params:
      model: bedrock/meta.llama3-70b-instruct-v1:0
";

    async fn engine(dir: &Path) -> Engine {
        let config = dir.join("config.toml");
        std::fs::write(&config, CONFIG).unwrap();
        Engine::start(
            EngineOptions {
                config_path: Some(config),
                token: Some(secrecy::SecretString::from(
                    "sy-test-token-0123456789".to_owned(),
                )),
                usage_sink: Some(Arc::new(())),
                ..Default::default()
            },
            Arc::new(MemoryStore::default()),
        )
        .await
        .unwrap()
    }

    #[test]
    fn a_file_over_the_bound_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("config.yaml");
        let limit = usize::try_from(LITELLM_FILE_LIMIT).unwrap();
        std::fs::write(&big, "#".repeat(limit + 1)).unwrap();
        let err = read_litellm_file(&big).unwrap_err();
        assert!(
            matches!(err, ImportFileError::TooLarge { size, .. } if size == LITELLM_FILE_LIMIT + 1),
            "{err:?}"
        );
        assert_eq!(err.kind(), ProblemKind::InvalidInput);
        let sentence = err.sentence();
        assert!(sentence.contains("1.0 MiB, too large"), "{sentence}");
        assert!(sentence.contains("at most 1 MiB"), "{sentence}");

        // Exactly at the bound is fine.
        std::fs::write(&big, "#".repeat(limit)).unwrap();
        assert_eq!(read_litellm_file(&big).unwrap().len(), limit);
    }

    #[test]
    fn other_unreadable_files_are_sentences() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_litellm_file(dir.path()).unwrap_err();
        assert!(matches!(err, ImportFileError::NotAFile { .. }), "{err:?}");
        assert!(
            err.sentence()
                .ends_with("choose the LiteLLM proxy's config.yaml")
        );

        let missing = dir.path().join("nope.yaml");
        let err = read_litellm_file(&missing).unwrap_err();
        assert!(matches!(err, ImportFileError::Read { .. }), "{err:?}");
        assert_eq!(err.kind(), ProblemKind::NotFound);
        assert!(
            err.sentence().starts_with("Cannot read "),
            "{}",
            err.sentence()
        );

        let binary = dir.path().join("config.yaml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x80]).unwrap();
        let err = read_litellm_file(&binary).unwrap_err();
        assert!(matches!(err, ImportFileError::NotText { .. }), "{err:?}");

        std::fs::write(&binary, "\u{feff}model_list: []\n").unwrap();
        assert_eq!(read_litellm_file(&binary).unwrap(), "model_list: []\n");
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_words(1), "1 KiB");
        assert_eq!(size_words(812 * 1024), "812 KiB");
        assert_eq!(size_words(3 * 1024 * 1024 + 300 * 1024), "3.2 MiB");
    }

    #[tokio::test]
    async fn a_dry_run_of_a_file_changes_nothing_and_the_real_run_imports_it() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path()).await;
        let yaml = dir.path().join("litellm.yaml");
        std::fs::write(&yaml, LITELLM).unwrap();
        let config_path = dir.path().join("config.toml");

        let dry = engine
            .import_litellm_file(&yaml, Some("cloud"), true)
            .await
            .unwrap();
        assert!(dry.dry_run && dry.changed, "{dry:?}");
        assert_eq!(dry.profile, "cloud");
        assert_eq!(std::fs::read_to_string(&config_path).unwrap(), CONFIG);
        assert!(engine.config().profiles["cloud"].rules.is_empty());
        let bedrock = dry
            .rows
            .iter()
            .find(|r| r.item.contains("team-bedrock"))
            .unwrap();
        assert_eq!(bedrock.outcome, Outcome::NotImported);
        assert_eq!(bedrock.line, Some(6));
        assert!(dry.count(Outcome::Imported) >= 2, "{dry:?}");

        let done = engine
            .import_litellm_file(&yaml, Some("cloud"), false)
            .await
            .unwrap();
        assert!(!done.dry_run && done.changed && done.backup.is_some());
        let text = std::fs::read_to_string(&config_path).unwrap();
        assert!(text.contains("# the user's own words"), "{text}");
        let on_disk = config::load(&config_path).unwrap();
        assert_eq!(*engine.config(), on_disk);
        assert!(
            on_disk.profiles["cloud"]
                .rules
                .iter()
                .any(|r| r.pattern == "team-model")
        );
        // The active profile was not touched.
        assert!(on_disk.profiles["local"].rules.is_empty());

        // A YAML error names its line and column, and changes nothing.
        std::fs::write(&yaml, "model_list:\n  - model_name: [\n").unwrap();
        let err = engine
            .import_litellm_file(&yaml, None, true)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ProblemKind::InvalidInput);
        assert!(
            err.sentence()
                .starts_with("The LiteLLM file is not valid YAML: line ")
        );
        assert_eq!(std::fs::read_to_string(&config_path).unwrap(), text);
        engine.shutdown().await;
    }
}
