//! The IPC surface in one place: every command and event, and how the TypeScript side is made.
//! `ui/src/bindings.ts` is generated from this; the `bindings_are_up_to_date` test fails when
//! it is stale (refresh with `UPDATE_BINDINGS=1 cargo test -p switchyard-desktop bindings`).

use specta_typescript::{BigIntExportBehavior, Typescript};
use tauri_specta::{collect_commands, collect_events};

use crate::commands::{backends, claude, inspector, mapping, overview, settings, setup, usage};
use crate::events::{RequestFinished, StatusChanged, UsageChanged};

pub fn builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(collect_commands![
            overview::get_status,
            overview::set_active_profile,
            overview::set_paused,
            overview::recent_requests,
            claude::claude_code_env,
            claude::copy_claude_code_env,
            claude::claude_code_status,
            claude::configure_claude_code,
            claude::restore_claude_code,
            claude::claude_code_env_for,
            claude::choose_project_folder,
            claude::configure_project_folder,
            claude::restore_project_folder,
            backends::list_backends,
            backends::save_backend,
            backends::backend_dependents,
            backends::delete_backend,
            backends::set_backend_key,
            backends::delete_backend_key,
            backends::test_backend,
            backends::discover_models,
            backends::choose_litellm_file,
            backends::import_litellm_file,
            mapping::list_profiles,
            mapping::save_profile,
            mapping::create_profile,
            mapping::delete_profile,
            mapping::test_route,
            mapping::backend_states,
            usage::query_usage,
            usage::usage_summary,
            usage::usage_sessions,
            usage::choose_export_path,
            usage::export_usage_csv,
            settings::get_settings,
            settings::save_settings,
            settings::get_local_token,
            settings::rotate_local_token,
            setup::setup_state,
            setup::add_found_engine,
            setup::map_families,
            inspector::capture_status,
            inspector::start_capture,
            inspector::stop_capture,
            inspector::get_capture,
            inspector::delete_captures,
            inspector::replay_capture,
        ])
        .events(collect_events![
            RequestFinished,
            StatusChanged,
            UsageChanged
        ])
}

/// Token counts and timestamps fit in a JS number (2^53) for any realistic history.
pub fn typescript() -> Typescript {
    Typescript::default()
        .bigint(BigIntExportBehavior::Number)
        .header("// Generated from src-tauri by tauri-specta. Do not edit: run `UPDATE_BINDINGS=1 cargo test -p switchyard-desktop bindings`.\n// @ts-nocheck")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn bindings_are_up_to_date() {
        let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let dir = tempfile::tempdir();
        assert!(dir.is_ok());
        let Ok(dir) = dir else { return };
        let fresh = dir.path().join("bindings.ts");
        let exported = builder().export(typescript(), &fresh);
        assert!(exported.is_ok(), "export failed: {exported:?}");
        let fresh_text = std::fs::read_to_string(&fresh).unwrap_or_default();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            assert!(std::fs::write(&committed, &fresh_text).is_ok());
            return;
        }
        let committed_text = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            committed_text == fresh_text,
            "ui/src/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p switchyard-desktop bindings` and commit it"
        );
    }
}
