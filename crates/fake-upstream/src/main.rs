//! `fake-upstream`: listens on 127.0.0.1 (only), prints `listening on http://ADDR`, serves
//! until SIGTERM or Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use fake_upstream::{Agent, Options, Script, wire::WriteInput};

#[derive(Parser)]
#[command(
    name = "fake-upstream",
    about = "A scripted Anthropic-style upstream for tests"
)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Answer 401 unless the request's x-api-key is exactly this.
    #[arg(long)]
    expect_key: Option<String>,
    /// Answer 400 unless the request's model is exactly this.
    #[arg(long)]
    expect_model: Option<String>,
    /// Answer requests offering the Write tool with a Write call to this absolute path.
    #[arg(long, requires = "write_content")]
    write_path: Option<String>,
    /// The content of that Write call.
    #[arg(long)]
    write_content: Option<String>,
    /// Answer the main agent's requests that offer the subagent tool (`Agent`, or `Task`) and
    /// carry no tool result with a call of it, giving the subagent this prompt.
    #[arg(long)]
    spawn_agent: Option<String>,
    /// Answer 400 unless the request comes from this agent: `main`, or `subagent` (an
    /// `x-claude-code-agent-id` header or `cc_is_subagent=true` in the first system block).
    #[arg(long, value_parser = ["main", "subagent"])]
    expect_agent: Option<String>,
    /// The text answered once the tool result comes back.
    #[arg(long)]
    final_text: Option<String>,
    /// The text answered to any other request.
    #[arg(long)]
    text: Option<String>,
    /// Print one line per request on stderr.
    #[arg(long)]
    log: bool,
    /// Be Anthropic's API (default), Claude on Amazon Bedrock (SigV4 or API key checked,
    /// event-stream answers), or Claude on Google Vertex AI (a token endpoint at /token).
    #[arg(long, value_parser = ["anthropic", "bedrock", "vertex"], default_value = "anthropic")]
    mode: String,
    /// Bedrock: the access key id requests must be signed with (with --aws-secret-access-key).
    #[arg(long, requires = "aws_secret_access_key")]
    aws_access_key_id: Option<String>,
    #[arg(long)]
    aws_secret_access_key: Option<String>,
    /// Bedrock: the session token that must come with the signature.
    #[arg(long)]
    aws_session_token: Option<String>,
    /// Bedrock: the region requests must be signed for.
    #[arg(long, default_value = "us-east-1")]
    aws_region: String,
    /// Bedrock: take this Bedrock API key (bearer) instead of a signature.
    #[arg(long)]
    bedrock_api_key: Option<String>,
    /// Vertex: the service account's public key (PKCS#1 PEM) its assertions are checked with.
    #[arg(long)]
    vertex_public_key: Option<std::path::PathBuf>,
    /// Vertex: the service account's email (the assertion's issuer).
    #[arg(long)]
    vertex_client_email: Option<String>,
    /// Vertex: the project and region in the model URLs.
    #[arg(long, default_value = "switchyard-e2e")]
    vertex_project: String,
    #[arg(long, default_value = "us-east5")]
    vertex_region: String,
}

/// The cloud the fake plays, from the arguments.
fn cloud(args: &Args) -> Result<Option<fake_upstream::cloud::Cloud>, String> {
    use fake_upstream::cloud::{AwsKeys, BedrockAuth, Cloud, VertexAccount, pem_to_der};
    match args.mode.as_str() {
        "bedrock" => {
            let auth = match (&args.bedrock_api_key, &args.aws_access_key_id, &args.aws_secret_access_key) {
                (Some(key), _, _) => BedrockAuth::ApiKey(key.clone()),
                (None, Some(id), Some(secret)) => BedrockAuth::SigV4(AwsKeys {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                    session_token: args.aws_session_token.clone(),
                    region: args.aws_region.clone(),
                }),
                _ => return Err("--mode bedrock needs --aws-access-key-id and --aws-secret-access-key, or --bedrock-api-key".to_owned()),
            };
            Ok(Some(Cloud::Bedrock(auth)))
        }
        "vertex" => {
            let (Some(key), Some(email)) = (&args.vertex_public_key, &args.vertex_client_email)
            else {
                return Err(
                    "--mode vertex needs --vertex-public-key and --vertex-client-email".to_owned(),
                );
            };
            let pem =
                std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
            Ok(Some(Cloud::Vertex(VertexAccount {
                client_email: email.clone(),
                public_key_der: pem_to_der(&pem)?,
                project: args.vertex_project.clone(),
                region: args.vertex_region.clone(),
            })))
        }
        _ => Ok(None),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cloud = match cloud(&args) {
        Ok(cloud) => cloud,
        Err(err) => {
            eprintln!("fake-upstream: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut script = Script::default();
    if let (Some(file_path), Some(content)) = (args.write_path, args.write_content) {
        script.write = Some(WriteInput { file_path, content });
    }
    script.spawn_agent = args.spawn_agent;
    if let Some(text) = args.final_text {
        script.final_text = text;
    }
    if let Some(text) = args.text {
        script.text = text;
    }
    let options = Options {
        expect_key: args.expect_key,
        expect_model: args.expect_model,
        expect_agent: args.expect_agent.map(|a| match a.as_str() {
            "subagent" => Agent::Subagent,
            _ => Agent::Main,
        }),
        script,
        log: args.log,
        cloud,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("fake-upstream: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
            Ok(l) => l,
            Err(err) => {
                eprintln!(
                    "fake-upstream: cannot listen on 127.0.0.1:{}: {err}",
                    args.port
                );
                return ExitCode::FAILURE;
            }
        };
        match listener.local_addr() {
            Ok(addr) => println!("listening on http://{addr}"),
            Err(err) => {
                eprintln!("fake-upstream: {err}");
                return ExitCode::FAILURE;
            }
        }
        let _ = std::io::stdout().flush();
        tokio::select! {
            served = fake_upstream::serve(listener, options) => {
                if let Err(err) = served {
                    eprintln!("fake-upstream: {err}");
                    return ExitCode::FAILURE;
                }
            }
            () = shutdown() => {}
        }
        ExitCode::SUCCESS
    })
}

async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
