//! The gateway settings the app's Settings screen edits (port, usage retention), validated
//! here so the app and the config file agree on the rules.

use serde::{Deserialize, Serialize};

use super::{Engine, EngineError};

pub const MIN_PORT: u16 = 1024;
pub const MIN_RETENTION_DAYS: u32 = 1;
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// What the Settings screen changes in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GatewaySettings {
    pub port: u16,
    /// Usage history older than this many days is deleted; `None` keeps it forever.
    pub retention_days: Option<u32>,
}

/// What applying the settings did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingsApplied {
    /// The port changed in the config; the gateway keeps its old port until the app restarts.
    pub restart_needed: bool,
    /// Requests deleted at once because the retention was shortened.
    pub retention_deleted: Option<u64>,
}

/// The settings field a problem is about, so the form can show it under that field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum SettingsField {
    Port,
    RetentionDays,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("Port must be {MIN_PORT}–65535 (lower ports need administrator rights).")]
    Port,
    #[error(
        "Retention must be {MIN_RETENTION_DAYS}–{MAX_RETENTION_DAYS} days, or keep the history forever."
    )]
    RetentionDays,
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl SettingsError {
    pub fn field(&self) -> Option<SettingsField> {
        match self {
            SettingsError::Port => Some(SettingsField::Port),
            SettingsError::RetentionDays => Some(SettingsField::RetentionDays),
            SettingsError::Engine(_) => None,
        }
    }
}

/// The rules, without I/O: the form checks the same way before asking.
pub fn validate(settings: &GatewaySettings) -> Result<(), SettingsError> {
    if settings.port < MIN_PORT {
        return Err(SettingsError::Port);
    }
    if settings
        .retention_days
        .is_some_and(|d| !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&d))
    {
        return Err(SettingsError::RetentionDays);
    }
    Ok(())
}

impl Engine {
    pub fn gateway_settings(&self) -> GatewaySettings {
        let config = self.config();
        GatewaySettings {
            port: config.listen.port(),
            retention_days: config.usage.retention_days,
        }
    }

    /// Saves the port and retention to the config (comments kept); a shortened retention
    /// deletes the older history at once rather than at the next daily pass.
    pub async fn apply_gateway_settings(
        &self,
        new: GatewaySettings,
    ) -> Result<SettingsApplied, SettingsError> {
        validate(&new)?;
        let old = self.gateway_settings();
        if old != new {
            let _turn = self.edit_turn().await;
            let base = self.config();
            let mut config = (*base).clone();
            config.listen.set_port(new.port);
            config.usage.retention_days = new.retention_days;
            self.update_config(&base, config).await?;
        }
        let shortened = match (old.retention_days, new.retention_days) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(old), Some(new)) => new < old,
        };
        let retention_deleted = match (new.retention_days, self.usage_writer()) {
            (Some(days), Some(writer)) if shortened => {
                let writer = writer.clone();
                let deleted = tokio::task::spawn_blocking(move || writer.apply_retention_now(days))
                    .await
                    .map_err(EngineError::join)?
                    .map_err(EngineError::from)?;
                self.refresh_today().await?;
                Some(deleted)
            }
            _ => None,
        };
        Ok(SettingsApplied {
            restart_needed: self.listen_addr().port() != new.port,
            retention_deleted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_name_the_field() {
        let ok = GatewaySettings {
            port: 4747,
            retention_days: Some(90),
        };
        assert!(validate(&ok).is_ok());
        let low = validate(&GatewaySettings { port: 80, ..ok }).unwrap_err();
        assert_eq!(low.field(), Some(SettingsField::Port));
        assert_eq!(
            low.to_string(),
            "Port must be 1024–65535 (lower ports need administrator rights)."
        );
        let zero = validate(&GatewaySettings {
            retention_days: Some(0),
            ..ok
        })
        .unwrap_err();
        assert_eq!(zero.field(), Some(SettingsField::RetentionDays));
        assert!(
            validate(&GatewaySettings {
                retention_days: None,
                ..ok
            })
            .is_ok()
        );
    }
}
