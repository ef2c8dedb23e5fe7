//! CSV export for people: ISO 8601 UTC times beside Unix ms, costs rounded to 6 decimals,
//! status as text, a header row named for people. [`export_csv`] writes a file atomically.

use std::io;
use std::path::Path;

use super::calendar::iso_utc;
use super::{Filter, RequestRow, UsageError, UsageStore};

/// Rows fetched per query while exporting (keeps memory flat on large histories).
const PAGE: u32 = 5000;

const HEADER: [&str; 32] = [
    "Request ID",
    "Started (UTC)",
    "Started (Unix ms)",
    "Client",
    "Session ID",
    "Agent ID",
    "Parent agent ID",
    "Requested model",
    "Profile",
    "Backend",
    "Backend kind",
    "Upstream model",
    "Streamed",
    "Status",
    "HTTP status",
    "Error type",
    "Error message",
    "Input tokens",
    "Output tokens",
    "Cache read tokens",
    "Cache write tokens",
    "Time to first token (ms)",
    "Latency (ms)",
    "Cost (USD)",
    "Cloud equivalent (USD)",
    "Local",
    "Attempts",
    "Rule",
    "Notes",
    "Cache hit",
    "Key",
    "Capture ID",
];

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// An unknown cost stays an empty cell, never 0.
fn usd(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.6}")).unwrap_or_default()
}

fn cells(r: &RequestRow) -> [String; 32] {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    [
        r.id.map(|id| id.to_string()).unwrap_or_default(),
        iso_utc(r.started_at_ms),
        r.started_at_ms.to_string(),
        text(&r.client),
        text(&r.session_id),
        text(&r.agent_id),
        text(&r.parent_agent_id),
        r.requested_model.clone(),
        r.profile.clone(),
        text(&r.backend),
        text(&r.backend_kind),
        text(&r.upstream_model),
        yes_no(r.stream),
        r.status.as_str().to_owned(),
        r.http_status.to_string(),
        text(&r.error_type),
        text(&r.error_message),
        r.input_tokens.to_string(),
        r.output_tokens.to_string(),
        r.cache_read_tokens.to_string(),
        r.cache_write_tokens.to_string(),
        r.ttft_ms.map(|t| t.to_string()).unwrap_or_default(),
        r.latency_ms.to_string(),
        usd(r.cost_usd),
        usd(r.cloud_equiv_usd),
        yes_no(r.local),
        r.attempts.to_string(),
        text(&r.rule),
        text(&r.notes),
        yes_no(r.cache_hit),
        text(&r.key_name),
        text(&r.capture_id),
    ]
}

/// `switchyard-usage-2026-11-24-0930.csv` (UTC): a default name for an export made at
/// `now_ms`, so exports on the same day do not collide.
pub fn export_file_name(now_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(now_ms) {
        Ok(t) => t.strftime("switchyard-usage-%Y-%m-%d-%H%M.csv").to_string(),
        Err(_) => "switchyard-usage.csv".to_owned(),
    }
}

/// Write every request the filter selects (newest first) as CSV with a header row. Pages by
/// id, so rows written meanwhile neither repeat nor shift the export.
/// Returns the rows written.
pub fn write_csv(
    store: &UsageStore,
    filter: &Filter,
    out: impl io::Write,
) -> Result<u64, UsageError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    let mut written = 0u64;
    let mut before = None;
    loop {
        let rows = store.page_by_id(filter, before, PAGE)?;
        let Some(last) = rows.last() else {
            break;
        };
        before = last.id;
        for row in &rows {
            writer.write_record(cells(row))?;
            written += 1;
        }
        if before.is_none() {
            break;
        }
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(written)
}

/// Export to `path`: written to a temporary file beside it, synced, then renamed into place,
/// so a failed export leaves neither a partial file nor a damaged earlier one. A new file is
/// owner-only (it lists models, sessions and spend); one written over keeps its mode.
pub fn export_csv(store: &UsageStore, filter: &Filter, path: &Path) -> Result<u64, UsageError> {
    let failed = |source: io::Error| UsageError::Export {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".switchyard-export-")
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(failed)?;
    // Owner-only for a new export; one written over keeps the mode it had.
    crate::fsmode::set_mode(temp.as_file(), &crate::fsmode::mode_to_keep(path)).map_err(failed)?;
    let rows = {
        let mut out = io::BufWriter::new(temp.as_file_mut());
        let rows = write_csv(store, filter, &mut out).map_err(|e| match e {
            UsageError::Csv(e) => failed(e.into()),
            other => other,
        })?;
        io::Write::flush(&mut out).map_err(failed)?;
        rows
    };
    temp.as_file().sync_all().map_err(failed)?;
    // On failure `persist` hands the temporary file back; dropping it deletes it.
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{NOV23, req, store_with};
    use super::*;

    #[test]
    fn default_names_carry_the_utc_date_and_minute() {
        assert_eq!(
            export_file_name(NOV23 + 9 * 3_600_000 + 5 * 60_000 + 59_000),
            "switchyard-usage-2026-11-23-0905.csv"
        );
    }

    #[test]
    fn rows_have_iso_times_rounded_costs_and_text_status() {
        let mut third = req(
            NOV23 + 9 * 3_600_000 + 30 * 60_000 + 12_345,
            "claude-opus-4-1",
            "kimi",
        );
        third.cost = Some(1.0 / 3.0);
        third.equiv = None;
        let (dir, store) = store_with(&[third]);
        let out = dir.path().join("usage.csv");
        assert_eq!(export_csv(&store, &Filter::default(), &out).unwrap(), 1);
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("Request ID,Started (UTC),Started (Unix ms),"));
        assert_eq!(
            lines[1],
            "1,2026-11-23T09:30:12.345Z,1795426212345,claude-cli/2.1.30,s-1,,,claude-opus-4-1,\
             cloud,kimi,ollama,kimi-upstream,yes,ok,200,,,100,10,500,7,5,50,0.333333,,no,1,,,no,,"
        );
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_private_and_an_overwritten_one_keeps_its_mode() {
        use crate::fsmode::tests::{mode, set};
        let (dir, store) = store_with(&[req(NOV23, "claude-sonnet-4-5", "ollama")]);
        let out = dir.path().join("usage.csv");
        export_csv(&store, &Filter::default(), &out).unwrap();
        assert_eq!(mode(&out), 0o600);
        set(&out, 0o644);
        export_csv(&store, &Filter::default(), &out).unwrap();
        assert_eq!(mode(&out), 0o644, "the user's choice for this file is kept");
    }

    #[test]
    fn a_failed_export_names_the_path_and_leaves_no_file() {
        let (dir, store) = store_with(&[req(NOV23, "claude-sonnet-4-5", "ollama")]);
        // A directory stands where the file should go: the rename into place fails.
        let blocked = dir.path().join("blocked.csv");
        std::fs::create_dir(&blocked).unwrap();
        let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        let err = export_csv(&store, &Filter::default(), &blocked).unwrap_err();
        assert!(matches!(err, UsageError::Export { .. }), "{err:?}");
        assert!(err.to_string().contains("blocked.csv"), "{err}");
        let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(
            after.len(),
            before.len(),
            "a temporary file was left behind"
        );
        assert!(blocked.is_dir());

        // A folder that does not exist: nothing is created.
        let missing = dir.path().join("no-such-folder").join("usage.csv");
        let err = export_csv(&store, &Filter::default(), &missing).unwrap_err();
        assert!(err.to_string().contains("no-such-folder"), "{err}");
        assert!(!dir.path().join("no-such-folder").exists());
    }
}
