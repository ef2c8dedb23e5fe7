use std::fmt;
use std::path::PathBuf;

/// One problem found in a config file: the field's path (`backends[1].kind`), the line it is
/// on when known, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub field: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

fn list(issues: &[Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("\n  - {i}"))
        .collect::<String>()
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the config file {path} is not valid TOML or has a wrong field (line {line}): {message}\nThe file was left as it is; fix it and start again."
    )]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("the config file {path} has {} problem(s):{}\nThe file was left as it is; fix it and start again.", issues.len(), list(issues))]
    Invalid { path: PathBuf, issues: Vec<Issue> },
    #[error("cannot write the config file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no config directory could be determined for this user; pass --config or set SWITCHYARD_CONFIG"
    )]
    NoConfigDir,
    #[error(
        "the config file {path} was changed by another program since Switchyard read it, so this change was not saved; Switchyard now uses the file as it is: make the change again"
    )]
    ChangedOnDisk { path: PathBuf },
}
