//! Routing: active profile × requested model → an ordered list of attempts.

mod cooldown;
mod resolve;

pub use cooldown::Cooldowns;
pub use resolve::{Attempt, Route, plan, resolve};
