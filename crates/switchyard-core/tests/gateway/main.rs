//! The gateway through a real HTTP server on loopback, against fake upstreams.
#![expect(clippy::unwrap_used, clippy::panic, reason = "tests fail loudly")]

mod cache;
mod capture;
mod cloud;
mod cloud_fakes;
mod conditions;
mod harness;
mod keys;
mod limits;
mod passthrough;
mod profiles;
mod resilience;
mod security;
mod strategies;
mod telemetry;
mod translated;
