//! `KeychainStore` against a real Secret Service. Run for real by `scripts/e2e-keychain.sh`
//! (gnome-keyring inside `dbus-run-session`, with `SWITCHYARD_REAL_KEYCHAIN=1`). Without a
//! session bus these tests print why they skip and pass, unless `SWITCHYARD_REAL_KEYCHAIN=1`
//! makes skipping a failure.
//!
//! Each test uses its own service name, so nothing touches a real `switchyard` entry.

use std::io::Write;

use switchyard_core::secrets::{
    self, ExposeSecret, KeychainStore, LOCAL_TOKEN_ACCOUNT, SecretError, SecretStore, SecretString,
    backend_account,
};

fn required() -> bool {
    std::env::var("SWITCHYARD_REAL_KEYCHAIN").is_ok_and(|v| v == "1")
}

fn session_bus_present() -> bool {
    if std::env::var("DBUS_SESSION_BUS_ADDRESS").is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    std::env::var("XDG_RUNTIME_DIR")
        .is_ok_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}

/// Print outside libtest's capture, so the reason shows in a plain `cargo test` run.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// A store under a service name unique to this test and process, or `None` (skip) when no
/// Secret Service is reachable and a real one is not required.
#[expect(
    clippy::panic,
    reason = "a test helper: failing the test is its job when the keychain is required"
)]
fn store(test: &str) -> Option<KeychainStore> {
    let why = if !session_bus_present() {
        Some("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset)".to_owned())
    } else {
        let probe = KeychainStore::new(format!("switchyard-test-probe-{}", std::process::id()));
        match probe.get("probe") {
            Ok(_) => None,
            Err(err @ (SecretError::Unavailable { .. } | SecretError::Locked { .. })) => {
                Some(format!("no usable Secret Service: {err}"))
            }
            Err(err) => panic!("probing the keychain failed unexpectedly: {err}"),
        }
    };
    match why {
        None => Some(KeychainStore::new(format!(
            "switchyard-test-{test}-{}",
            std::process::id()
        ))),
        Some(why) if required() => {
            panic!("SWITCHYARD_REAL_KEYCHAIN=1 but {why}")
        }
        Some(why) => {
            say(&format!(
                "SKIPPED keychain_real::{test}: {why}; scripts/e2e-keychain.sh runs it for real"
            ));
            None
        }
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: a keychain error fails the test"
)]
fn read(store: &KeychainStore, account: &str) -> Option<String> {
    store
        .get(account)
        .unwrap()
        .map(|s| s.expose_secret().to_owned())
}

#[test]
fn store_read_overwrite_delete() {
    let Some(store) = store("roundtrip") else {
        return;
    };
    let account = backend_account("anthropic");
    assert_eq!(read(&store, &account), None, "a fresh service has no entry");
    store.set(&account, &secret("sk-ant-first-0001")).unwrap();
    assert_eq!(read(&store, &account).as_deref(), Some("sk-ant-first-0001"));
    store.set(&account, &secret("sk-ant-second-0002")).unwrap();
    assert_eq!(
        read(&store, &account).as_deref(),
        Some("sk-ant-second-0002"),
        "set replaces the entry"
    );
    assert!(store.delete(&account).unwrap(), "delete reports a deletion");
    assert_eq!(read(&store, &account), None, "deleted for real");
    assert!(
        !store.delete(&account).unwrap(),
        "deleting an absent entry is not an error and reports nothing deleted"
    );
}

#[test]
fn long_unicode_secret_survives_unchanged() {
    let Some(store) = store("unicode") else {
        return;
    };
    let value = format!("sk-é✓-{}", "x".repeat(500));
    store.set("backend:unicode", &secret(&value)).unwrap();
    assert_eq!(
        read(&store, "backend:unicode").as_deref(),
        Some(value.as_str())
    );
    assert!(store.delete("backend:unicode").unwrap());
}

#[test]
fn accounts_and_services_are_separate() {
    let (Some(a), Some(b)) = (store("sep-a"), store("sep-b")) else {
        return;
    };
    a.set("backend:one", &secret("a-one")).unwrap();
    a.set("backend:two", &secret("a-two")).unwrap();
    b.set("backend:one", &secret("b-one")).unwrap();
    assert_eq!(read(&a, "backend:one").as_deref(), Some("a-one"));
    assert_eq!(read(&a, "backend:two").as_deref(), Some("a-two"));
    assert_eq!(read(&b, "backend:one").as_deref(), Some("b-one"));
    assert_eq!(read(&b, "backend:two"), None);
    assert!(a.delete("backend:one").unwrap());
    assert_eq!(
        read(&b, "backend:one").as_deref(),
        Some("b-one"),
        "deleting in one service leaves the other"
    );
    assert!(a.delete("backend:two").unwrap());
    assert!(b.delete("backend:one").unwrap());
}

#[test]
fn local_token_is_created_in_the_keychain_then_reused_and_rotated() {
    let Some(store) = store("token") else {
        return;
    };
    let first = secrets::local_token(&store).unwrap();
    assert_eq!(
        read(&store, LOCAL_TOKEN_ACCOUNT).as_deref(),
        Some(first.expose_secret()),
        "the token is stored in the keychain"
    );
    // A second store object reads it back from the Secret Service, not from memory.
    let again = KeychainStore::new(format!("switchyard-test-token-{}", std::process::id()));
    assert_eq!(
        secrets::local_token(&again).unwrap().expose_secret(),
        first.expose_secret()
    );
    let rotated = secrets::rotate_local_token(&again).unwrap();
    assert_ne!(rotated.expose_secret(), first.expose_secret());
    assert_eq!(
        read(&store, LOCAL_TOKEN_ACCOUNT).as_deref(),
        Some(rotated.expose_secret())
    );
    assert!(store.delete(LOCAL_TOKEN_ACCOUNT).unwrap());
}
