//! A usage database that cannot be opened must not stop the gateway: a damaged file is moved
//! aside (kept for the user, named in the log, the app and `/health`) and a new one started.

use std::path::{Path, PathBuf};

use super::{UsageError, UsageStore};

/// The store at `path`, and what had to be done to get it (a sentence), if anything.
pub fn open_or_recover(
    path: &Path,
    now_ms: i64,
) -> Result<(UsageStore, Option<String>), UsageError> {
    let err = match UsageStore::open(path) {
        Ok(store) => return Ok((store, None)),
        Err(err) if is_damaged(&err) => err,
        Err(err) => return Err(err),
    };
    let aside = aside_path(path, now_ms);
    tracing::error!(%err, moved_to = %aside.display(), "the usage database is damaged; starting a new one");
    std::fs::rename(path, &aside).map_err(|source| UsageError::Dir {
        path: aside.clone(),
        source,
    })?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let mut moved = aside.as_os_str().to_owned();
        moved.push(suffix);
        // Absent side files are the usual case.
        let _ = std::fs::rename(PathBuf::from(side), PathBuf::from(moved));
    }
    let store = UsageStore::open(path)?;
    Ok((
        store,
        Some(format!(
            "The usage database was damaged ({err}); it was moved to {} and a new history started.",
            aside.display()
        )),
    ))
}

fn aside_path(path: &Path, now_ms: i64) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".damaged-{now_ms}"));
    PathBuf::from(name)
}

/// SQLite's own verdict: not a database, or a corrupt one.
fn is_damaged(err: &UsageError) -> bool {
    matches!(
        err,
        UsageError::Sqlite {
            source: rusqlite::Error::SqliteFailure(e, _),
            ..
        } if matches!(
            e.code,
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_file_is_moved_aside_and_a_new_one_started() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage.db");
        let garbage = b"this is not a database, just some bytes ".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let (store, note) = open_or_recover(&path, 1_795_392_000_000).unwrap();
        let note = note.unwrap();
        let aside = dir.path().join("usage.db.damaged-1795392000000");
        assert!(note.contains(&aside.display().to_string()), "{note}");
        assert_eq!(
            std::fs::read(&aside).unwrap(),
            garbage,
            "the damaged file is kept"
        );
        assert_eq!(store.totals(&Default::default()).unwrap().requests, 0);
        // A sound file is opened as it is.
        drop(store);
        let (_, note) = open_or_recover(&path, 0).unwrap();
        assert!(note.is_none());
    }
}
