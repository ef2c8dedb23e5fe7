use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use switchyard_core::config::{self, Config};
use switchyard_core::discovery;
use switchyard_core::engine::{self as keys, Engine, EngineOptions};
use switchyard_core::secrets::{
    self, ExposeSecret, KeychainStore, SecretStore, SecretString, backend_account,
};

pub(crate) fn config_path(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match flag {
        Some(path) => Ok(path),
        None => Ok(config::default_config_path()?),
    }
}

fn env_token() -> Option<SecretString> {
    std::env::var("SWITCHYARD_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .context("a background task failed")
}

/// The local token: SWITCHYARD_TOKEN, else the keychain's (created if absent).
pub(crate) async fn local_token() -> anyhow::Result<SecretString> {
    if let Some(token) = env_token() {
        return Ok(token);
    }
    Ok(blocking(|| secrets::local_token(&KeychainStore::default())).await??)
}

pub async fn serve(
    config: Option<PathBuf>,
    listen: Option<SocketAddr>,
    allow_non_loopback: bool,
) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Flags win over the environment (SWITCHYARD_CONFIG, SWITCHYARD_LISTEN, SWITCHYARD_TOKEN, ...).
    let from_env = EngineOptions::from_env()?;
    let options = EngineOptions {
        config_path: Some(config_path(config.or(from_env.config_path.clone()))?),
        listen: listen.or(from_env.listen),
        allow_non_loopback,
        ..from_env
    };
    let engine = Engine::start(options, Arc::new(KeychainStore::default())).await?;
    let cfg = engine.config();
    println!("listening on http://{}", engine.listen_addr());
    println!(
        "config: {} (active profile: {})",
        engine.config_path().display(),
        cfg.active_profile
    );
    std::io::stdout().flush().ok();
    wait_for_signal().await;
    tracing::info!(
        "shutting down (waiting up to {} s for running requests; a second Ctrl-C or SIGTERM exits now)",
        switchyard_core::server::DRAIN_DEADLINE.as_secs()
    );
    tokio::select! {
        () = engine.shutdown() => Ok(ExitCode::SUCCESS),
        () = wait_for_signal() => {
            // The usage writer's last batch may be lost; the user asked to stop now.
            eprintln!("stopped without waiting for running requests");
            Ok(ExitCode::from(130))
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn token(rotate: bool) -> anyhow::Result<ExitCode> {
    if rotate && env_token().is_some() {
        bail!(
            "the local token comes from SWITCHYARD_TOKEN; change that variable instead of rotating"
        );
    }
    let token = if rotate {
        let token = blocking(|| secrets::rotate_local_token(&KeychainStore::default())).await??;
        eprintln!(
            "rotated: restart a running `switchyard serve` (the desktop app applies it at once) and update Claude Code's ANTHROPIC_AUTH_TOKEN"
        );
        token
    } else {
        local_token().await?
    };
    println!("{}", token.expose_secret());
    Ok(ExitCode::SUCCESS)
}

/// The running instance's base URL and an HTTP client, when one answers.
pub(crate) async fn running_instance(cfg: &Config) -> Option<(String, reqwest::Client)> {
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(10))
        .build()
        .ok()?;
    let base = format!("http://{}", cfg.listen);
    client.get(format!("{base}/health")).send().await.ok()?;
    Some((base, client))
}

pub async fn profile(
    config_flag: Option<PathBuf>,
    name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let path = config_path(config_flag)?;
    let p = path.clone();
    let cfg = blocking(move || config::load(&p)).await??;
    let running = running_instance(&cfg).await;
    let Some(name) = name else {
        println!("{}", cfg.active_profile);
        for profile in cfg.profiles.keys() {
            eprintln!(
                "  {} {profile}",
                if *profile == cfg.active_profile {
                    "*"
                } else {
                    " "
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    match running {
        Some((base, client)) => {
            let token = local_token().await?;
            let response = client
                .put(format!("{base}/switchyard/v1/profile"))
                .bearer_auth(token.expose_secret())
                .json(&serde_json::json!({ "profile": name }))
                .send()
                .await
                .context("the running instance did not answer")?;
            let status = response.status();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!(
                    "{}",
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or("the running instance refused the switch")
                );
            }
            println!("active profile: {name} (running instance at {base} switched; config saved)");
        }
        None => {
            let p = path.clone();
            let n = name.clone();
            blocking(move || config::set_active_profile(&p, &n)).await??;
            println!(
                "active profile: {name} (config saved; no running instance at {})",
                cfg.listen
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn key_set(
    config_flag: Option<PathBuf>,
    backend_id: &str,
    name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let path = config_path(config_flag)?;
    let known = config::load(&path)
        .ok()
        .map(|cfg| cfg.backend(backend_id).is_some());
    if name.is_none() && known == Some(false) {
        eprintln!("note: the config has no backend {backend_id:?} yet; the key is stored anyway");
    }
    let mut key = String::new();
    std::io::stdin()
        .read_to_string(&mut key)
        .context("cannot read the key from standard input")?;
    let key = key.trim().to_owned();
    if key.is_empty() {
        let flag = name
            .as_ref()
            .map(|n| format!(" --name {n}"))
            .unwrap_or_default();
        bail!(
            "no key on standard input: pipe it in, e.g. `printf %s \"$KEY\" | switchyard key set {backend_id}{flag}`"
        );
    }
    let secret = SecretString::from(key);
    if name.is_none() && known != Some(true) {
        let account = backend_account(backend_id);
        blocking(move || KeychainStore::default().set(&account, &secret)).await??;
        println!("stored the key of backend {backend_id:?} in the OS keychain");
        return Ok(ExitCode::SUCCESS);
    }
    let (id, key_name) = (backend_id.to_owned(), name.clone());
    let change = blocking(move || {
        keys::add_key(
            &path,
            &KeychainStore::default(),
            &id,
            key_name.as_deref(),
            &secret,
        )
    })
    .await??;
    match name {
        None => println!("stored the key of backend {backend_id:?} in the OS keychain"),
        Some(name) => {
            let pool = change
                .config
                .backend(backend_id)
                .map(|b| b.keys.join(", "))
                .unwrap_or_default();
            println!(
                "stored the key {name:?} of backend {backend_id:?} in the OS keychain; requests rotate over its keys: {pool}"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn key_delete(
    config_flag: Option<PathBuf>,
    backend_id: &str,
    name: Option<String>,
) -> anyhow::Result<ExitCode> {
    let Some(name) = name else {
        let account = backend_account(backend_id);
        let deleted = blocking(move || KeychainStore::default().delete(&account)).await??;
        if deleted {
            println!("deleted the key of backend {backend_id:?}");
        } else {
            println!("backend {backend_id:?} had no key in the keychain");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let path = config_path(config_flag)?;
    let (id, key_name) = (backend_id.to_owned(), name.clone());
    let (_change, deleted) =
        blocking(move || keys::remove_key(&path, &KeychainStore::default(), &id, Some(&key_name)))
            .await??;
    if deleted {
        println!("deleted the key {name:?} of backend {backend_id:?}");
    } else {
        println!(
            "removed {name:?} from the keys of backend {backend_id:?} (the keychain had no such entry)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Each backend's keys (or one backend's), with whether the secret is there.
pub async fn key_list(
    config_flag: Option<PathBuf>,
    backend_id: Option<String>,
) -> anyhow::Result<ExitCode> {
    let path = config_path(config_flag)?;
    let cfg = blocking(move || config::load(&path)).await??;
    let backends: Vec<_> = match &backend_id {
        Some(id) => match cfg.backend(id) {
            Some(b) => vec![b.clone()],
            None => bail!("there is no backend {id:?} in the config"),
        },
        None => cfg.backends.clone(),
    };
    let listed = blocking(move || {
        let store = KeychainStore::default();
        backends
            .iter()
            .map(|b| (b.id.clone(), keys::list_keys(b, &store)))
            .collect::<Vec<_>>()
    })
    .await?;
    for (id, keys) in listed {
        let text: Vec<String> = keys
            .iter()
            .map(|k| {
                let (source, state) = match (k.from_env, k.present) {
                    (true, true) => ("environment", "set"),
                    (true, false) => ("environment", "not set"),
                    (false, true) => ("keychain", "stored"),
                    (false, false) => ("keychain", "missing"),
                };
                format!("{} ({source}, {state})", k.name)
            })
            .collect();
        println!("{id}: {}", text.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn check(config_flag: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let path = config_path(config_flag)?;
    let p = path.clone();
    let cfg = match blocking(move || config::load(&p)).await? {
        Ok(cfg) => cfg,
        Err(err) => {
            eprintln!("{err}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!(
        "config {}: valid ({} backends, profiles: {}; active: {})",
        path.display(),
        cfg.backends.len(),
        cfg.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
        cfg.active_profile
    );
    // The same check as the app's Test button: the key requests would send, the model list.
    let store: Arc<dyn SecretStore> = Arc::new(KeychainStore::default());
    let keys = switchyard_core::gateway::KeyCache::default();
    let settings = discovery::CheckSettings::default();
    let checks = futures::future::join_all(cfg.backends.iter().map(|backend| {
        let (keys, store) = (&keys, &store);
        async move {
            let key = discovery::CheckKey::from(keys.get(backend, store).await);
            let check = discovery::check_backend(backend, key, &settings).await;
            // A pool's keys each on their own: one refused key is worth knowing.
            let per_key = keys::check_keys(backend, store, &settings).await;
            (check, per_key)
        }
    }))
    .await;
    let width = checks
        .iter()
        .map(|(c, _)| c.backend.len())
        .max()
        .unwrap_or(0);
    let mut down: Vec<String> = Vec::new();
    for (check, per_key) in &checks {
        if check.ok {
            println!(
                "  ok    {:width$}  {} ({} ms)",
                check.backend, check.message, check.latency_ms
            );
        } else {
            println!("  FAIL  {:width$}  {}", check.backend, check.message);
            println!("        {:width$}  {}", "", check.detail);
            down.push(check.backend.clone());
        }
        for (name, key) in per_key {
            if key.ok {
                println!("        {:width$}  key {name}: ok", "");
            } else {
                println!("        {:width$}  key {name}: FAIL {}", "", key.message);
                println!("        {:width$}    {}", "", key.detail);
                down.push(format!("{} (key {name})", check.backend));
            }
        }
    }
    if down.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("problems with: {}", down.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

pub async fn discover(config_flag: Option<PathBuf>, json: bool) -> anyhow::Result<ExitCode> {
    // A broken or missing config still lets the default local ports be probed.
    let backends = config_path(config_flag)
        .ok()
        .and_then(|path| config::load(&path).ok())
        .map(|cfg| cfg.backends)
        .unwrap_or_default();
    let endpoints = discovery::endpoints_to_probe(&backends);
    let report = discovery::discover(&endpoints, &discovery::ProbeSettings::default()).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", discovery::render_report(&report));
    }
    Ok(ExitCode::SUCCESS)
}

pub struct EnvArgs {
    pub json: bool,
    pub configure: bool,
    pub restore: bool,
    pub profile: Option<String>,
    /// A project folder whose `.claude/settings.local.json` is configured or restored.
    pub project: Option<String>,
}

pub async fn env(config_flag: Option<PathBuf>, args: EnvArgs) -> anyhow::Result<ExitCode> {
    use switchyard_core::claude_code;
    let EnvArgs {
        json,
        configure,
        restore,
        profile,
        project,
    } = args;
    if project.is_some() && !configure && !restore {
        anyhow::bail!(
            "--project DIR goes with --configure (point Claude Code started in DIR at the gateway) or --restore (undo that)"
        );
    }
    let settings_path = match &project {
        Some(dir) => claude_code::project_settings_path(&claude_code::existing_folder(dir)?),
        None => claude_code::default_settings_path()
            .context("cannot find your home directory to locate ~/.claude/settings.json")?,
    };
    if restore {
        let p = settings_path.clone();
        let restored = blocking(move || claude_code::restore(&p)).await??;
        println!("{}", restored.describe());
        return Ok(ExitCode::SUCCESS);
    }
    let path = config_path(config_flag)?;
    let cfg = blocking(move || config::load_or_create(&path)).await??.0;
    let token = local_token().await?;
    let mut base_url = format!("http://{}", cfg.listen);
    if let Some(profile) = &profile {
        if !cfg.profiles.contains_key(profile) {
            anyhow::bail!(
                "there is no profile {profile:?} in the config; the profiles are: {}",
                cfg.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        base_url = claude_code::profile_base_url(&base_url, profile);
    }
    let vars = claude_code::env_vars(&base_url, token.expose_secret(), &Default::default());
    if json {
        println!("{}", claude_code::render_settings_env_block(&vars));
        return Ok(ExitCode::SUCCESS);
    }
    if !configure {
        print!("{}", claude_code::render_shell_exports(&vars));
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = project {
        let (_, excluded) = blocking(move || claude_code::prepare_project_settings(&dir)).await??;
        if excluded {
            println!(
                "added .claude/settings.local.json to .git/info/exclude (it holds the local token)"
            );
        }
    }
    let p = settings_path.clone();
    let outcome = blocking(move || claude_code::configure(&p, &vars)).await??;
    if outcome.is_unchanged() {
        println!(
            "{} already points Claude Code at {base_url}",
            outcome.path.display()
        );
    } else {
        println!(
            "updated {}: {}",
            outcome.path.display(),
            outcome.changed.join(", ")
        );
        if outcome.blanked_api_key {
            println!(
                "ANTHROPIC_API_KEY was set in that file and is now \"\" (Claude Code would have sent it instead of the gateway token); `switchyard env --restore` puts it back"
            );
        }
        if let Some(backup) = &outcome.backup_taken {
            println!(
                "copy of the previous file: {} (`switchyard env --restore` undoes only Switchyard's variables)",
                backup.display()
            );
        }
    }
    let p = settings_path.clone();
    let settings = blocking(move || claude_code::ClaudeSettings::load(&p))
        .await??
        .unwrap_or_default();
    let shell: Vec<(String, String)> = std::env::vars().collect();
    for conflict in claude_code::conflicts(
        &settings,
        shell.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &base_url,
    ) {
        eprintln!("warning: {}", conflict.message);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn import_litellm(
    config_flag: Option<PathBuf>,
    file: &std::path::Path,
    dry_run: bool,
    profile: Option<String>,
) -> anyhow::Result<ExitCode> {
    use switchyard_core::litellm;
    let path = config_path(config_flag)?;
    let yaml = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the LiteLLM config {}", file.display()))?;
    let p = path.clone();
    let imported = blocking(move || {
        let options = litellm::ImportOptions {
            profile: profile.as_deref(),
            dry_run,
        };
        litellm::import_into(&p, &yaml, options, &KeychainStore::default())
    })
    .await?
    .with_context(|| format!("{} was not imported", file.display()))?;
    print!("{}", litellm::render(&imported.report));
    if imported.config.is_some()
        && let Ok(cfg) = config::load(&path)
        && running_instance(&cfg).await.is_some()
    {
        println!(
            "\nA Switchyard is running at http://{}: it uses the imported config once restarted.",
            cfg.listen
        );
    }
    Ok(ExitCode::SUCCESS)
}
