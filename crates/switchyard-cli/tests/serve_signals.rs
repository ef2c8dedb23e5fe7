//! The usage history survives the way `switchyard serve` ends: SIGTERM writes every finished
//! request; SIGKILL under load leaves a sound database that holds every request finished
//! before the writer's last commit interval. The real binary, a real SQLite file, a fake
//! Anthropic upstream on loopback.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchyard_core::usage::{DB_FILE_NAME, Filter, UsageStore};

const TOKEN: &str = "sy-test-token-for-the-signal-tests-0123456789";

/// A `switchyard serve` child; killed by PID when dropped (if still running).
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path, upstream: std::net::SocketAddr) -> Served {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nactive_profile = \"p\"\n\n[[backends]]\nid = \"fake\"\nkind = \"anthropic\"\nbase_url = \"http://{upstream}\"\napi_key_env = \"FAKE_UPSTREAM_KEY\"\n\n[profiles.p]\ndefault = {{ backend = \"fake\" }}\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--config"])
        .arg(&config)
        .env("SWITCHYARD_DATA_DIR", dir.join("data"))
        .env("SWITCHYARD_TOKEN", TOKEN)
        .env("FAKE_UPSTREAM_KEY", "sk-fake")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    // Keep reading (and discarding) so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    Served {
        child,
        url: format!("http://{addr}/v1/messages"),
    }
}

fn start_upstream(rt: &tokio::runtime::Runtime) -> std::net::SocketAddr {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(fake_upstream::serve(
        listener,
        fake_upstream::Options::default(),
    ));
    addr
}

/// One request tagged with `id` (as Claude Code's session header, which lands in the row).
async fn request(client: &reqwest::Client, url: &str, id: &str, stream: bool) -> bool {
    let body = format!(
        r#"{{"model":"claude-sonnet-4-5","max_tokens":64,"stream":{stream},"messages":[{{"role":"user","content":"hello {id}"}}]}}"#
    );
    let Ok(response) = client
        .post(url)
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .header("x-claude-code-session-id", id)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    else {
        return false;
    };
    response.status().is_success() && response.bytes().await.is_ok()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "switchyard serve did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stored_sessions(dir: &Path) -> (UsageStore, HashSet<String>) {
    let store = UsageStore::open(&dir.join("data").join(DB_FILE_NAME)).unwrap();
    let rows = store.recent(&Filter::default(), 100_000, 0).unwrap();
    let ids = rows.into_iter().filter_map(|r| r.session_id).collect();
    (store, ids)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn sigterm_writes_every_finished_request() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream = start_upstream(&rt);
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), upstream);
    let client = reqwest::Client::new();
    let mut sent = Vec::new();
    for i in 0..40 {
        let id = format!("term-{i}");
        assert!(rt.block_on(request(&client, &served.url, &id, i % 2 == 0)));
        sent.push(id);
    }
    // At once: the last rows are still in the writer's batch, not yet committed.
    signal(&served.child, "TERM");
    let status = wait_exit(&mut served.child, Duration::from_secs(20));
    assert!(status.success(), "exit status {status}");
    let (store, stored) = stored_sessions(dir.path());
    let missing: Vec<_> = sent.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(missing.is_empty(), "lost on SIGTERM: {missing:?}");
    let totals = store.totals(&Filter::default()).unwrap();
    assert_eq!(totals.requests, 40);
    assert_eq!(totals.errors, 0);
    assert!(totals.input_tokens > 0 && totals.output_tokens > 0);
}

#[test]
fn sigkill_under_load_keeps_a_sound_database_and_the_committed_rows() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream = start_upstream(&rt);
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), upstream);
    let client = reqwest::Client::new();
    // (id, wall-clock ms when the client had the whole answer)
    let finished: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_secs(3);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (client, url, finished) = (client.clone(), served.url.clone(), finished.clone());
            rt.spawn(async move {
                let mut i = 0;
                while Instant::now() < stop_at {
                    let id = format!("kill-{w}-{i}");
                    if request(&client, &url, &id, i % 3 == 0).await {
                        finished.lock().unwrap().push((id, now_ms()));
                    }
                    i += 1;
                }
            })
        })
        .collect();
    // Kill mid-load: the workers are still sending.
    std::thread::sleep(Duration::from_millis(2500));
    let killed_at = now_ms();
    signal(&served.child, "KILL");
    wait_exit(&mut served.child, Duration::from_secs(10));
    for w in workers {
        rt.block_on(w).unwrap();
    }
    let (store, stored) = stored_sessions(dir.path());
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // The writer commits at least every 250 ms; a second of margin for a loaded machine.
    let cutoff = killed_at - 1000;
    let finished = finished.lock().unwrap();
    let due: Vec<_> = finished.iter().filter(|(_, at)| *at < cutoff).collect();
    assert!(
        due.len() > 20,
        "too little load to test anything: {}",
        due.len()
    );
    let missing: Vec<_> = due
        .iter()
        .filter(|(id, _)| !stored.contains(id))
        .map(|(id, _)| id)
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} requests finished over 1 s before the kill are missing: {missing:?}",
        missing.len(),
        due.len()
    );
}

/// A half-sent request cannot hold `serve` up: SIGTERM drains for a bounded time, and a
/// second signal exits at once (it used to wait forever, second signal or not).
#[test]
fn a_second_signal_exits_at_once_even_with_a_half_sent_request() {
    use std::io::Write;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream = start_upstream(&rt);
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), upstream);
    let addr = served
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/v1/messages")
        .to_owned();
    let mut half = std::net::TcpStream::connect(&addr).unwrap();
    half.write_all(b"POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    signal(&served.child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    signal(&served.child, "INT");
    let second = Instant::now();
    wait_exit(&mut served.child, Duration::from_secs(2));
    assert!(second.elapsed() < Duration::from_secs(2));
}
