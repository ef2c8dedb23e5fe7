//! Usage history: one record per request, written off the request path, read back as reports.
//!
//! - [`record`]: what the request path reports ([`UsageRecord`], [`UsageSink`]).
//! - [`schema`]: the SQLite schema and its versioned migrations.
//! - [`store`]: [`UsageStore`], a synchronous handle (the writer's, or the CLI's).
//! - [`row`]: [`RequestRow`], one request as stored and as every screen shows it.
//! - [`query`]: typed queries; [`report`]: what the screens show (history pages, summary,
//!   every day of a range, today); [`export`]: CSV for people; [`calendar`]: UTC days.
//! - [`sessions`]: Claude Code sessions and their agents, from the request rows.
//! - [`reader`]: [`UsageReader`], read-only queries on the blocking pool for async callers.
//! - [`cost`]: pricing a record (done in the writer).
//! - [`writer`]: [`UsageWriter`], the sink that batches rows into the store on its own thread.

mod calendar;
mod cost;
mod error;
mod export;
mod query;
mod reader;
mod record;
mod recover;
mod report;
mod row;
mod schema;
mod sessions;
mod store;
#[cfg(test)]
pub(crate) mod test_support;
mod writer;

pub use calendar::{iso_utc, now_ms, utc_day_start_ms};
pub use cost::{PricedRecord, Pricer};
pub use error::UsageError;
pub use export::{export_csv, export_file_name, write_csv};
pub use query::{Bucket, Filter, Group, GroupBy, Savings, SeriesGroup, Totals};
pub use reader::UsageReader;
pub use record::{RequestStatus, UsageRecord, UsageSink};
pub use recover::open_or_recover;
pub use report::{DayPoint, HistoryPage, MAX_PAGE_SIZE, Slice, Today, UsageFilter, UsageSummary};
pub use row::RequestRow;
pub use schema::SCHEMA_VERSION;
pub use sessions::{AgentSummary, MAX_SESSIONS, SessionSummary};
pub use store::{DB_FILE_NAME, UsageStore};
pub use writer::{UsageWriter, WriterOptions};
