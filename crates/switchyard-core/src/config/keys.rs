//! Where a backend's provider keys come from: one or several named keychain entries
//! (`keys = ["work", "personal"]`), one or several environment variables
//! (`api_key_env = "KEY"` or `["KEY_A", "KEY_B"]`), or the backend's own keychain entry when
//! neither is set. Several keys make a pool the gateway rotates over (`gateway/keys.rs`).

use serde::{Deserialize, Serialize};

use super::BackendConfig;

/// The name of the backend's own keychain entry (`backend:<id>`) inside a `keys` list, so a
/// key stored before the backend had a pool keeps working as one of its keys.
pub const DEFAULT_KEY_NAME: &str = "default";

/// `api_key_env` as written: one variable or a list.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyEnv {
    One(String),
    Many(Vec<String>),
}

impl KeyEnv {
    /// The variables, in the order written.
    pub fn names(&self) -> &[String] {
        match self {
            KeyEnv::One(name) => std::slice::from_ref(name),
            KeyEnv::Many(names) => names,
        }
    }

    /// One variable as a plain string, several as a list (what a person would write).
    pub fn from_names(mut names: Vec<String>) -> Option<KeyEnv> {
        match names.len() {
            0 => None,
            1 => names.pop().map(KeyEnv::One),
            _ => Some(KeyEnv::Many(names)),
        }
    }
}

impl From<String> for KeyEnv {
    fn from(name: String) -> Self {
        KeyEnv::One(name)
    }
}

impl From<&str> for KeyEnv {
    fn from(name: &str) -> Self {
        KeyEnv::One(name.to_owned())
    }
}

/// One key of a backend, by where it is read from. Never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyRef {
    /// A keychain entry: `None` is the backend's own (`backend:<id>`), `Some(name)` a named
    /// key of its pool.
    Keychain(Option<String>),
    /// An environment variable.
    Env(String),
}

impl KeyRef {
    /// How the key is named in the usage history, the log and the app: its keychain name or
    /// its variable; `None` for the backend's own unnamed entry.
    pub fn name(&self) -> Option<&str> {
        match self {
            KeyRef::Keychain(name) => name.as_deref(),
            KeyRef::Env(var) => Some(var),
        }
    }
}

/// The keychain account of a backend's key: its own entry for `None` or `default`, else
/// `backend:<id>:key:<name>`.
pub fn key_account(backend_id: &str, name: Option<&str>) -> String {
    match name {
        None | Some(DEFAULT_KEY_NAME) => crate::secrets::backend_account(backend_id),
        Some(name) => format!("{}:key:{name}", crate::secrets::backend_account(backend_id)),
    }
}

/// Whether `name` may name a key: what a keychain account and a usage row carry well.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
}

impl BackendConfig {
    /// Every key of the backend, in the order written: the environment variables, else the
    /// named keychain keys, else the backend's own keychain entry.
    pub fn key_refs(&self) -> Vec<KeyRef> {
        if let Some(env) = &self.api_key_env {
            return env.names().iter().cloned().map(KeyRef::Env).collect();
        }
        if self.keys.is_empty() {
            return vec![KeyRef::Keychain(None)];
        }
        self.keys
            .iter()
            .map(|name| match name.as_str() {
                DEFAULT_KEY_NAME => KeyRef::Keychain(None),
                _ => KeyRef::Keychain(Some(name.clone())),
            })
            .collect()
    }

    /// The backend's first key (its only one unless it has a pool), without building the
    /// whole list: what every request to a single-key backend asks for.
    pub fn first_key_ref(&self) -> KeyRef {
        match (&self.api_key_env, self.keys.first()) {
            (Some(env), _) => KeyRef::Env(env.names().first().cloned().unwrap_or_default()),
            (None, Some(name)) if name != DEFAULT_KEY_NAME => KeyRef::Keychain(Some(name.clone())),
            (None, _) => KeyRef::Keychain(None),
        }
    }

    /// Whether the backend rotates over several keys (one key keeps the simple behaviour: an
    /// upstream's 401 or 429 is answered as it comes).
    pub fn has_key_pool(&self) -> bool {
        self.api_key_env
            .as_ref()
            .is_some_and(|e| e.names().len() > 1)
            || self.keys.len() > 1
    }

    /// The first environment variable, for probes that need one key (discovery).
    pub fn first_key_env(&self) -> Option<&str> {
        self.api_key_env
            .as_ref()
            .and_then(|e| e.names().first())
            .map(String::as_str)
    }

    /// Whether the keys come from the environment rather than the keychain.
    pub fn keys_from_env(&self) -> bool {
        self.api_key_env.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackendKind;

    fn backend(extra: &str) -> BackendConfig {
        let text = format!("id = \"b\"\nkind = \"anthropic\"\nbase_url = \"https://x\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn one_variable_or_a_list_round_trips_as_written() {
        let one = backend("api_key_env = \"K\"");
        assert_eq!(one.api_key_env, Some(KeyEnv::One("K".into())));
        assert!(
            toml::to_string(&one)
                .unwrap()
                .contains("api_key_env = \"K\"")
        );
        let many = backend("api_key_env = [\"A\", \"B\"]");
        assert_eq!(
            many.key_refs(),
            vec![KeyRef::Env("A".into()), KeyRef::Env("B".into())]
        );
        assert!(many.has_key_pool());
        assert!(
            toml::to_string(&many)
                .unwrap()
                .contains("api_key_env = [\"A\", \"B\"]")
        );
    }

    #[test]
    fn named_keys_keep_the_backends_own_entry_as_default() {
        let pool = backend("keys = [\"default\", \"work\"]");
        assert_eq!(
            pool.key_refs(),
            vec![
                KeyRef::Keychain(None),
                KeyRef::Keychain(Some("work".into()))
            ]
        );
        assert_eq!(key_account("b", Some("default")), "backend:b");
        assert_eq!(key_account("b", Some("work")), "backend:b:key:work");
        let plain = BackendConfig::new("b", BackendKind::Anthropic, "https://x");
        assert_eq!(plain.key_refs(), vec![KeyRef::Keychain(None)]);
        assert_eq!(plain.first_key_ref(), KeyRef::Keychain(None));
        assert_eq!(pool.first_key_ref(), KeyRef::Keychain(None));
        assert_eq!(
            backend("api_key_env = [\"A\", \"B\"]").first_key_ref(),
            KeyRef::Env("A".into())
        );
        assert!(!plain.has_key_pool());
    }

    #[test]
    fn key_names_are_plain_words() {
        assert!(is_valid_key_name("work-2.old_one"));
        for bad in ["", "a b", "a:b", "ключ", &"x".repeat(65)] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
        }
    }
}
