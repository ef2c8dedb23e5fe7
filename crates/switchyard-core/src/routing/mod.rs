//! Routing: active profile × requested model → an ordered list of attempts.

mod cooldown;
mod facts;
mod resolve;

pub use cooldown::Cooldowns;
pub use facts::Facts;
pub use resolve::{Attempt, Route, plan, resolve, resolve_for};
