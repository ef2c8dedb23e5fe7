//! "Import LiteLLM config…": the same file operation as `switchyard import litellm`
//! (`litellm::import_into`), in the engine's edit turn, then the new config applied to the
//! next requests.

use super::Engine;
use crate::litellm::{self, ImportError, ImportOptions, ImportReport};

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
}
