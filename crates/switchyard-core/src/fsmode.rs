//! Private by default: files Switchyard creates hold tokens, keys, prompts' metadata and spend,
//! so on unix they are created `0600` and folders `0700`. A file Switchyard writes over keeps
//! the mode it had (the user may have shared it on purpose); nothing is ever widened.
//!
//! Elsewhere (Windows) files under the user's profile inherit its owner-only ACLs; the helpers
//! only create files and folders there.

use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};

/// Read and write for the owner only.
#[cfg(unix)]
pub const PRIVATE_FILE: u32 = 0o600;
/// Owner only.
#[cfg(unix)]
pub const PRIVATE_DIR: u32 = 0o700;

/// The permissions a file should get when it replaces (or becomes) the file at a path: see
/// [`mode_to_keep`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMode(Option<Permissions>);

impl FileMode {
    /// Owner-only, for a file that did not exist.
    pub fn private() -> FileMode {
        FileMode(None)
    }

    /// The same without group and other access, for a file about to hold a secret.
    pub fn owner_only(self) -> FileMode {
        #[cfg(unix)]
        if let Some(kept) = &self.0 {
            return FileMode(Some(Permissions::from_mode(kept.mode() & 0o700)));
        }
        self
    }
}

/// The mode a new version of `path` should have: the current file's (symlinks followed, as
/// writes through them are), or private when there is none. A file that cannot be inspected
/// counts as absent: private is the safe side.
pub fn mode_to_keep(path: &Path) -> FileMode {
    FileMode(std::fs::metadata(path).ok().map(|meta| meta.permissions()))
}

/// Gives an open file (typically the temporary file about to be renamed into place) `mode`.
/// Set on the open handle, before anything secret is written to it.
pub fn set_mode(file: &File, mode: &FileMode) -> io::Result<()> {
    match &mode.0 {
        Some(kept) => file.set_permissions(kept.clone()),
        None => set_private(file),
    }
}

#[cfg(unix)]
fn set_private(file: &File) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(PRIVATE_FILE))
}

#[cfg(not(unix))]
fn set_private(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Creates `path` as a new, empty, owner-only file; fails if it exists (so an existing file's
/// mode is never touched).
pub fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    options.mode(PRIVATE_FILE);
    options.open(path)
}

/// Creates `path` as an empty owner-only file unless something already exists there, for files
/// another library then opens (SQLite creates its database world-readable otherwise).
pub fn ensure_private_file(path: &Path) -> io::Result<()> {
    match create_private_file(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// `create_dir_all`, with every folder it creates owner-only; existing folders are left as
/// they are.
pub fn create_private_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(PRIVATE_DIR);
    builder.create(path)
}

/// Takes group and other access away from an existing file that now holds a secret (Claude
/// Code's `settings.json` once it has the gateway token). Owner bits are left alone.
pub fn restrict_to_owner(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
pub(crate) mod tests {
    use super::*;

    /// The permission bits of `path`.
    pub(crate) fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    pub(crate) fn set(path: &Path, mode: u32) {
        std::fs::set_permissions(path, Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn new_folders_are_owner_only_and_existing_ones_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        set(&shared, 0o755);
        let deep = shared.join("a/b");
        create_private_dir_all(&deep).unwrap();
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(mode(&shared.join("a")), 0o700);
        assert_eq!(mode(&deep), 0o700);
    }

    #[test]
    fn the_mode_to_keep_is_the_existing_files_or_private() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("existing");
        std::fs::write(&existing, "x").unwrap();
        set(&existing, 0o640);
        let tmp = dir.path().join("tmp");
        let file = std::fs::File::create(&tmp).unwrap();
        set_mode(&file, &mode_to_keep(&existing)).unwrap();
        assert_eq!(mode(&tmp), 0o640);
        set_mode(&file, &mode_to_keep(&dir.path().join("absent"))).unwrap();
        assert_eq!(mode(&tmp), 0o600);
    }

    #[test]
    fn private_files_are_created_owner_only_and_never_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        ensure_private_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        set(&path, 0o644);
        ensure_private_file(&path).unwrap();
        assert_eq!(mode(&path), 0o644, "an existing file keeps its mode");
        assert!(create_private_file(&path).is_err());
    }

    #[test]
    fn restricting_takes_away_group_and_other_access_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, "{}").unwrap();
        set(&path, 0o664);
        restrict_to_owner(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        set(&path, 0o400);
        restrict_to_owner(&path).unwrap();
        assert_eq!(mode(&path), 0o400, "never widened");
    }

    #[test]
    fn config_files_are_private_and_keep_their_mode() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("switchyard");
        let path = folder.join("config.toml");
        crate::config::write_atomic(&path, "active_profile = \"local\"\n").unwrap();
        assert_eq!(mode(&folder), 0o700);
        assert_eq!(mode(&path), 0o600);

        // A mode the user chose survives a save.
        set(&path, 0o640);
        crate::config::write_atomic(&path, "active_profile = \"cloud\"\n").unwrap();
        assert_eq!(mode(&path), 0o640);
    }
}
