//! `switchyard`: the headless gateway and its command-line tools. A thin layer over
//! `switchyard-core`.

mod capture;
mod commands;
mod usage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "switchyard",
    version,
    about = "Route Claude Code's models to local engines or cloud APIs through a loopback gateway"
)]
struct Cli {
    /// The config file (default: SWITCHYARD_CONFIG, else the OS config dir).
    #[arg(long, global = true, env = "SWITCHYARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway in the foreground.
    Serve {
        /// Listen on this address instead of the config's `listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Allow a non-loopback --listen address (headless machines only).
        #[arg(long)]
        allow_non_loopback: bool,
    },
    /// Print the local token (created if absent).
    Token {
        /// Replace it with a new one.
        #[arg(long)]
        rotate: bool,
    },
    /// Show the active profile, or switch to NAME (in the running instance and the config).
    Profile { name: Option<String> },
    /// Manage provider keys in the OS keychain.
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Validate the config and probe each backend; exits non-zero on problems.
    Check,
    /// Find local engines (Ollama, LM Studio, vLLM, llama.cpp, SGLang) and configured
    /// backends, with their models and context windows.
    Discover {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the environment Claude Code needs to use this gateway, or write it into
    /// Claude Code's settings.json.
    Env {
        /// Print the settings.json `env` block (JSON) instead of shell exports.
        #[arg(long, conflicts_with_all = ["configure", "restore"])]
        json: bool,
        /// Write the variables into ~/.claude/settings.json (other settings kept, what was
        /// there before recorded).
        #[arg(long, conflicts_with = "restore")]
        configure: bool,
        /// Undo what --configure changed in settings.json: Switchyard's variables get their
        /// earlier values back (or go); everything else, and any you changed since, stays.
        #[arg(long)]
        restore: bool,
        /// Route under this profile whatever the active one is (the base URL becomes
        /// `/profiles/NAME`): one terminal local, another cloud.
        #[arg(long, value_name = "NAME", conflicts_with = "restore")]
        profile: Option<String>,
        /// With --configure or --restore: the settings of Claude Code started in DIR
        /// (DIR/.claude/settings.local.json, kept out of git) instead of ~/.claude/settings.json.
        #[arg(long, value_name = "DIR")]
        project: Option<String>,
    },
    /// Show recent requests and totals from the usage history (or export it as CSV).
    Usage(usage::UsageArgs),
    /// The request inspector: capture requests for a while, export or delete captures.
    Capture {
        #[command(subcommand)]
        action: capture::CaptureAction,
    },
    /// Send a captured request again to another backend or profile; both answers side by side.
    Replay(capture::ReplayArgs),
    /// Import another tool's config into this one (comments kept, a backup taken first).
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
}

#[derive(Subcommand)]
enum ImportSource {
    /// A LiteLLM proxy config.yaml: its models become backends and rules, its settings what
    /// Switchyard can follow; a table says what was imported as what, and what was not and why.
    Litellm {
        /// The LiteLLM config file.
        file: PathBuf,
        /// Print what would be imported; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Put the rules into this profile (created if missing) instead of the active one.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Read a key from standard input into the keychain. A bedrock backend takes
    /// ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN] (or their JSON) or a Bedrock API key; a
    /// vertex backend a service account's JSON key file (`switchyard key set vertex < key.json`).
    Set {
        backend_id: String,
        /// Store it as this key of the backend's pool (added to its `keys`), which requests
        /// rotate over.
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete a backend's key from the keychain.
    Delete {
        backend_id: String,
        /// The key of the backend's pool to delete (and remove from its `keys`).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the backends' keys (or one backend's) and whether each is there.
    List { backend_id: Option<String> },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("switchyard: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve {
                listen,
                allow_non_loopback,
            } => commands::serve(cli.config, listen, allow_non_loopback).await,
            Command::Token { rotate } => commands::token(rotate).await,
            Command::Profile { name } => commands::profile(cli.config, name).await,
            Command::Key {
                action: KeyAction::Set { backend_id, name },
            } => commands::key_set(cli.config, &backend_id, name).await,
            Command::Key {
                action: KeyAction::Delete { backend_id, name },
            } => commands::key_delete(cli.config, &backend_id, name).await,
            Command::Key {
                action: KeyAction::List { backend_id },
            } => commands::key_list(cli.config, backend_id).await,
            Command::Check => commands::check(cli.config).await,
            Command::Capture { action } => capture::capture(cli.config, action).await,
            Command::Replay(args) => capture::replay(cli.config, args).await,
            Command::Discover { json } => commands::discover(cli.config, json).await,
            Command::Env {
                json,
                configure,
                restore,
                profile,
                project,
            } => {
                commands::env(
                    cli.config,
                    commands::EnvArgs {
                        json,
                        configure,
                        restore,
                        profile,
                        project,
                    },
                )
                .await
            }
            Command::Usage(args) => usage::run(args).await,
            Command::Import {
                source:
                    ImportSource::Litellm {
                        file,
                        dry_run,
                        profile,
                    },
            } => commands::import_litellm(cli.config, &file, dry_run, profile).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("switchyard: {err:#}");
            ExitCode::FAILURE
        }
    }
}
