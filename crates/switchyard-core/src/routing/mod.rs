//! Routing: active profile × requested model → an ordered list of attempts.

mod cooldown;
mod facts;
mod limits;
mod load;
mod resolve;

pub use cooldown::Cooldowns;
pub use facts::{Facts, Needs, SUBAGENT_MARK, agent_kind, has_server_tool, marks_subagent};
pub use limits::{AtLimit, LimitUsage, RateLimits, Ticket};
pub use load::Load;
pub use resolve::{Attempt, Route, plan, resolve, resolve_for};
