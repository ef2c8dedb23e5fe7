//! `switchyard usage`: recent requests and totals from the usage database, or a CSV export.
//! Reads the database directly (read-only), so it works while `switchyard serve` runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use switchyard_core::budget::{format_utc_ms, utc_midnight_ms};
use switchyard_core::engine::data_dir;
use switchyard_core::usage::{
    DB_FILE_NAME, Filter, GroupBy, MAX_SESSIONS, RequestRow, SessionSummary, Totals, UsageStore,
    write_csv,
};

#[derive(Args)]
pub struct UsageArgs {
    /// Only requests since this long ago (`30m`, `24h`, `7d`) or this UTC date (`2026-11-01`).
    #[arg(long)]
    since: Option<String>,
    /// Only requests for this (requested) model.
    #[arg(long)]
    model: Option<String>,
    /// Only requests answered by this backend.
    #[arg(long)]
    backend: Option<String>,
    /// Only requests of this Claude Code session.
    #[arg(long)]
    session: Option<String>,
    /// Print every matching request as CSV instead of the summary.
    #[arg(long, conflicts_with = "by")]
    csv: bool,
    /// One line per session (start, duration, requests, tokens, cost, models, subagents)
    /// instead of the summary.
    #[arg(long, value_enum)]
    by: Option<By>,
    /// Recent requests shown in the summary.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Where the usage database is (default: SWITCHYARD_DATA_DIR, else the OS data dir).
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum By {
    /// Claude Code sessions, newest first.
    Session,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `7d`, `24h`, `30m` before `now_ms`, or a `YYYY-MM-DD` date (UTC midnight).
fn parse_since(text: &str, now_ms: i64) -> anyhow::Result<i64> {
    let text = text.trim();
    let unit_ms = match text.chars().last() {
        Some('d') => Some(86_400_000),
        Some('h') => Some(3_600_000),
        Some('m') => Some(60_000),
        _ => None,
    };
    if let Some(unit_ms) = unit_ms
        && let Ok(n) = text[..text.len() - 1].parse::<i64>()
    {
        return Ok(now_ms - n.saturating_mul(unit_ms));
    }
    let parts: Vec<&str> = text.split('-').collect();
    if let [y, m, d] = parts.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse())
        && let Some(ms) = utc_midnight_ms(y, m, d)
    {
        return Ok(ms);
    }
    bail!("--since {text:?}: use a duration such as 7d, 24h or 30m, or a date such as 2026-11-01")
}

fn usd(value: Option<f64>) -> String {
    match value {
        Some(v) if v >= 0.01 || v == 0.0 => format!("${v:.2}"),
        Some(v) => format!("${v:.4}"),
        None => "?".to_owned(),
    }
}

fn tokens(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n if n >= 10_000 => format!("{:.0}k", n as f64 / 1e3),
        n => n.to_string(),
    }
}

fn print_requests(out: &mut impl Write, rows: &[RequestRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<26} {:<12} {:<9} {:>7} {:>7} {:>7} {:>8} {:>9}",
        "time (UTC)", "model", "backend", "status", "in", "out", "cached", "latency", "cost"
    )?;
    for r in rows {
        let cost = if r.local {
            format!("{} local", usd(r.cloud_equiv_usd))
        } else {
            usd(r.cost_usd)
        };
        writeln!(
            out,
            "{:<19}  {:<26} {:<12} {:<9} {:>7} {:>7} {:>7} {:>7.1}s {:>9}",
            format_utc_ms(r.started_at_ms),
            truncate(&r.requested_model, 26),
            truncate(r.backend.as_deref().unwrap_or("-"), 12),
            r.status,
            tokens(r.input_tokens),
            tokens(r.output_tokens),
            tokens(r.cache_read_tokens),
            r.latency_ms as f64 / 1000.0,
            cost
        )?;
    }
    Ok(())
}

/// `1h 05m`, `3m 20s`, `12s`.
fn duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

fn print_sessions(out: &mut impl Write, sessions: &[SessionSummary]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<36} {:>8} {:>5} {:>7} {:>7} {:>9} {:>5}  models",
        "start (UTC)", "session", "duration", "req", "in", "out", "cost", "subag"
    )?;
    for s in sessions {
        let t = &s.totals;
        writeln!(
            out,
            "{:<19}  {:<36} {:>8} {:>5} {:>7} {:>7} {:>9} {:>5}  {}",
            format_utc_ms(s.started_at_ms),
            truncate(&s.session_id, 36),
            duration(s.ended_at_ms - s.started_at_ms),
            t.requests,
            tokens(t.input_tokens),
            tokens(t.output_tokens),
            if t.unpriced > 0 && t.cost_usd == 0.0 {
                "?".to_owned()
            } else {
                usd(Some(t.cost_usd))
            },
            s.subagents(),
            s.models.join(", ")
        )?;
        // Each agent on its own line when subagents took part.
        if s.subagents() > 0 {
            for a in &s.agents {
                writeln!(
                    out,
                    "{:<21}{:<36} {:>8} {:>5} {:>7} {:>7} {:>9} {:>5}  {}",
                    "",
                    format!(
                        "  {}",
                        truncate(a.agent_id.as_deref().unwrap_or("main agent"), 34)
                    ),
                    "",
                    a.totals.requests,
                    tokens(a.totals.input_tokens),
                    tokens(a.totals.output_tokens),
                    usd(Some(a.totals.cost_usd)),
                    "",
                    a.models.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

fn print_totals(out: &mut impl Write, label: &str, t: &Totals) -> std::io::Result<()> {
    writeln!(
        out,
        "{label:<28} {:>6} req {:>4} err  in {:>7}  out {:>7}  cached {:>7}  cost {:>9}{}  saved {:>9}",
        t.requests,
        t.errors,
        tokens(t.input_tokens),
        tokens(t.output_tokens),
        tokens(t.cache_read_tokens),
        usd(Some(t.cost_usd)),
        if t.unpriced > 0 {
            format!(" (+{} unpriced)", t.unpriced)
        } else {
            String::new()
        },
        usd(Some(t.saved_usd)),
    )
}

pub async fn run(args: UsageArgs) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("a background task failed")?
}

fn run_blocking(args: UsageArgs) -> anyhow::Result<ExitCode> {
    let path = data_dir(args.data_dir)?.join(DB_FILE_NAME);
    if !path.exists() {
        eprintln!(
            "no usage recorded yet ({} does not exist; `switchyard serve` creates it)",
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = UsageStore::open_read_only(&path)?;
    let filter = Filter {
        since_ms: args
            .since
            .as_deref()
            .map(|s| parse_since(s, now_ms()))
            .transpose()?,
        model: args.model,
        backend: args.backend,
        session_id: args.session,
        ..Filter::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.csv {
        write_csv(&store, &filter, &mut out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(By::Session) = args.by {
        let sessions = store.sessions(&filter, args.limit.min(MAX_SESSIONS))?;
        if sessions.is_empty() {
            writeln!(
                out,
                "no Claude Code sessions in this range (requests without a session id are not counted)"
            )?;
        } else {
            print_sessions(&mut out, &sessions)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = store.recent(&filter, args.limit, 0)?;
    rows.reverse();
    print_requests(&mut out, &rows)?;
    writeln!(out)?;
    print_totals(&mut out, "total", &store.totals(&filter)?)?;
    for group in store.by(&filter, GroupBy::Model)? {
        print_totals(
            &mut out,
            &format!("  {}", truncate(&group.key, 26)),
            &group.totals,
        )?;
    }
    let savings = store.savings(&filter)?;
    writeln!(
        out,
        "\nlocal: {} requests (worth {} at the requested models' prices); cloud: {} requests, {}; saved {}",
        savings.local.requests,
        usd(Some(savings.local.cloud_equiv_usd)),
        savings.cloud.requests,
        usd(Some(savings.cloud.cost_usd)),
        usd(Some(savings.saved_usd)),
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_since;

    #[test]
    fn since_accepts_durations_and_dates() {
        let now = 1_795_435_200_000; // 2026-11-23T12:00:00Z
        assert_eq!(parse_since("7d", now).ok(), Some(now - 7 * 86_400_000));
        assert_eq!(parse_since("24h", now).ok(), Some(now - 86_400_000));
        assert_eq!(parse_since("30m", now).ok(), Some(now - 1_800_000));
        assert_eq!(parse_since("2026-11-01", now).ok(), Some(1_793_491_200_000));
        for bad in ["yesterday", "2026-13-01", "7w", ""] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
