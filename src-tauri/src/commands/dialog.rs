//! Native file dialogs, run off the async runtime: the path the user chose, `None` when they
//! cancel.

use tauri_plugin_dialog::FilePath;

use crate::error::{CmdResult, CommandError, ErrorKind};

/// `dialog` names the dialog ("save", "folder") and `chosen` what it picks ("location",
/// "folder"), for the error sentences.
pub async fn ask(
    dialog: &'static str,
    chosen: &'static str,
    show: impl FnOnce() -> Option<FilePath> + Send + 'static,
) -> CmdResult<Option<String>> {
    let picked = tokio::task::spawn_blocking(show).await.map_err(|e| {
        CommandError::new(
            ErrorKind::Engine,
            format!("The {dialog} dialog failed: {e}"),
        )
    })?;
    match picked.map(FilePath::into_path) {
        None => Ok(None),
        Some(Ok(path)) => Ok(Some(path.display().to_string())),
        Some(Err(e)) => Err(CommandError::new(
            ErrorKind::Io,
            format!("The chosen {chosen} cannot be used: {e}"),
        )),
    }
}
