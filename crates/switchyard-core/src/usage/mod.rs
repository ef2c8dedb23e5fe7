//! Usage history: one record per request, written off the request path.

mod record;

pub use record::{RequestStatus, UsageRecord, UsageSink};
