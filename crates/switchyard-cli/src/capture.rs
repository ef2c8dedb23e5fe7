//! `switchyard capture …` and `switchyard replay`: the request inspector from a terminal.
//! Turning capture on or off talks to the running gateway (captures happen there); export and
//! delete read the usage database directly; replay goes through the running gateway, or an
//! in-process one on a free loopback port when none runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use switchyard_core::capture::{self, Selection};
use switchyard_core::config;
use switchyard_core::engine::{Engine, EngineOptions, ReplayReport, ReplayTo, data_dir};
use switchyard_core::secrets::KeychainStore;
use switchyard_core::usage::DB_FILE_NAME;

use crate::commands::{blocking, config_path, local_token, running_instance};

#[derive(Subcommand)]
pub enum CaptureAction {
    /// Capture every request for a while (in the running gateway).
    On {
        /// For how long: `30m`, `2h` (at most 24h).
        #[arg(long = "for", value_name = "DURATION", default_value = "30m")]
        duration: String,
        /// At most this many requests.
        #[arg(long)]
        requests: Option<u32>,
    },
    /// Stop capturing (profiles with `capture = true` go on).
    Off,
    /// Whether requests are being captured.
    Status,
    /// Write captures as JSON Lines (to standard output unless --out).
    Export {
        /// One capture's id (from `switchyard usage --csv`'s Capture ID, or the app).
        id: Option<String>,
        /// Every capture since this long ago (`1h`, `7d`).
        #[arg(long, conflicts_with = "id")]
        since: Option<String>,
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The data folder holding the usage database (default: Switchyard's).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Delete one capture, or all of them.
    Delete {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Args)]
pub struct ReplayArgs {
    /// The capture's id.
    id: String,
    /// Send it to this backend (and upstream model): `BACKEND[:MODEL]`.
    #[arg(
        long,
        value_name = "BACKEND[:MODEL]",
        required_unless_present = "profile"
    )]
    to: Option<String>,
    /// Or route it by this profile's rules.
    #[arg(long, value_name = "NAME", conflicts_with = "to")]
    profile: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// `30m`, `2h`, `1d` in minutes.
fn minutes(text: &str) -> anyhow::Result<u32> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let per = match unit {
        "m" => 1,
        "h" => 60,
        "d" => 1440,
        _ => bail!("--for {text:?}: use a duration such as 30m or 2h"),
    };
    let n: u32 = number
        .parse()
        .with_context(|| format!("--for {text:?}: use a duration such as 30m or 2h"))?;
    Ok(n.saturating_mul(per))
}

fn since_ms(text: &str) -> anyhow::Result<i64> {
    let now = switchyard_core::usage::now_ms();
    Ok(now
        - i64::from(
            minutes(text).map_err(|_| {
                anyhow::anyhow!("--since {text:?}: use a duration such as 1h or 7d")
            })?,
        ) * 60_000)
}

fn describe(status: &serde_json::Value) -> String {
    let until = status["window"]["until_ms"].as_i64();
    let left = status["window"]["requests_left"].as_i64();
    let profiles: Vec<&str> = status["profiles"]
        .as_array()
        .map(|p| p.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut parts = Vec::new();
    if let Some(until) = until {
        let at = switchyard_core::usage::iso_utc(until);
        parts.push(match left {
            Some(n) => format!("capturing the next {n} request(s) until {at}"),
            None => format!("capturing every request until {at}"),
        });
    }
    if !profiles.is_empty() {
        parts.push(format!(
            "profiles that always capture: {}",
            profiles.join(", ")
        ));
    }
    match parts.is_empty() {
        true => "not capturing".to_owned(),
        false => parts.join("; "),
    }
}

pub async fn capture(
    config_flag: Option<PathBuf>,
    action: CaptureAction,
) -> anyhow::Result<ExitCode> {
    match action {
        CaptureAction::On { duration, requests } => {
            let body = serde_json::json!({"minutes": minutes(&duration)?, "requests": requests});
            control(config_flag, reqwest::Method::PUT, body).await
        }
        CaptureAction::Off => {
            control(
                config_flag,
                reqwest::Method::PUT,
                serde_json::json!({"off": true}),
            )
            .await
        }
        CaptureAction::Status => {
            control(config_flag, reqwest::Method::GET, serde_json::Value::Null).await
        }
        CaptureAction::Export {
            id,
            since,
            out,
            data_dir: dir,
        } => {
            let selection = match (id, since) {
                (Some(id), _) => Selection::One(id),
                (None, Some(since)) => Selection::Since(since_ms(&since)?),
                (None, None) => Selection::Since(0),
            };
            let db = data_dir(dir)?.join(DB_FILE_NAME);
            let (written, text) = blocking(move || {
                let conn = capture::open(&db)?;
                let mut buffer = Vec::new();
                let n = capture::export_jsonl(&conn, &selection, &mut buffer)?;
                Ok::<_, anyhow::Error>((n, buffer))
            })
            .await??;
            match out {
                Some(path) => {
                    std::fs::write(&path, &text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {written} capture(s) to {}", path.display());
                }
                None => std::io::stdout().write_all(&text)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        CaptureAction::Delete {
            id,
            all,
            data_dir: dir,
        } => {
            if id.is_none() && !all {
                bail!("name the capture to delete, or say --all");
            }
            let db = data_dir(dir)?.join(DB_FILE_NAME);
            let gone = blocking(move || {
                let conn = capture::open(&db)?;
                Ok::<_, anyhow::Error>(capture::delete(&conn, id.as_deref())?)
            })
            .await??;
            println!("deleted {gone} capture(s)");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The running gateway's capture switch.
async fn control(
    config_flag: Option<PathBuf>,
    method: reqwest::Method,
    body: serde_json::Value,
) -> anyhow::Result<ExitCode> {
    let path = config_path(config_flag)?;
    let cfg = blocking(move || config::load(&path)).await??;
    let Some((base, client)) = running_instance(&cfg).await else {
        bail!(
            "no Switchyard is running at {}: capture happens in the running gateway (start the app or `switchyard serve`), or set capture = true on a profile",
            cfg.listen
        );
    };
    let token = local_token().await?;
    let mut request = client
        .request(method, format!("{base}/switchyard/v1/capture"))
        .bearer_auth(token.expose_secret());
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .context("the running instance did not answer")?;
    let ok = response.status().is_success();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !ok {
        bail!(
            "{}",
            body["error"]["message"]
                .as_str()
                .unwrap_or("the running instance refused")
        );
    }
    println!("{}", describe(&body));
    Ok(ExitCode::SUCCESS)
}

fn print_side(name: &str, side: &switchyard_core::engine::ReplayAnswer) {
    let cost = side
        .cost_usd
        .map_or_else(|| "price unknown".to_owned(), |c| format!("${c:.6}"));
    println!(
        "{name}: {} {} — HTTP {}, {} ms, {} in / {} out tokens, {cost}",
        side.backend.as_deref().unwrap_or("?"),
        side.upstream_model.as_deref().unwrap_or(""),
        side.status,
        side.latency_ms,
        side.input_tokens,
        side.output_tokens
    );
    for line in side.text.lines() {
        println!("  {line}");
    }
}

pub async fn replay(config_flag: Option<PathBuf>, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let to = match (&args.to, &args.profile) {
        (Some(target), _) => ReplayTo::parse_target(target),
        (None, Some(profile)) => ReplayTo::Profile(profile.clone()),
        (None, None) => bail!("say where to: --to BACKEND[:MODEL] or --profile NAME"),
    };
    let path = config_path(config_flag)?;
    let p = path.clone();
    let cfg = blocking(move || config::load(&p)).await??;
    let report: ReplayReport = match running_instance(&cfg).await {
        Some((base, client)) => {
            let token = local_token().await?;
            let response = client
                .post(format!("{base}/switchyard/v1/replay"))
                .bearer_auth(token.expose_secret())
                .timeout(std::time::Duration::from_secs(600))
                .json(&serde_json::json!({"id": args.id, "to": to}))
                .send()
                .await
                .context("the running instance did not answer")?;
            let ok = response.status().is_success();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if !ok {
                bail!(
                    "{}",
                    body["error"]["message"]
                        .as_str()
                        .unwrap_or("the running instance refused the replay")
                );
            }
            serde_json::from_value(body).context("the running instance's report")?
        }
        None => {
            // No gateway runs: one of our own, on a free loopback port, for this replay.
            let options = EngineOptions {
                config_path: Some(path),
                listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
                ..EngineOptions::from_env()?
            };
            let engine = Engine::start(options, Arc::new(KeychainStore::default())).await?;
            let report = engine.replay(&args.id, to).await;
            engine.shutdown().await;
            report?
        }
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_side("original", &report.original);
    print_side("replay", &report.replay);
    if let Some(note) = &report.note {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::minutes;

    #[test]
    fn durations_in_minutes() {
        assert_eq!(minutes("30m").unwrap(), 30);
        assert_eq!(minutes("2h").unwrap(), 120);
        assert_eq!(minutes("1d").unwrap(), 1440);
        assert!(minutes("30").is_err());
        assert!(minutes("xm").is_err());
    }
}
