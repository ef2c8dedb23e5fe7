use std::io;

use super::{Filter, UsageError, UsageStore};

/// Rows fetched per query while exporting (keeps memory flat on large histories).
const PAGE: u32 = 5000;

/// Write every request the filter selects (newest first) as CSV with a header row. Pages by
/// id, so rows written meanwhile neither repeat nor shift the export.
/// Returns the rows written.
pub fn write_csv(
    store: &UsageStore,
    filter: &Filter,
    out: impl io::Write,
) -> Result<u64, UsageError> {
    let mut writer = csv::Writer::from_writer(out);
    let mut written = 0u64;
    let mut before = None;
    let mut header_done = false;
    loop {
        let rows = store.page_by_id(filter, before, PAGE)?;
        let Some(last) = rows.last() else {
            break;
        };
        before = Some(last.id);
        for row in &rows {
            // `serialize` writes the header from the field names before the first row.
            writer.serialize(row)?;
            header_done = true;
            written += 1;
        }
    }
    if !header_done {
        writer.write_record(HEADER)?;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(written)
}

const HEADER: &[&str] = &[
    "id",
    "started_at_ms",
    "client",
    "session_id",
    "requested_model",
    "profile",
    "backend",
    "backend_kind",
    "upstream_model",
    "stream",
    "status",
    "http_status",
    "error_type",
    "error_message",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "ttft_ms",
    "latency_ms",
    "cost_usd",
    "cloud_equiv_usd",
    "local",
    "attempts",
];
