//! Discovery and the context-length cache against fake engines on 127.0.0.1:0.

// Helpers live in a cfg(test) module so the workspace unwrap/expect lints treat them as test code.
#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use axum::Json;
    use axum::Router;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::{get, post};
    use serde_json::{Value, json};
    use switchyard_core::config::BackendConfig;
    use switchyard_core::discovery::{
        ContextLengths, DiscoveryReport, Endpoint, EndpointSource, EndpointStatus, EngineKind,
        OLLAMA_NUM_CTX_CAP, ProbeSettings, configured_endpoints, discover, render_report,
    };
    use tokio::net::TcpListener;

    async fn serve(app: Router) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    async fn ollama_show(
        State(calls): State<Arc<AtomicUsize>>,
        Json(body): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        calls.fetch_add(1, Ordering::SeqCst);
        match body["model"].as_str() {
            Some("qwen3-coder:30b") => (
                StatusCode::OK,
                Json(json!({
                    "parameters": "stop \"<|im_end|>\"\ntemperature 0.7",
                    "model_info": {"general.architecture": "qwen3moe", "qwen3moe.context_length": 262144},
                    "capabilities": ["completion", "tools"]
                })),
            ),
            Some("llama3.2:3b") => (
                StatusCode::OK,
                Json(json!({
                    "parameters": "num_ctx                        8192",
                    "model_info": {"general.architecture": "llama", "llama.context_length": 131072},
                    "capabilities": ["completion"]
                })),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                Json(json!({"error": "model not found"})),
            ),
        }
    }

    async fn fake_ollama(show_calls: Arc<AtomicUsize>) -> String {
        let app = Router::new()
        .route("/api/version", get(|| async { Json(json!({"version": "0.33.0"})) }))
        .route("/api/tags", get(|| async { Json(json!({"models": [
            {"name": "qwen3-coder:30b", "model": "qwen3-coder:30b", "size": 18556688736u64,
             "details": {"family": "qwen3moe"}},
            {"name": "llama3.2:3b", "model": "llama3.2:3b"}
        ]})) }))
        .route("/api/show", post(ollama_show))
        .route("/v1/models", get(|| async { Json(json!({"object": "list", "data": [{"id": "qwen3-coder:30b", "owned_by": "library"}]})) }))
        .with_state(show_calls);
        serve(app).await
    }

    async fn fake_vllm(model_calls: Arc<AtomicUsize>) -> String {
        let app = Router::new()
        .route("/v1/models", get(|State(calls): State<Arc<AtomicUsize>>| async move {
            calls.fetch_add(1, Ordering::SeqCst);
            Json(json!({"object": "list", "data": [{"id": "qwen-32b", "object": "model", "created": 1,
                "owned_by": "vllm", "root": "/models/q", "parent": null, "max_model_len": 32768, "permission": []}]}))
        }))
        .route("/version", get(|| async { Json(json!({"version": "0.11.0"})) }))
        .with_state(model_calls);
        serve(app).await
    }

    async fn fake_llama_cpp() -> String {
        let app = Router::new()
        .route("/props", get(|| async { Json(json!({
            "default_generation_settings": {"n_ctx": 16384, "params": {}},
            "total_slots": 1, "build_info": "b6543-1a2b3c", "model_path": "/m/gpt-oss-20b.gguf"
        })) }))
        .route("/v1/models", get(|| async { Json(json!({"object": "list", "data": [
            {"id": "gpt-oss-20b", "object": "model", "owned_by": "llamacpp", "meta": {"n_ctx_train": 131072}}
        ]})) }));
        serve(app).await
    }

    async fn fake_lm_studio() -> String {
        let app = Router::new()
        .route("/v1/models", get(|| async { Json(json!({"object": "list", "data": [
            {"id": "qwen2.5-7b-instruct", "object": "model", "owned_by": "organization_owner"}
        ]})) }))
        .route("/api/v0/models", get(|| async { Json(json!({"object": "list", "data": [
            {"id": "qwen2.5-7b-instruct", "type": "llm", "state": "loaded", "max_context_length": 32768, "loaded_context_length": 8192}
        ]})) }));
        serve(app).await
    }

    async fn fake_garbage() -> String {
        serve(Router::new().fallback(|| async { "<html><body>It works!</body></html>" })).await
    }

    /// A port that was bound and released: connecting is refused.
    async fn down_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}")
    }

    /// Accepts connections and never answers.
    async fn hanging_url() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        format!("http://{addr}")
    }

    fn endpoint(name: &str, base_url: &str, expected: Option<EngineKind>) -> Endpoint {
        Endpoint {
            name: name.to_owned(),
            base_url: base_url.to_owned(),
            expected,
            source: EndpointSource::Default,
            api_key_env: None,
        }
    }

    fn settings() -> ProbeSettings {
        ProbeSettings {
            connect_timeout: Duration::from_millis(300),
            total_timeout: Duration::from_millis(800),
            max_concurrent_details: 4,
        }
    }

    fn backend(kind: &str, base_url: &str, extra: Value) -> BackendConfig {
        let mut v = json!({"id": format!("test-{kind}"), "kind": kind, "base_url": base_url});
        if let (Some(obj), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            obj.extend(extra.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    fn find<'a>(
        report: &'a DiscoveryReport,
        name: &str,
    ) -> &'a switchyard_core::discovery::EndpointReport {
        report.endpoints.iter().find(|e| e.name == name).unwrap()
    }

    #[tokio::test]
    async fn discovers_every_kind_of_endpoint() {
        let ollama = fake_ollama(Arc::default()).await;
        let vllm = fake_vllm(Arc::default()).await;
        let llama = fake_llama_cpp().await;
        let lm = fake_lm_studio().await;
        let garbage = fake_garbage().await;
        let down = down_url().await;
        let hang = hanging_url().await;
        let endpoints = vec![
            endpoint("ollama", &ollama, Some(EngineKind::Ollama)),
            endpoint("vllm", &format!("{vllm}/v1"), None),
            endpoint("llama", &llama, Some(EngineKind::LlamaCpp)),
            endpoint("lmstudio", &lm, Some(EngineKind::LmStudio)),
            endpoint("garbage", &garbage, None),
            endpoint("down", &down, None),
            endpoint("hang", &hang, None),
        ];
        let started = Instant::now();
        let report = discover(&endpoints, &settings()).await;
        // All probes run in parallel under the 0.8 s bound; generous slack for a loaded machine.
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(report.endpoints.len(), 7);

        let o = find(&report, "ollama");
        assert_eq!(o.status, EndpointStatus::Up, "{o:?}");
        assert_eq!(o.engine, Some(EngineKind::Ollama));
        assert_eq!(o.version.as_deref(), Some("0.33.0"));
        assert_eq!(o.reason, None);
        assert_eq!(o.models.len(), 2);
        let qwen = &o.models[0];
        assert_eq!(qwen.id, "qwen3-coder:30b");
        assert_eq!(qwen.max_context_length, Some(262_144));
        assert_eq!(qwen.context_length, Some(OLLAMA_NUM_CTX_CAP));
        assert_eq!(qwen.capabilities, ["completion", "tools"]);
        let llama32 = &o.models[1];
        assert_eq!(
            (llama32.num_ctx, llama32.context_length),
            (Some(8192), Some(8192))
        );

        let v = find(&report, "vllm");
        assert_eq!(
            (v.status, v.engine),
            (EndpointStatus::Up, Some(EngineKind::Vllm))
        );
        assert_eq!(v.version.as_deref(), Some("0.11.0"));
        assert_eq!(v.models[0].id, "qwen-32b");
        assert_eq!(v.models[0].context_length, Some(32_768));

        let l = find(&report, "llama");
        assert_eq!(
            (l.status, l.engine),
            (EndpointStatus::Up, Some(EngineKind::LlamaCpp))
        );
        assert_eq!(l.version.as_deref(), Some("b6543-1a2b3c"));
        assert_eq!(l.models[0].context_length, Some(16_384));
        assert_eq!(l.models[0].max_context_length, Some(131_072));

        let s = find(&report, "lmstudio");
        assert_eq!(
            (s.status, s.engine),
            (EndpointStatus::Up, Some(EngineKind::LmStudio))
        );
        assert_eq!(s.models[0].context_length, Some(8192));
        assert_eq!(s.models[0].max_context_length, Some(32_768));

        let g = find(&report, "garbage");
        assert_eq!(g.status, EndpointStatus::Garbage);
        assert_eq!(
            g.reason.as_deref(),
            Some(
                "answered HTTP 200 but not an Ollama/OpenAI model list: <html><body>It works!</body></html>"
            )
        );

        let d = find(&report, "down");
        assert_eq!(d.status, EndpointStatus::Down);
        assert_eq!(d.reason.as_deref(), Some("connection refused"));

        let h = find(&report, "hang");
        assert_eq!(h.status, EndpointStatus::Down);
        assert_eq!(h.reason.as_deref(), Some("timed out after 0.8 s"));
        assert!(h.elapsed_ms < 3000, "{}", h.elapsed_ms);

        let table = render_report(&report);
        assert!(table.contains("Ollama 0.33.0, 2 models"), "{table}");
        assert!(
            table.contains("- qwen3-coder:30b  ctx 131072 (max 262144), completion tools"),
            "{table}"
        );
        assert!(table.contains("connection refused"), "{table}");
        // The report is what the CLI prints as JSON and the GUI reads.
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["endpoints"][1]["engine"], "vllm");
        assert_eq!(json["endpoints"][5]["status"], "down");
    }

    #[tokio::test]
    async fn configured_backends_are_probed_but_not_anthropic_ones() {
        let vllm = fake_vllm(Arc::default()).await;
        let backends = vec![
            backend("openai_chat", &format!("{vllm}/v1"), json!({})),
            backend("anthropic", "https://api.anthropic.com", json!({})),
        ];
        let endpoints = configured_endpoints(&backends);
        assert_eq!(endpoints.len(), 1);
        let report = discover(&endpoints, &settings()).await;
        let e = &report.endpoints[0];
        assert_eq!(e.status, EndpointStatus::Up);
        assert_eq!(
            e.source,
            EndpointSource::Configured {
                backend_id: "test-openai_chat".into()
            }
        );
        assert!(report.endpoint(&vllm).is_some());
    }

    #[tokio::test]
    async fn context_lengths_from_config_ollama_and_vllm() {
        let show_calls = Arc::new(AtomicUsize::new(0));
        let model_calls = Arc::new(AtomicUsize::new(0));
        let ollama = fake_ollama(show_calls.clone()).await;
        let vllm = fake_vllm(model_calls.clone()).await;
        let cache = ContextLengths::default();

        // Config wins, and nothing is probed (the URL is down anyway).
        let pinned = backend(
            "ollama",
            &down_url().await,
            json!({"context_length": 65536}),
        );
        assert_eq!(
            cache.context_length(&pinned, "anything").await,
            Some(65_536)
        );

        let o = backend("ollama", &ollama, json!({}));
        assert_eq!(
            cache.context_length(&o, "qwen3-coder:30b").await,
            Some(OLLAMA_NUM_CTX_CAP)
        );
        assert_eq!(cache.context_length(&o, "llama3.2:3b").await, Some(8192));
        assert_eq!(
            cache.context_length(&o, "qwen3-coder:30b").await,
            Some(OLLAMA_NUM_CTX_CAP)
        );
        assert_eq!(
            show_calls.load(Ordering::SeqCst),
            2,
            "second lookup must come from the cache"
        );

        let v = backend("openai_chat", &format!("{vllm}/v1"), json!({}));
        assert_eq!(cache.context_length(&v, "qwen-32b").await, Some(32_768));
        assert_eq!(cache.context_length(&v, "qwen-32b").await, Some(32_768));
        assert_eq!(model_calls.load(Ordering::SeqCst), 1);

        cache.clear();
        assert_eq!(cache.context_length(&v, "qwen-32b").await, Some(32_768));
        assert_eq!(model_calls.load(Ordering::SeqCst), 2);

        let a = backend("anthropic", "https://api.anthropic.com", json!({}));
        assert_eq!(cache.context_length(&a, "claude-sonnet-4-5").await, None);
    }

    #[tokio::test]
    async fn failures_are_cached_briefly_and_hangs_are_bounded() {
        let show_calls = Arc::new(AtomicUsize::new(0));
        let ollama = fake_ollama(show_calls.clone()).await;
        let o = backend("ollama", &ollama, json!({}));

        let cache = ContextLengths::new(
            Duration::from_secs(600),
            Duration::from_secs(600),
            Duration::from_millis(500),
        );
        assert_eq!(cache.context_length(&o, "no-such-model").await, None);
        assert_eq!(cache.context_length(&o, "no-such-model").await, None);
        assert_eq!(show_calls.load(Ordering::SeqCst), 1);

        let retrying = ContextLengths::new(
            Duration::from_secs(600),
            Duration::ZERO,
            Duration::from_millis(500),
        );
        assert_eq!(retrying.context_length(&o, "no-such-model").await, None);
        assert_eq!(retrying.context_length(&o, "no-such-model").await, None);
        assert_eq!(show_calls.load(Ordering::SeqCst), 3);

        let hung = backend("ollama", &hanging_url().await, json!({}));
        let started = Instant::now();
        assert_eq!(cache.context_length(&hung, "m").await, None);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }
}
