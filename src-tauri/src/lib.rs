//! Switchyard's desktop shell: runs the engine in-process and gives it a tray and a window.
//!
//! - [`commands`]: IPC commands, one module per screen, each an adapter over an engine
//!   operation; [`bindings`]: the command/event list and the TypeScript export.
//! - [`events`]: what is pushed to the window; [`pump`]: engine events to the tray and window.
//! - [`tray`]: the tray menu with typed ids (words in `tray_text`); [`state`]: what commands
//!   share; [`error`]: the one command error type; `prefs`: the window's own preferences.

pub mod bindings;
pub mod commands;
pub mod error;
pub mod events;
mod prefs;
mod pump;
pub mod state;
pub mod tray;
mod tray_text;

use std::sync::Arc;

use switchyard_core::engine::{Engine, EngineOptions};
use switchyard_core::secrets::{KeychainStore, SecretStore};
use tauri::{Manager, RunEvent, WindowEvent};
use tauri_plugin_autostart::MacosLauncher;

use crate::state::{AppState, SharedState};

/// Starts the engine (same config, data and keychain as `switchyard serve`) and the tray.
fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let secrets: Arc<dyn SecretStore> = Arc::new(KeychainStore::default());
    let engine = tauri::async_runtime::block_on(Engine::start(EngineOptions::from_env()?, secrets))
        .map_err(|e| format!("Switchyard could not start its gateway: {e}"))?;
    let prefs = prefs::load(&prefs::prefs_path(&engine.config_path()));
    let tray_host = tray::tray_host_present();
    let first_run = engine.first_run();
    let state: SharedState = Arc::new(AppState {
        engine,
        prefs: prefs.into(),
        tray_host,
    });
    app.manage(state.clone());
    tray::create(app.handle(), &state)?;
    pump::start(app.handle(), &state);
    // Without a tray host the tray icon is invisible: the window is the only way in.
    // On a first run too: the setup checklist greets a new user.
    if !tray_host || first_run || std::env::var_os("SWITCHYARD_SHOW_WINDOW").is_some() {
        tray::show_main(app.handle());
    }
    Ok(())
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
            setup(app)
        })
        .on_window_event(|window, event| {
            // With a tray the window only hides: the gateway keeps running in the tray.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window
                    .app_handle()
                    .try_state::<SharedState>()
                    .is_some_and(|s| s.tray_host)
            {
                api.prevent_close();
                let _ = window.hide();
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
