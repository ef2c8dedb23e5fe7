use std::net::SocketAddr;

use crate::config::ConfigError;
use crate::secrets::SecretError;
use crate::usage::UsageError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(
        "cannot listen on {addr}: {source} (is another Switchyard or program using that port? change `listen` in the config or pass --listen)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "{0} is not a loopback address: the gateway listens on 127.0.0.1 or [::1] unless started headless with --allow-non-loopback"
    )]
    NonLoopback(SocketAddr),
    #[error(
        "the local token comes from SWITCHYARD_TOKEN; change that variable instead of rotating"
    )]
    TokenFromEnv,
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error(
        "no data directory could be determined for this user; set SWITCHYARD_DATA_DIR to where the usage history should live"
    )]
    NoDataDir,
    #[error("this engine keeps no usage history (it was started without a usage database)")]
    NoUsageHistory,
    #[error("an internal task failed: {0}")]
    Internal(String),
    #[error("SWITCHYARD_LISTEN is {0:?}, which is not an address and port such as 127.0.0.1:4747")]
    BadListenVar(String),
}

impl From<crate::gateway::SwitchProfileError> for EngineError {
    fn from(e: crate::gateway::SwitchProfileError) -> Self {
        match e {
            crate::gateway::SwitchProfileError::Config(e) => EngineError::Config(e),
            crate::gateway::SwitchProfileError::Task(e) => EngineError::Internal(e),
        }
    }
}

impl EngineError {
    pub fn join(err: tokio::task::JoinError) -> Self {
        EngineError::Internal(err.to_string())
    }
}
