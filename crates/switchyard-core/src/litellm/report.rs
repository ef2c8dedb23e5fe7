//! What an import did, row by row, and the table the CLI prints. Values that might be secrets
//! (keys, database URLs, unknown settings) are never put in a row: only their names.

use serde::Serialize;

/// Whether a part of the LiteLLM file made it into the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Imported,
    NotImported,
    /// Nothing to do: Switchyard already behaves so, or the setting only concerns LiteLLM.
    NotNeeded,
}

/// One part of the LiteLLM file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReportRow {
    pub outcome: Outcome,
    /// The line in the LiteLLM file, when the row is about one place in it.
    pub line: Option<u32>,
    /// What in the LiteLLM file (`model_list[3] gemini-pro`, `router_settings.num_retries: 3`).
    pub item: String,
    /// Imported: what it became in the config; otherwise why not.
    pub detail: String,
}

/// The result of `switchyard import litellm` / the app's "Import LiteLLM config…".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportReport {
    /// The profile the rules went into.
    pub profile: String,
    /// Nothing was written (`--dry-run`): the rows say what an import would do.
    pub dry_run: bool,
    /// Whether the config changes (`false`: it already says what the file says).
    pub changed: bool,
    pub rows: Vec<ReportRow>,
    /// Backends whose key from the file goes (or went) into the keychain.
    pub keys_stored: Vec<String>,
    /// The config file.
    pub config_path: String,
    /// The copy of the config file taken before it was changed.
    pub backup: Option<String>,
}

impl ImportReport {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }
}

const ITEM_WIDTH: usize = 52;

/// The report as a table for a terminal: imported, not imported, not needed.
pub fn render(report: &ImportReport) -> String {
    let mut out = String::new();
    let (before, after) = match (report.dry_run, report.changed) {
        (true, _) => (
            "Dry run (nothing was changed): importing into",
            " would do this",
        ),
        (false, true) => ("Imported into", ""),
        (false, false) => ("Nothing changed: the import was already in", ""),
    };
    out.push_str(&format!(
        "{before} profile {:?} of {}{after}\n",
        report.profile, report.config_path
    ));
    for (outcome, title, head) in [
        (Outcome::Imported, "Imported", "as"),
        (Outcome::NotImported, "Not imported", "why"),
        (Outcome::NotNeeded, "Not needed", "why"),
    ] {
        let rows: Vec<&ReportRow> = report
            .rows
            .iter()
            .filter(|r| r.outcome == outcome)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let width = rows
            .iter()
            .map(|r| r.item.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(8, ITEM_WIDTH);
        out.push_str(&format!("\n{title} ({})\n", rows.len()));
        out.push_str(&format!("  {:>4}  {:<width$}  {head}\n", "line", "LiteLLM"));
        for row in rows {
            let line = row.line.map(|l| l.to_string()).unwrap_or_default();
            out.push_str(&format!(
                "  {line:>4}  {:<width$}  {}\n",
                row.item, row.detail
            ));
        }
    }
    if !report.keys_stored.is_empty() {
        let verb = if report.dry_run { "would go" } else { "went" };
        out.push_str(&format!(
            "\nKeys written in the file {verb} to the OS keychain (never to the config): {}\n",
            report.keys_stored.join(", ")
        ));
    }
    if let Some(backup) = &report.backup {
        out.push_str(&format!("\nThe config as it was before: {backup}\n"));
    }
    out
}
