//! Usage screen: history pages, summary, CSV export. The engine's usage reports do the work
//! (`switchyard_core::usage`); these commands only pass arguments and translate errors.

use std::path::PathBuf;

use serde::Serialize;
use specta::Type;
use switchyard_core::usage::{
    HistoryPage, SessionSummary, UsageFilter, UsageSummary, export_file_name, now_ms,
};
use tauri::State;
use tauri_plugin_dialog::DialogExt;

use crate::error::CmdResult;
use crate::state::SharedState;

#[derive(Debug, Clone, Serialize, Type)]
pub struct ExportResult {
    pub path: String,
    pub rows: u64,
    /// The filter had a text search, which the export does not apply.
    pub text_ignored: bool,
}

/// One page of the history, newest first (at most 500 rows).
#[tauri::command]
#[specta::specta]
pub async fn query_usage(
    state: State<'_, SharedState>,
    filter: UsageFilter,
    page: u32,
    page_size: u32,
) -> CmdResult<HistoryPage> {
    Ok(state
        .engine
        .usage_history()?
        .history_page(filter, page, page_size)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn usage_summary(
    state: State<'_, SharedState>,
    filter: UsageFilter,
) -> CmdResult<UsageSummary> {
    let config = state.engine.config();
    Ok(state
        .engine
        .usage_history()?
        .summary(filter, config)
        .await?)
}

/// Claude Code sessions with a request in the filter's range, newest first (at most 500).
#[tauri::command]
#[specta::specta]
pub async fn usage_sessions(
    state: State<'_, SharedState>,
    filter: UsageFilter,
    limit: u32,
) -> CmdResult<Vec<SessionSummary>> {
    Ok(state
        .engine
        .usage_history()?
        .sessions(filter, limit)
        .await?)
}

/// Asks where to save an export (the native save dialog); `None` when the user cancels.
/// Without a `default_name`, the name carries the date and time (UTC).
#[tauri::command]
#[specta::specta]
pub async fn choose_export_path(
    app: tauri::AppHandle,
    default_name: Option<String>,
) -> CmdResult<Option<String>> {
    let name = default_name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| export_file_name(now_ms()));
    super::dialog::ask("save", "location", move || {
        app.dialog()
            .file()
            .set_file_name(name)
            .add_filter("CSV", &["csv"])
            .blocking_save_file()
    })
    .await
}

/// Writes the history the filter selects (newest first) as CSV to `path`.
#[tauri::command]
#[specta::specta]
pub async fn export_usage_csv(
    state: State<'_, SharedState>,
    filter: UsageFilter,
    path: String,
) -> CmdResult<ExportResult> {
    let text_ignored = filter.needle().is_some();
    let rows = state
        .engine
        .usage_history()?
        .export_csv(filter, PathBuf::from(&path))
        .await?;
    Ok(ExportResult {
        path,
        rows,
        text_ignored,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use switchyard_core::anthropic::Usage;

    use switchyard_core::usage::{RequestStatus, UsageReader, UsageRecord};

    use super::*;

    fn record(ms: i64) -> UsageRecord {
        UsageRecord {
            started_at_ms: ms,
            client: Some("claude-cli/2.1.30".into()),
            session_id: None,
            agent_id: None,
            parent_agent_id: None,
            requested_model: "claude-sonnet-4-5".into(),
            profile: "local".into(),
            backend: Some("ollama".into()),
            backend_kind: None,
            upstream_model: Some("qwen".into()),
            stream: true,
            status: RequestStatus::Ok,
            http_status: 200,
            error_type: None,
            error_message: None,
            usage: Usage {
                input_tokens: 100,
                output_tokens: 10,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 0,
            },
            ttft_ms: Some(5),
            latency_ms: 50,
            attempts: 1,
            rule: None,
            notes: None,
            cache_hit: false,
            key_name: None,
            capture_id: None,
        }
    }

    /// What the desktop is for: requests recorded by an earlier engine (an earlier run of the
    /// app, or `switchyard serve` on the same data dir) show in a later one.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_from_an_earlier_engine_run_show_up() {
        use switchyard_core::engine::{Engine, EngineOptions};
        use switchyard_core::secrets::{MemoryStore, SecretString};
        use switchyard_core::usage::{DB_FILE_NAME, UsageSink};

        let dir = tempfile::tempdir().unwrap();
        let start = || {
            Engine::start(
                EngineOptions {
                    config_path: Some(dir.path().join("config.toml")),
                    data_dir: Some(dir.path().join("data")),
                    listen: Some("127.0.0.1:0".parse().unwrap()),
                    token: Some(SecretString::from("sy-test-token".to_owned())),
                    ..EngineOptions::default()
                },
                Arc::new(MemoryStore::default()),
            )
        };
        let first = start().await.unwrap();
        let writer = first.usage_writer().unwrap().clone();
        // The default config's `ollama` backend is on 127.0.0.1: local, free.
        writer.record(record(now_ms() - 60_000));
        first.shutdown().await;

        let second = start().await.unwrap();
        let reader = UsageReader::new(dir.path().join("data").join(DB_FILE_NAME));
        let page = reader
            .history_page(UsageFilter::default(), 0, 10)
            .await
            .unwrap();
        assert_eq!(page.total, 1);
        let row = &page.rows[0];
        assert_eq!(row.backend.as_deref(), Some("ollama"));
        assert!(row.local);
        assert_eq!(row.cost_usd, Some(0.0));
        // Priced by the engine's writer at the bundled Claude Sonnet price.
        assert!(row.cloud_equiv_usd.is_some_and(|c| c > 0.0), "{row:?}");
        let s = reader
            .summary(UsageFilter::default(), second.config())
            .await
            .unwrap();
        assert_eq!((s.total.requests, s.local.requests), (1, 1));
        assert_eq!(s.by_backend[0].local, Some(true));
        assert!(s.saved_usd > 0.0);
        second.shutdown().await;
    }
}
