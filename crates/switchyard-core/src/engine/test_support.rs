//! An engine for the engine's own unit tests: a config file in `dir`, a fixed local token,
//! keys in memory.

use std::sync::Arc;

use super::{Engine, EngineOptions};
use crate::secrets::MemoryStore;

pub const TEST_TOKEN: &str = "sy-test-token-0123456789";

/// Starts an engine on `config` (TOML, written to `dir/config.toml`; use `listen =
/// "127.0.0.1:0"`).
pub async fn engine_with(dir: &std::path::Path, config: &str) -> Engine {
    let path = dir.join("config.toml");
    std::fs::write(&path, config).unwrap();
    Engine::start(
        EngineOptions {
            config_path: Some(path),
            token: Some(secrecy::SecretString::from(TEST_TOKEN.to_owned())),
            ..Default::default()
        },
        Arc::new(MemoryStore::default()),
    )
    .await
    .unwrap()
}
