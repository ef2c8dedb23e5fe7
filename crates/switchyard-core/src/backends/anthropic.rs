//! Pass-through to any `/v1/messages` endpoint.
