//! The HTTP side: the axum router, the guard every request passes, and the handlers.
//!
//! Layer order (outermost first): guard (Host, Origin, token) → handler. Body size limits
//! are applied by the handlers that read bodies, so the 413 has Anthropic's shape.

mod error;
mod guard;
mod handlers;
mod listen;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post, put};

use crate::gateway::Gateway;

pub use handlers::Status;
pub use listen::{DRAIN_DEADLINE, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, serve};

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/", get(handlers::root))
        .route("/api/hello", get(handlers::root))
        .route("/health", get(handlers::health))
        .route("/v1/messages", post(handlers::messages))
        .route("/v1/messages/count_tokens", post(handlers::count_tokens))
        .route("/v1/models", get(handlers::models))
        .route("/v1/models/{id}", get(handlers::model))
        // The same API under a profile of the caller's choosing (one terminal local, another
        // cloud, whatever the active profile).
        .route(
            "/profiles/{profile}/v1/messages",
            post(handlers::profile_messages),
        )
        .route(
            "/profiles/{profile}/v1/messages/count_tokens",
            post(handlers::profile_count_tokens),
        )
        .route(
            "/profiles/{profile}/v1/models",
            get(handlers::profile_models),
        )
        .route("/switchyard/v1/status", get(handlers::status))
        .route("/metrics", get(handlers::metrics))
        .route("/switchyard/v1/profile", put(handlers::switch_profile))
        .route(
            "/switchyard/v1/capture",
            get(handlers::capture_status).put(handlers::switch_capture),
        )
        .route("/switchyard/v1/replay", post(handlers::replay))
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            guard::guard,
        ))
        .with_state(gateway)
}
