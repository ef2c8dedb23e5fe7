//! Conditional rules (`when = { ... }`): requests with images, server tools, thinking, a long
//! prompt or from a subagent each take their rule; the rest the name rules.

use crate::harness::*;

/// Backend `b0` (default), and one backend per condition, each its own fake.
async fn gateway() -> (Gateway, Vec<Fake>) {
    let mut fakes = Vec::new();
    let mut text = String::from("active_profile = \"p\"\n");
    for id in ["plain", "vision", "search", "think", "long", "sub"] {
        let (addr, fake) = fake_upstream().await;
        fakes.push(fake);
        text.push_str(&format!(
            "[[backends]]\nid = \"{id}\"\nkind = \"anthropic\"\nbase_url = \"http://{addr}\"\n"
        ));
    }
    text.push_str(
        r#"[profiles.p]
default = { backend = "plain" }
[[profiles.p.rules]]
when = { images = true }
targets = [{ backend = "vision" }]
[[profiles.p.rules]]
when = { server_tools = true }
targets = [{ backend = "search" }]
[[profiles.p.rules]]
match = "*sonnet*"
when = { thinking = true }
targets = [{ backend = "think" }]
[[profiles.p.rules]]
when = { min_prompt_tokens = 2000 }
targets = [{ backend = "long" }]
[[profiles.p.rules]]
when = { agent = "subagent" }
targets = [{ backend = "sub" }]
[[profiles.p.rules]]
match = "claude-sonnet-4-5"
targets = [{ backend = "plain" }]
"#,
    );
    (Gateway::start(&text, &[]).await, fakes)
}

fn body(extra: &str, content: &str) -> String {
    format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{{"role":"user","content":{content}}}]{extra}}}"#
    )
}

#[tokio::test]
async fn each_condition_takes_its_rule() {
    let (gw, fakes) = gateway().await;
    let image = r#"[{"type":"text","text":"what is this?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]"#;
    let in_tool_result = r#"[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]}]"#;
    let long = format!("\"{}\"", "lorem ipsum dolor sit amet ".repeat(600));
    let cases: Vec<(&str, String, Option<&str>, usize)> = vec![
        ("plain", body("", "\"hello\""), None, 0),
        ("an image", body("", image), None, 1),
        (
            "an image in a tool result",
            body("", in_tool_result),
            None,
            1,
        ),
        (
            "web search",
            body(
                r#","tools":[{"type":"web_search_20250305","name":"web_search"}]"#,
                "\"news?\"",
            ),
            None,
            2,
        ),
        (
            "a custom tool only",
            body(
                r#","tools":[{"name":"Bash","input_schema":{"type":"object"}}]"#,
                "\"ls\"",
            ),
            None,
            0,
        ),
        (
            "thinking",
            body(
                r#","thinking":{"type":"enabled","budget_tokens":1024}"#,
                "\"hmm\"",
            ),
            None,
            3,
        ),
        ("a long prompt", body("", &long), None, 4),
        (
            "a subagent (header)",
            body("", "\"task\""),
            Some("agent-7"),
            5,
        ),
        (
            "a subagent (attribution block)",
            body(
                r#","system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.197; cc_entrypoint=sdk-cli; cc_is_subagent=true;"}]"#,
                "\"task\"",
            ),
            None,
            5,
        ),
    ];
    for (what, request_body, agent, expected) in cases {
        let before: Vec<usize> = fakes.iter().map(|f| f.seen().len()).collect();
        fakes[expected].push(Reply::Json(200, message_json("ok")));
        let mut request = gw.post("/v1/messages").body(request_body);
        if let Some(agent) = agent {
            request = request.header("x-claude-code-agent-id", agent);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{what}");
        let after: Vec<usize> = fakes.iter().map(|f| f.seen().len()).collect();
        let reached: Vec<usize> = (0..fakes.len()).filter(|&i| after[i] > before[i]).collect();
        assert_eq!(reached, vec![expected], "{what} went to the wrong backend");
    }
    // Each usage row names the rule that routed it, and a subagent's its agent id.
    let records = gw.records.wait_for(9).await;
    let rules: Vec<&str> = records.iter().map(|r| r.rule.as_deref().unwrap()).collect();
    assert_eq!(
        rules,
        [
            "rule 6: claude-sonnet-4-5",
            "rule 1: * when images",
            "rule 1: * when images",
            "rule 2: * when server tools",
            "rule 6: claude-sonnet-4-5",
            "rule 3: *sonnet* when thinking",
            "rule 4: * when prompt >= 2000 tokens",
            "rule 5: * when subagent",
            "rule 5: * when subagent",
        ]
    );
    let agents: Vec<Option<&str>> = records.iter().map(|r| r.agent_id.as_deref()).collect();
    assert_eq!(agents[7], Some("agent-7"));
    assert!(
        agents
            .iter()
            .enumerate()
            .all(|(i, a)| i == 7 || a.is_none()),
        "{agents:?}"
    );
}

/// The session comes from `x-claude-code-session-id`, else from `metadata.user_id` (a JSON
/// string in Claude Code 2.x, `user_…_session_<id>` before); the parent agent from its header.
#[tokio::test]
async fn usage_rows_keep_the_session_and_the_agents() {
    let (gw, fakes) = gateway().await;
    let cases = [
        (
            body("", "\"a\""),
            vec![("x-claude-code-session-id", "from-header")],
            Some("from-header"),
        ),
        (
            body(
                r#","metadata":{"user_id":"{\"device_id\":\"d\",\"session_id\":\"from-json\"}"}"#,
                "\"b\"",
            ),
            vec![],
            Some("from-json"),
        ),
        (
            body(
                r#","metadata":{"user_id":"user_ab12_account_cd34_session_from-legacy"}"#,
                "\"c\"",
            ),
            vec![],
            Some("from-legacy"),
        ),
        // The header wins over the body.
        (
            body(
                r#","metadata":{"user_id":"{\"session_id\":\"body\"}"}"#,
                "\"d\"",
            ),
            vec![
                ("x-claude-code-session-id", "header"),
                ("x-claude-code-agent-id", "child"),
                ("x-claude-code-parent-agent-id", "parent"),
            ],
            Some("header"),
        ),
        (body("", "\"e\""), vec![], None),
    ];
    for (request_body, headers, _) in &cases {
        fakes[0].push(Reply::Json(200, message_json("ok")));
        fakes[5].push(Reply::Json(200, message_json("ok")));
        let mut request = gw.post("/v1/messages").body(request_body.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        assert_eq!(request.send().await.unwrap().status(), 200);
    }
    let records = gw.records.wait_for(cases.len()).await;
    for (record, (_, _, session)) in records.iter().zip(&cases) {
        assert_eq!(record.session_id.as_deref(), *session);
    }
    assert_eq!(records[3].agent_id.as_deref(), Some("child"));
    assert_eq!(records[3].parent_agent_id.as_deref(), Some("parent"));
    assert_eq!(records[3].backend.as_deref(), Some("sub"));
    assert_eq!(records[0].agent_id, None);
}

#[tokio::test]
async fn an_unknown_condition_is_refused_with_its_line() {
    let text = "active_profile = \"p\"\n[[backends]]\nid = \"b\"\nkind = \"anthropic\"\nbase_url = \"http://127.0.0.1:1\"\n[profiles.p]\n[[profiles.p.rules]]\nwhen = { colour = \"red\" }\ntargets = [{ backend = \"b\" }]\n";
    let err = switchyard_core::config::parse(text, std::path::Path::new("c.toml")).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("colour") && message.contains("line 8"),
        "{message}"
    );
    let text = text.replace("colour = \"red\"", "agent = \"boss\"");
    let message = switchyard_core::config::parse(&text, std::path::Path::new("c.toml"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("boss"), "{message}");
}

/// A target marked `vision = false` is skipped for a request with images; when no target is
/// left, a 400 names the model and says how to route images.
#[tokio::test]
async fn a_blind_target_is_skipped_for_images() {
    let (blind, blind_fake) = fake_upstream().await;
    let (sees, sees_fake) = fake_upstream().await;
    let text = format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"blind\"\nkind = \"anthropic\"\nbase_url = \"http://{blind}\"\n[[backends]]\nid = \"sees\"\nkind = \"anthropic\"\nbase_url = \"http://{sees}\"\n[profiles.p]\ndefault = {{ targets = [{{ backend = \"blind\", model = \"coder\", vision = false }}], fallbacks = [{{ backend = \"sees\", model = \"vl\" }}] }}\n[[profiles.p.rules]]\nmatch = \"claude-haiku-4-5\"\ntargets = [{{ backend = \"blind\", model = \"coder\", vision = false }}]\n"
    );
    let gw = Gateway::start(&text, &[]).await;
    let image = r#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]"#;

    sees_fake.push(Reply::Json(200, message_json("a cat")));
    let response = gw
        .post("/v1/messages")
        .body(body("", image))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        blind_fake.seen().is_empty(),
        "the blind target got the image"
    );
    assert_eq!(sees_fake.seen().len(), 1);
    // Text still goes to the first target.
    blind_fake.push(Reply::Json(200, message_json("ok")));
    let response = gw
        .post("/v1/messages")
        .body(body("", "\"hi\""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(blind_fake.seen().len(), 1);

    let haiku = body("", image).replace("claude-sonnet-4-5", "claude-haiku-4-5");
    let response = gw.post("/v1/messages").body(haiku).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["error"]["type"], "invalid_request_error");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("claude-haiku-4-5")
            && message.contains("images = true")
            && message.contains("blind/coder"),
        "{message}"
    );
    assert_eq!(blind_fake.seen().len(), 1);
}

/// Web search is Anthropic's: an OpenAI-style backend gets the request without it (and still
/// answers), the custom tools intact.
#[tokio::test]
async fn server_tools_never_reach_a_translating_backend() {
    let (up, fake) = fake_upstream().await;
    fake.push(Reply::Json(
        200,
        r#"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"No search here"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":4}}"#.into(),
    ));
    let text = format!(
        "active_profile = \"p\"\n[[backends]]\nid = \"oa\"\nkind = \"openai_chat\"\nbase_url = \"http://{up}/v1\"\n[profiles.p]\ndefault = {{ backend = \"oa\", model = \"m\" }}\n"
    );
    let gw = Gateway::start(&text, &[]).await;
    let request = body(
        r#","tools":[{"type":"web_search_20250305","name":"web_search","max_uses":3},{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}}}}]"#,
        "\"what's new?\"",
    );
    let response = gw.post("/v1/messages").body(request).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let sent: serde_json::Value = serde_json::from_slice(&fake.seen()[0].body).unwrap();
    let names: Vec<&str> = sent["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bash"]);
    // The usage row says what was left out, and where.
    let records = gw.records.wait_for(1).await;
    assert_eq!(
        records[0].notes.as_deref(),
        Some("server tools dropped for oa: web_search_20250305")
    );
    assert_eq!(records[0].rule.as_deref(), Some("default route"));
}

/// An Ollama target without `vision` in the config: its `/api/show` capabilities decide. A
/// model without the vision capability is skipped for images; one whose engine lists no
/// capabilities at all (older Ollama) is not judged, and gets the request.
#[tokio::test]
async fn ollama_capabilities_say_which_model_reads_images() {
    let ollama_reply = r#"{"model":"m","message":{"role":"assistant","content":"seen"},"done":true,"done_reason":"stop","prompt_eval_count":5,"eval_count":1}"#;
    let mut fakes = Vec::new();
    let mut text = String::from("active_profile = \"p\"\n");
    for (id, capabilities) in [
        ("coder", r#","capabilities":["completion","tools"]"#),
        ("vl", r#","capabilities":["completion","vision"]"#),
        ("old", ""),
    ] {
        let (addr, fake) = fake_upstream().await;
        fake.probes.lock().unwrap().insert(
            "/api/show".into(),
            format!(r#"{{"model_info":{{"general.architecture":"qwen2","qwen2.context_length":32768}}{capabilities}}}"#),
        );
        fakes.push(fake);
        text.push_str(&format!(
            "[[backends]]\nid = \"{id}\"\nkind = \"ollama\"\nbase_url = \"http://{addr}\"\n"
        ));
    }
    text.push_str(
        "[profiles.p]\ndefault = { targets = [{ backend = \"coder\", model = \"qwen2.5-coder\" }, { backend = \"vl\", model = \"qwen2.5vl\" }] }\n\
         [[profiles.p.rules]]\nmatch = \"claude-haiku-*\"\ntargets = [{ backend = \"old\", model = \"llava\" }]\n",
    );
    let gw = Gateway::start(&text, &[]).await;
    let image = r#"[{"type":"text","text":"what is it?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]"#;
    let send = |model: &'static str, content: &'static str| {
        let request = body("", content).replace("claude-sonnet-4-5", model);
        gw.post("/v1/messages").body(request).send()
    };

    fakes[1].push(Reply::Json(200, ollama_reply.into()));
    assert_eq!(
        send("claude-sonnet-4-5", image).await.unwrap().status(),
        200
    );
    assert!(fakes[0].seen().is_empty(), "the coder model got the image");
    assert_eq!(fakes[1].seen().len(), 1);
    let sent: serde_json::Value = serde_json::from_slice(&fakes[1].seen()[0].body).unwrap();
    assert!(
        sent["messages"][0]["images"].is_array(),
        "the vision model got the image: {sent}"
    );

    // Text still goes to the first target.
    fakes[0].push(Reply::Json(200, ollama_reply.into()));
    assert_eq!(
        send("claude-sonnet-4-5", "\"hi\"").await.unwrap().status(),
        200
    );
    assert_eq!(fakes[0].seen().len(), 1);

    fakes[2].push(Reply::Json(200, ollama_reply.into()));
    assert_eq!(send("claude-haiku-4-5", image).await.unwrap().status(), 200);
    assert_eq!(
        fakes[2].seen().len(),
        1,
        "no capabilities listed: not judged"
    );
}
