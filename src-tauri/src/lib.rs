//! Switchyard's desktop shell: runs the engine in-process and gives it a tray and a window.
//!
//! - [`commands`]: IPC commands, one module per screen; [`events`]: pushed to the window.
//! - [`bindings`]: the command/event list and the TypeScript export.
//! - [`tray`]: tray menu with typed ids; [`state`]: what commands share; [`error`]: the one
//!   command error type.

pub mod bindings;
pub mod commands;
pub mod error;
pub mod events;
mod prefs;
pub mod state;
pub mod tray;
mod tray_text;

pub(crate) mod engine {
    pub use switchyard_core::engine::{Engine, EngineError, EngineEvent, EngineOptions};
}

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use switchyard_core::secrets::{KeychainStore, SecretStore};
use switchyard_core::usage::{DB_FILE_NAME, Pricer, RequestRow, UsageReader};
use tauri::{Manager, RunEvent, WindowEvent};
use tauri_plugin_autostart::MacosLauncher;
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::commands::overview::{refresh_today, status_of};
use crate::engine::{Engine, EngineEvent, EngineOptions};
use crate::events::{RequestFinished, UsageChanged};
use crate::state::{AppState, SharedState};

fn engine_options() -> EngineOptions {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    EngineOptions {
        config_path: var("SWITCHYARD_CONFIG").map(PathBuf::from),
        data_dir: var("SWITCHYARD_DATA_DIR").map(PathBuf::from),
        // Headless machines and tests pin the local token instead of using the keychain's.
        token: std::env::var("SWITCHYARD_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .map(secrecy::SecretString::from),
        // Tests (and a second instance) pick the gateway's address without a config file.
        listen: std::env::var("SWITCHYARD_LISTEN").ok().and_then(|addr| {
            addr.trim()
                .parse()
                .inspect_err(|_| tracing::warn!(%addr, "SWITCHYARD_LISTEN is not an address such as 127.0.0.1:4747; using the config's"))
                .ok()
        }),
        ..EngineOptions::default()
    }
}

/// Forwards engine events to the tray and the window.
fn pump_events(app: tauri::AppHandle, state: SharedState) {
    let mut rx = state.engine.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(EngineEvent::RequestFinished(record)) => {
                    // Priced as the writer will price it, so the live row and the stored one agree.
                    let row = RequestRow::from(
                        Pricer::from_config(&state.engine.config()).price(*record),
                    );
                    let _ = RequestFinished { row }.emit(&app);
                    state.stored.notify_one();
                }
                Ok(
                    EngineEvent::ProfileChanged(_)
                    | EngineEvent::PausedChanged(_)
                    | EngineEvent::ConfigChanged,
                ) => tray::refresh(&app, &state),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!("missed {n} engine events");
                    state.stored.notify_one();
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// How often today's counters are re-read without a request of ours: the day rolls over, and
/// another process (`switchyard serve` on the same data dir) may be writing too.
const USAGE_POLL: Duration = Duration::from_secs(60);

/// After requests finish: have the writer commit them (it batches for up to 250 ms), re-read
/// today's counters, then tell the tray and the window. A burst of requests is one pass.
fn follow_usage(app: tauri::AppHandle, state: SharedState) {
    tauri::async_runtime::spawn(async move {
        let mut ours = true;
        loop {
            if ours
                && let Some(writer) = state.engine.usage_writer().cloned()
                && let Ok(Err(err)) = tokio::task::spawn_blocking(move || writer.flush()).await
            {
                tracing::warn!(%err, "the usage writer did not flush");
            }
            let before = state.today();
            if let Err(err) = refresh_today(&state).await {
                tracing::warn!(%err, "could not read today's usage");
            }
            if ours || state.today() != before {
                tray::refresh(&app, &state);
                let _ = UsageChanged {
                    status: status_of(&state),
                }
                .emit(&app);
            }
            ours = tokio::time::timeout(USAGE_POLL, state.stored.notified())
                .await
                .is_ok();
        }
    });
}

pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();

    let ipc = bindings::builder();
    let app = tauri::Builder::default()
        // Must be the first plugin: a second launch focuses the running window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tray::show_main(app);
        }))
        .plugin(tauri_plugin_autostart::init(
            MacosLauncher::LaunchAgent,
            None,
        ))
        .plugin(tauri_plugin_clipboard_manager::init())
        // The save dialog for CSV exports (opened from Rust; the window cannot call it).
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(ipc.invoke_handler())
        .setup(move |app| {
            ipc.mount_events(app);
            let secrets: Arc<dyn SecretStore> = Arc::new(KeychainStore::default());
            let options = engine_options();
            let data_dir = options.data_dir.clone();
            let engine = tauri::async_runtime::block_on(Engine::start(options, secrets))
                .map_err(|e| format!("Switchyard could not start its gateway: {e}"))?;
            // The same file the engine's writer (and `switchyard serve`) writes.
            let usage = match engine.usage_writer() {
                Some(_) => Some(UsageReader::new(
                    switchyard_core::engine::data_dir(data_dir)?.join(DB_FILE_NAME),
                )),
                None => None,
            };
            let prefs = prefs::load(&prefs::prefs_path(&engine.config_path()));
            let tray_host = tray::tray_host_present();
            let state: SharedState = Arc::new(AppState::new(engine, usage, prefs, tray_host));
            app.manage(state.clone());
            tray::create(app.handle(), &state)?;
            pump_events(app.handle().clone(), state.clone());
            follow_usage(app.handle().clone(), state);
            // Without a tray host the tray icon is invisible: the window is the only way in.
            // A first run opens it too, so a new user sees the setup checklist.
            let force = std::env::var_os("SWITCHYARD_SHOW_WINDOW").is_some();
            if !tray_host || force || app.state::<SharedState>().engine.first_run() {
                tray::show_main(app.handle());
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                let tray_host = window
                    .app_handle()
                    .try_state::<SharedState>()
                    .is_some_and(|s| s.tray_host);
                if tray_host {
                    api.prevent_close();
                    let _ = window.hide();
                }
            }
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("switchyard-desktop: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::Exit = event
            && let Some(state) = handle.try_state::<SharedState>()
        {
            tauri::async_runtime::block_on(state.engine.shutdown());
        }
    });
}
