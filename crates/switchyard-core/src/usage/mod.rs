//! Usage history: one record per request, written off the request path.
//!
//! - [`record`]: what the request path reports ([`UsageRecord`], [`UsageSink`]).
//! - [`schema`]: the SQLite schema and its versioned migrations.
//! - [`store`]: [`UsageStore`], a synchronous handle (the writer's, or the CLI's).
//! - [`query`]: typed queries for the CLI and the GUI; [`export`]: CSV.
//! - [`cost`]: pricing a record (done in the writer).
//! - [`writer`]: [`UsageWriter`], the sink that batches rows into the store on its own thread.

mod cost;
mod error;
mod export;
mod query;
mod record;
mod schema;
mod store;
mod writer;

pub use cost::{PricedRecord, Pricer};
pub use error::UsageError;
pub use export::write_csv;
pub use query::{Bucket, Filter, Group, GroupBy, RequestRow, Savings, SeriesGroup, Totals};
pub use record::{RequestStatus, UsageRecord, UsageSink};
pub use schema::SCHEMA_VERSION;
pub use store::{DB_FILE_NAME, UsageStore};
pub use writer::{UsageWriter, WriterOptions};
