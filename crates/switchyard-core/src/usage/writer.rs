//! The usage writer: a bounded queue in front of one thread that owns the database
//! connection, prices records and commits them in batches. The request path only ever does a
//! non-blocking `try_send`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::budget::{SpendTotals, month_start_ms};
use crate::config::Config;
use crate::metrics::Metrics;

use super::{PricedRecord, Pricer, UsageError, UsageRecord, UsageSink, UsageStore};

#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Rows queued at most; beyond, rows are dropped and counted.
    pub queue: usize,
    /// Rows per transaction at most.
    pub batch_rows: usize,
    /// Longest a queued row waits before its batch is committed.
    pub batch_interval: Duration,
    /// Delete requests older than this many days (checked at start, then daily).
    pub retention_days: Option<u32>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            queue: 16_384,
            batch_rows: 1024,
            batch_interval: Duration::from_millis(250),
            retention_days: None,
        }
    }
}

enum Msg {
    Row(Box<UsageRecord>),
    Flush(SyncSender<()>),
    Retention(u32, SyncSender<Result<u64, UsageError>>),
    Stop,
}

/// The usage sink of a running engine.
pub struct UsageWriter {
    tx: SyncSender<Msg>,
    /// Cuts a batch's gathering short (flush, shutdown); rows never use it.
    wake: mpsc::Sender<()>,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    last_warning: Mutex<Option<Instant>>,
    dropped_unreported: AtomicU64,
}

struct Shared {
    pricer: ArcSwap<Pricer>,
    retention_days: AtomicU32,
    metrics: Arc<Metrics>,
    spend: Arc<SpendTotals>,
    committed: AtomicU64,
    /// The last commit failed: why (cleared by the next one that succeeds).
    problem: Mutex<Option<String>>,
}

/// How often a full queue is reported in the log.
const WARN_EVERY: Duration = Duration::from_secs(10);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl UsageWriter {
    /// Seed `spend` from the store (this month's costs), then start the writer thread.
    pub fn start(
        store: UsageStore,
        options: WriterOptions,
        pricer: Pricer,
        metrics: Arc<Metrics>,
        spend: Arc<SpendTotals>,
    ) -> Result<Arc<UsageWriter>, UsageError> {
        let now = now_ms();
        for (hour_ms, profile, backend, usd) in store.costs_since(month_start_ms(now))? {
            let backend = Some(backend.as_str()).filter(|b| !b.is_empty());
            spend.add(hour_ms, &profile, backend, usd);
        }
        let (tx, rx) = mpsc::sync_channel(options.queue.max(1));
        let (wake, wake_rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            pricer: ArcSwap::from_pointee(pricer),
            retention_days: AtomicU32::new(options.retention_days.unwrap_or(0)),
            metrics,
            spend,
            committed: AtomicU64::new(0),
            problem: Mutex::new(None),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("switchyard-usage".into())
            .spawn(move || run(store, rx, wake_rx, &options, &thread_shared))
            .map_err(|_| UsageError::WriterStopped)?;
        Ok(Arc::new(UsageWriter {
            tx,
            wake,
            shared,
            thread: Mutex::new(Some(thread)),
            last_warning: Mutex::new(None),
            dropped_unreported: AtomicU64::new(0),
        }))
    }

    /// Use a new config's prices, backends and retention from the next batch on.
    pub fn set_config(&self, config: &Config) {
        self.shared
            .pricer
            .store(Arc::new(Pricer::from_config(config)));
        self.shared
            .retention_days
            .store(config.usage.retention_days.unwrap_or(0), Ordering::Relaxed);
    }

    /// Rows committed to the database so far.
    pub fn committed_rows(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    /// Rows dropped because the queue was full (or the writer had stopped).
    pub fn dropped_rows(&self) -> u64 {
        self.shared.metrics.dropped_rows()
    }

    /// Block until every row queued before this call is committed.
    pub fn flush(&self) -> Result<(), UsageError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Flush(ack))
            .map_err(|_| UsageError::WriterStopped)?;
        let _ = self.wake.send(());
        done.recv().map_err(|_| UsageError::WriterStopped)
    }

    /// Delete requests older than `days` days now, on the writer's thread, rather than at the
    /// next daily check (a user who lowers retention expects it applied). Blocking; returns
    /// the requests deleted.
    pub fn apply_retention_now(&self, days: u32) -> Result<u64, UsageError> {
        let (ack, done) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Retention(days, ack))
            .map_err(|_| UsageError::WriterStopped)?;
        let _ = self.wake.send(());
        done.recv().map_err(|_| UsageError::WriterStopped)?
    }

    /// Commit everything queued and stop the thread (blocking; later calls do nothing).
    pub fn shutdown(&self) {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = self.tx.send(Msg::Stop);
            let _ = self.wake.send(());
            if thread.join().is_err() {
                tracing::error!("the usage writer thread panicked");
            }
        }
    }

    fn dropped(&self) {
        self.shared.metrics.add_dropped(1);
        let unreported = self.dropped_unreported.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_warning.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
            *last = Some(Instant::now());
            self.dropped_unreported
                .fetch_sub(unreported, Ordering::Relaxed);
            tracing::warn!(
                rows = unreported,
                total = self.shared.metrics.dropped_rows(),
                "usage rows dropped: the usage database cannot keep up (slow disk?)"
            );
        }
    }
}

impl UsageSink for UsageWriter {
    fn record(&self, record: UsageRecord) {
        match self.tx.try_send(Msg::Row(Box::new(record))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.dropped(),
        }
    }

    fn problem(&self) -> Option<String> {
        self.shared
            .problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn run(
    mut store: UsageStore,
    rx: mpsc::Receiver<Msg>,
    wake: mpsc::Receiver<()>,
    options: &WriterOptions,
    shared: &Shared,
) {
    let mut batch: Vec<UsageRecord> = Vec::with_capacity(options.batch_rows);
    let mut last_retention: Option<Instant> = None;
    loop {
        retention(&mut store, shared, &mut last_retention);
        // Idle: park until the first row of the next batch (or a minute, for retention).
        let first = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if let Flow::Stop = handle(first, &mut store, shared, options, &mut batch) {
            return finish(&rx, &mut store, shared, options, &mut batch);
        }
        if !batch.is_empty() {
            // Gather the rest of the batch by waiting on `wake`, not on the rows' channel: a
            // receiver parked there makes every sender wake this thread (a context switch
            // per request, on the cores that serve requests). Flush and shutdown do wake it.
            // (A stale wake-up from a flush handled while idle only ends one batch early.)
            let _ = wake.recv_timeout(options.batch_interval);
        }
        loop {
            match rx.try_recv() {
                Ok(msg) => {
                    if let Flow::Stop = handle(msg, &mut store, shared, options, &mut batch) {
                        return finish(&rx, &mut store, shared, options, &mut batch);
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    commit(&mut store, shared, &mut batch);
                    return;
                }
            }
        }
        commit(&mut store, shared, &mut batch);
    }
}

/// After a stop: rows of requests that finished meanwhile are written too.
fn finish(
    rx: &mpsc::Receiver<Msg>,
    store: &mut UsageStore,
    shared: &Shared,
    options: &WriterOptions,
    batch: &mut Vec<UsageRecord>,
) {
    while let Ok(msg) = rx.try_recv() {
        let _ = handle(msg, store, shared, options, batch);
    }
    commit(store, shared, batch);
}

enum Flow {
    Continue,
    Stop,
}

/// One message: rows join the batch (committed when full), a flush commits and answers, a
/// stop commits everything still queued.
fn handle(
    msg: Msg,
    store: &mut UsageStore,
    shared: &Shared,
    options: &WriterOptions,
    batch: &mut Vec<UsageRecord>,
) -> Flow {
    match msg {
        Msg::Row(record) => {
            batch.push(*record);
            if batch.len() >= options.batch_rows {
                commit(store, shared, batch);
            }
            Flow::Continue
        }
        Msg::Flush(ack) => {
            commit(store, shared, batch);
            let _ = ack.send(());
            Flow::Continue
        }
        Msg::Retention(days, ack) => {
            commit(store, shared, batch);
            let _ = ack.send(store.apply_retention(days, now_ms()));
            Flow::Continue
        }
        Msg::Stop => {
            commit(store, shared, batch);
            Flow::Stop
        }
    }
}

fn commit(store: &mut UsageStore, shared: &Shared, batch: &mut Vec<UsageRecord>) {
    if batch.is_empty() {
        return;
    }
    let pricer = shared.pricer.load();
    let rows: Vec<PricedRecord> = batch.drain(..).map(|r| pricer.price(r)).collect();
    // Spend counts whether or not the rows can be written: a hard budget keeps enforcing
    // from memory while the disk is full.
    for row in &rows {
        if let Some(usd) = row.cost_usd.filter(|c| *c > 0.0) {
            let r = &row.record;
            shared
                .spend
                .add(r.started_at_ms, &r.profile, r.backend.as_deref(), usd);
            shared
                .metrics
                .add_cost(r.backend.as_deref().unwrap_or(""), usd);
        }
    }
    let result = store.insert(&rows);
    let mut problem = shared.problem.lock().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(()) => {
            shared
                .committed
                .fetch_add(rows.len() as u64, Ordering::Release);
            *problem = None;
        }
        Err(err) => {
            shared.metrics.add_dropped(rows.len() as u64);
            tracing::error!(%err, rows = rows.len(), "could not write usage rows");
            *problem = Some(format!(
                "Requests are not being recorded in the usage history: {err} (a full disk?). Routing is not affected."
            ));
        }
    }
}

fn retention(store: &mut UsageStore, shared: &Shared, last: &mut Option<Instant>) {
    let days = shared.retention_days.load(Ordering::Relaxed);
    if days == 0 || last.is_some_and(|at| at.elapsed() < DAY) {
        return;
    }
    *last = Some(Instant::now());
    match store.apply_retention(days, now_ms()) {
        Ok(0) => {}
        Ok(n) => tracing::info!(rows = n, days, "deleted usage history past retention"),
        Err(err) => tracing::warn!(%err, "could not apply usage retention"),
    }
}
