//! Model mapping screen: adapters over the engine's profile operations, and a live test
//! through the gateway.

use switchyard_core::engine::{ProfileError, ProfileView, RouteTestError, RouteTestResult};
use tauri::State;

use crate::error::{CmdResult, CommandError, ErrorKind};
use crate::state::SharedState;

impl From<ProfileError> for CommandError {
    fn from(e: ProfileError) -> Self {
        let kind = match &e {
            ProfileError::Engine(e) => return CommandError::from_engine(e),
            ProfileError::NotFound(_) => ErrorKind::NotFound,
            _ => ErrorKind::InvalidInput,
        };
        CommandError::new(kind, e.to_string())
    }
}

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(state: State<'_, SharedState>) -> CmdResult<Vec<ProfileView>> {
    Ok(state.engine.profiles())
}

/// Replaces an existing profile's rules and default route.
#[tauri::command]
#[specta::specta]
pub async fn save_profile(
    state: State<'_, SharedState>,
    profile: ProfileView,
) -> CmdResult<ProfileView> {
    let saved = state.engine.save_profile(profile).await?;
    Ok(saved)
}

#[tauri::command]
#[specta::specta]
pub async fn create_profile(state: State<'_, SharedState>, name: String) -> CmdResult<ProfileView> {
    let created = state.engine.create_profile(&name).await?;
    Ok(created)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_profile(state: State<'_, SharedState>, name: String) -> CmdResult<()> {
    state.engine.delete_profile(&name).await?;
    Ok(())
}

impl From<RouteTestError> for CommandError {
    fn from(e: RouteTestError) -> Self {
        let kind = match &e {
            RouteTestError::NoModel => ErrorKind::InvalidInput,
            RouteTestError::Gateway { .. } => ErrorKind::Upstream,
        };
        CommandError::new(kind, e.to_string())
    }
}

/// Sends a tiny request for `model` through the running gateway (active profile) and
/// reports which backend answered it.
#[tauri::command]
#[specta::specta]
pub async fn test_route(
    state: State<'_, SharedState>,
    model: String,
) -> CmdResult<RouteTestResult> {
    Ok(state.engine.test_route(&model).await?)
}
