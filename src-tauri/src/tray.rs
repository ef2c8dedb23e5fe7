//! The tray: profile switch, status line, open, copy env, pause, quit. Menu ids are typed.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuId, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Wry};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_specta::Event;

use crate::events::StatusChanged;
use crate::state::{AppState, SharedState};
use crate::tray_text::TrayLang;

const TRAY_ID: &str = "switchyard";

/// Every item of the tray menu; its menu id is its JSON form (profiles are dynamic, so they
/// carry their name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrayItem {
    Status,
    LastError,
    Profile(String),
    Open,
    CopyEnv,
    Pause,
    Quit,
}

impl From<TrayItem> for MenuId {
    fn from(item: TrayItem) -> MenuId {
        MenuId::new(serde_json::to_string(&item).unwrap_or_default())
    }
}

impl TryFrom<&MenuId> for TrayItem {
    type Error = serde_json::Error;
    fn try_from(id: &MenuId) -> Result<Self, Self::Error> {
        serde_json::from_str(id.as_ref())
    }
}

fn icon_for(state: &AppState) -> Option<Image<'static>> {
    let bytes: &'static [u8] = if state.engine.is_paused() {
        include_bytes!("../../icons/tray-paused.png")
    } else {
        match state.engine.config().active_profile.as_str() {
            "local" => include_bytes!("../../icons/tray-local.png"),
            "cloud" => include_bytes!("../../icons/tray-cloud.png"),
            _ => include_bytes!("../../icons/tray-other.png"),
        }
    };
    Image::from_bytes(bytes).ok()
}

/// What the menu's structure depends on; anything else (the status line's counts, the error's
/// text, which profile is checked, pause) is updated in place.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    lang: TrayLang,
    profiles: Vec<String>,
    has_error: bool,
}

/// The menu as built. Replacing a tray menu closes it under the user's pointer, and a busy
/// Claude Code finishes a request every few seconds: so a refresh that keeps the shape only
/// changes the items' texts and checks.
struct Built {
    shape: Shape,
    status: MenuItem<Wry>,
    last_error: Option<MenuItem<Wry>>,
    profiles: Vec<CheckMenuItem<Wry>>,
    pause: CheckMenuItem<Wry>,
}

#[derive(Default)]
struct TrayMenu(Mutex<Option<Built>>);

/// The texts and checks of the moment.
struct Now {
    shape: Shape,
    status_line: String,
    error_line: Option<String>,
    active: String,
    paused: bool,
}

fn now(state: &AppState) -> Now {
    let status = state.engine.status();
    let text = TrayLang::from_pref(&state.prefs().language);
    Now {
        status_line: if status.paused {
            text.paused_line(&status.listen_addr)
        } else {
            text.status_line(&status.listen_addr, status.requests_today)
        },
        error_line: status
            .last_error
            .as_ref()
            .map(|e| text.last_error_line(e.backend.as_deref(), &e.message)),
        shape: Shape {
            lang: text,
            has_error: status.last_error.is_some(),
            profiles: status.profiles,
        },
        active: status.active_profile,
        paused: status.paused,
    }
}

fn build_menu(app: &AppHandle, now: &Now) -> tauri::Result<(Menu<Wry>, Built)> {
    let text = now.shape.lang;
    let words = text.words();
    let item = |id: TrayItem, label: String, enabled: bool| {
        MenuItem::with_id(app, id, label, enabled, None::<&str>)
    };
    let check = |id: TrayItem, label: String, checked: bool| {
        CheckMenuItem::with_id(app, id, label, true, checked, None::<&str>)
    };
    let separator = || PredefinedMenuItem::separator(app);
    let menu = Menu::new(app)?;
    let status = item(TrayItem::Status, now.status_line.clone(), false)?;
    menu.append(&status)?;
    let last_error = match &now.error_line {
        Some(line) => Some(item(TrayItem::LastError, line.clone(), false)?),
        None => None,
    };
    if let Some(line) = &last_error {
        menu.append(line)?;
    }
    menu.append(&separator()?)?;
    let mut profiles = Vec::with_capacity(now.shape.profiles.len());
    for name in &now.shape.profiles {
        let radio = check(
            TrayItem::Profile(name.clone()),
            text.profile(name),
            *name == now.active,
        )?;
        menu.append(&radio)?;
        profiles.push(radio);
    }
    menu.append(&separator()?)?;
    menu.append(&item(TrayItem::Open, words.open.into(), true)?)?;
    menu.append(&item(TrayItem::CopyEnv, words.copy_env.into(), true)?)?;
    let pause = check(TrayItem::Pause, words.pause.into(), now.paused)?;
    menu.append(&pause)?;
    menu.append(&separator()?)?;
    menu.append(&item(TrayItem::Quit, words.quit.into(), true)?)?;
    let built = Built {
        shape: now.shape.clone(),
        status,
        last_error,
        profiles,
        pause,
    };
    Ok((menu, built))
}

/// Brings an already built menu up to date without replacing it.
fn update(built: &Built, now: &Now) -> tauri::Result<()> {
    built.status.set_text(&now.status_line)?;
    if let (Some(item), Some(line)) = (&built.last_error, &now.error_line) {
        item.set_text(line)?;
    }
    for (item, name) in built.profiles.iter().zip(&now.shape.profiles) {
        item.set_checked(*name == now.active)?;
    }
    built.pause.set_checked(now.paused)
}

pub fn create(app: &AppHandle, state: &AppState) -> tauri::Result<()> {
    let (menu, built) = build_menu(app, &now(state))?;
    app.manage(TrayMenu(Mutex::new(Some(built))));
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .menu(&menu)
        .tooltip("Switchyard")
        .on_menu_event(on_menu_event);
    if let Some(icon) = icon_for(state) {
        builder = builder.icon(icon);
    }
    builder.build(app)?;
    Ok(())
}

/// Brings the menu and icon up to date with the engine and tells the window.
pub fn refresh(app: &AppHandle, state: &AppState) {
    if let (Some(tray), Some(menus)) = (app.tray_by_id(TRAY_ID), app.try_state::<TrayMenu>()) {
        let now = now(state);
        let mut current = menus.0.lock().unwrap_or_else(|e| e.into_inner());
        let updated = match current.as_ref() {
            Some(built) if built.shape == now.shape => update(built, &now),
            _ => build_menu(app, &now).and_then(|(menu, built)| {
                tray.set_menu(Some(menu))?;
                *current = Some(built);
                Ok(())
            }),
        };
        if let Err(e) = updated {
            tracing::warn!("tray menu update failed: {e}");
        }
        if let Err(e) = tray.set_icon(icon_for(state)) {
            tracing::warn!("tray icon update failed: {e}");
        }
    }
    let _ = StatusChanged {
        status: state.engine.status(),
    }
    .emit(app);
}

pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    let item = match TrayItem::try_from(event.id()) {
        Ok(item) => item,
        Err(e) => {
            tracing::warn!("unknown tray menu id {:?}: {e}", event.id());
            return;
        }
    };
    let Some(state) = app.try_state::<SharedState>().map(|s| s.inner().clone()) else {
        return;
    };
    let app = app.clone();
    match item {
        TrayItem::Status | TrayItem::LastError => {}
        TrayItem::Open => show_main(&app),
        TrayItem::Profile(name) => {
            tauri::async_runtime::spawn(async move {
                if let Err(e) = state.engine.set_active_profile(&name).await {
                    tracing::warn!("switching to profile {name:?} failed: {e}");
                }
                refresh(&app, &state);
            });
        }
        TrayItem::Pause => {
            state.engine.set_paused(!state.engine.is_paused());
            refresh(&app, &state);
        }
        TrayItem::CopyEnv => {
            tauri::async_runtime::spawn(async move {
                let env = state.engine.claude_env();
                if let Err(e) = app.clipboard().write_text(env.shell) {
                    tracing::warn!("clipboard: {e}");
                }
            });
        }
        TrayItem::Quit => {
            tauri::async_runtime::spawn(async move {
                state.engine.shutdown().await;
                app.exit(0);
            });
        }
    }
}

/// Whether a system tray can show our icon: a StatusNotifier watcher on D-Bus, or an X11
/// `_NET_SYSTEM_TRAY_S<n>` selection owner (GTK falls back to XEmbed when there is no SNI).
pub fn tray_host_present() -> bool {
    sni_watcher_present() || xembed_tray_present()
}

fn sni_watcher_present() -> bool {
    std::process::Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.freedesktop.DBus",
            "--object-path",
            "/org/freedesktop/DBus",
            "--method",
            "org.freedesktop.DBus.NameHasOwner",
            "org.kde.StatusNotifierWatcher",
        ])
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("true"))
        .unwrap_or(false)
}

fn xembed_tray_present() -> bool {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::ConnectionExt as _;
    let Ok((conn, screen)) = x11rb::connect(None) else {
        return false;
    };
    let name = format!("_NET_SYSTEM_TRAY_S{screen}");
    let owner = conn
        .intern_atom(false, name.as_bytes())
        .ok()
        .and_then(|c| c.reply().ok())
        .and_then(|a| conn.get_selection_owner(a.atom).ok())
        .and_then(|c| c.reply().ok())
        .map(|r| r.owner);
    let _ = conn.flush();
    matches!(owner, Some(o) if o != x11rb::NONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for item in [
            TrayItem::Status,
            TrayItem::LastError,
            TrayItem::Profile("cloud".into()),
            TrayItem::Profile("my:odd:name".into()),
            TrayItem::Open,
            TrayItem::CopyEnv,
            TrayItem::Pause,
            TrayItem::Quit,
        ] {
            let id = MenuId::from(item.clone());
            assert_eq!(TrayItem::try_from(&id).ok(), Some(item));
        }
    }

    #[test]
    fn unknown_ids_are_rejected() {
        assert!(TrayItem::try_from(&MenuId::new("nope")).is_err());
        assert!(TrayItem::try_from(&MenuId::new(r#""reboot""#)).is_err());
        assert!(TrayItem::try_from(&MenuId::new(r#"{"open":1}"#)).is_err());
    }
}
