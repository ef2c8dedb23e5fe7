//! The response cache on the request path (see `crate::cache`): each attempt first asks for
//! the answer its backend and model would give; a miss goes on as usual, and its answer is
//! kept when it is complete. Everything here is a no-op for a profile without caching.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, header};

use super::{Inbound, InboundRequest, Recorder, cpu};
use crate::anthropic::{StopReason, Usage};
use crate::cache::{
    CACHE_HEADER, CachedAnswer, Probe, ResponseCache, Shape, Target, cacheable_json,
    cacheable_stop, key,
};
use crate::config::{BackendConfig, Config};
use crate::gateway::Gateway;

/// The cache's part in one request.
pub(super) struct CacheStep<'a> {
    on: Option<On<'a>>,
}

struct On<'a> {
    cache: Arc<ResponseCache>,
    req: &'a InboundRequest,
    inbound: &'a Inbound,
    /// The body's content hash; `None` when the scan was unsure of the body (not cached).
    content: Option<u128>,
    /// The key of the attempt being made, with its backend and model (the answer it gets is
    /// stored under it).
    attempt: Option<(u128, String, String)>,
}

impl<'a> CacheStep<'a> {
    pub(super) fn new(
        gateway: &Gateway,
        config: &Config,
        profile: &str,
        req: &'a InboundRequest,
        inbound: &'a Inbound,
    ) -> Self {
        let on = match gateway.cache() {
            Some(cache) if config.caches(profile) => Some(On {
                cache: cache.clone(),
                req,
                inbound,
                content: cpu::heavy(req.body.len(), || req.content_hash()),
                attempt: None,
            }),
            _ => None,
        };
        CacheStep { on }
    }

    /// The cached answer `backend` would give for `model`, if there is one; either way the
    /// attempt's key is kept, for storing the answer it gets.
    pub(super) async fn lookup(&mut self, backend: &BackendConfig, model: &str) -> Option<Hit> {
        let on = self.on.as_mut()?;
        let content = on.content?;
        let key = key(
            content,
            &Target {
                backend,
                upstream_model: model,
                requested_model: &on.req.model,
                headers: &on.inbound.headers,
                query: on.inbound.query.as_deref(),
            },
        );
        on.attempt = Some((key, backend.id.clone(), model.to_owned()));
        let stream = on.req.stream;
        let found = match on.cache.probe(key, crate::usage::now_ms()) {
            Probe::Miss => return None,
            Probe::Ready(answer) => cpu::heavy(answer.len(), || {
                answer.body_for(stream).map(|body| (body, answer.usage))
            }),
            // Read (and converted if need be) on the blocking pool: the runtime never waits
            // for the disk.
            Probe::Stored => {
                let cache = on.cache.clone();
                let read = tokio::task::spawn_blocking(move || {
                    let answer = cache.read(key)?;
                    Some(answer.body_for(stream).map(|body| (body, answer.usage)))
                });
                read.await.ok().flatten()?
            }
        };
        match found {
            Ok((body, usage)) => Some(Hit {
                body,
                usage,
                stream,
            }),
            Err(err) => {
                tracing::warn!(error = %crate::log_text::clip(&err), "a cached answer could not be served; asking the backend");
                None
            }
        }
    }

    /// A complete answer: kept when it is one (a message with a stop reason worth
    /// replaying), and marked a miss.
    pub(super) fn complete(&self, response: Response, body: &Bytes, usage: Usage) -> Response {
        let Some(on) = &self.on else {
            return response;
        };
        if let Some((key, backend, model)) = &on.attempt
            && cpu::heavy(body.len(), || cacheable_json(body))
        {
            let answer = CachedAnswer {
                shape: Shape::Json,
                parts: vec![body.clone()],
                usage,
            };
            on.cache.store(*key, answer, backend, model);
        }
        with_header(response, "miss")
    }

    /// What the relay keeps of a stream for the cache.
    pub(super) fn capture(&self) -> Option<Capture> {
        let on = self.on.as_ref()?;
        let (key, backend, model) = on.attempt.clone()?;
        Some(Capture {
            cache: on.cache.clone(),
            key,
            backend,
            model,
            parts: Vec::new(),
            len: 0,
            cap: on.cache.entry_cap(),
        })
    }

    /// A streamed answer (kept by its capture), marked a miss.
    pub(super) fn streamed(&self, response: Response) -> Response {
        match self.on {
            Some(_) => with_header(response, "miss"),
            None => response,
        }
    }
}

/// A cached answer for this request, in the shape it asked for.
pub(super) struct Hit {
    body: Bytes,
    usage: Usage,
    stream: bool,
}

impl Hit {
    /// Answer with it: recorded as a hit (cost 0, the original's tokens) on the backend and
    /// model whose answer it is.
    pub(super) fn answer(
        self,
        mut recorder: Recorder,
        backend: &BackendConfig,
        model: &str,
    ) -> Response {
        recorder.cache_hit(&backend.id, backend.kind.as_str(), model);
        recorder.first_byte();
        recorder.ok(200, self.usage);
        let mut response = Response::new(Body::from(self.body));
        let headers = response.headers_mut();
        if self.stream {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        } else {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        with_header(response, "hit")
    }
}

fn with_header(mut response: Response, value: &'static str) -> Response {
    response.headers_mut().insert(
        HeaderName::from_static(CACHE_HEADER),
        HeaderValue::from_static(value),
    );
    response
}

/// A stream's bytes as the client got them, kept on the side while it is relayed.
pub struct Capture {
    cache: Arc<ResponseCache>,
    key: u128,
    backend: String,
    model: String,
    parts: Vec<Bytes>,
    len: usize,
    cap: usize,
}

impl Capture {
    /// Keep `bytes` (shared, not copied); `false` once the answer is past the cap, when it
    /// will not be cached.
    pub(super) fn keep(&mut self, bytes: &Bytes) -> bool {
        if bytes.is_empty() {
            return true;
        }
        self.len += bytes.len();
        if self.len > self.cap {
            return false;
        }
        self.parts.push(bytes.clone());
        true
    }

    /// The stream ended complete, without an error: stored when `stop` allows.
    pub(super) fn finish(self, usage: Usage, stop: Option<StopReason>) {
        if !cacheable_stop(stop) {
            return;
        }
        let answer = CachedAnswer {
            shape: Shape::Sse,
            parts: self.parts,
            usage,
        };
        self.cache
            .store(self.key, answer, &self.backend, &self.model);
    }
}
