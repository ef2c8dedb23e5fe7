use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error(
        "the usage database {path} has schema version {found}, newer than this Switchyard supports ({supported}): it was written by a newer version. Update Switchyard, or move the file away to start a new history"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "the usage database {path} has schema version {found} and needs upgrading to {supported}; run `switchyard serve` once (it upgrades the file, keeping a backup)"
    )]
    NeedsUpgrade {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("cannot create the data directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the usage database {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("usage database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot back up the usage database {path} before upgrading it: {source}")]
    Backup {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot create {path} to back up the usage database before upgrading it: {source}")]
    BackupFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the CSV export: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the usage export to {path}: {source}")]
    Export {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a usage query stopped unexpectedly: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("the usage writer has stopped")]
    WriterStopped,
}
