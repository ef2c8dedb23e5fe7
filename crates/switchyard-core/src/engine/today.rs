//! Today's counters for a status display (the app's tray and Overview), kept by the engine so
//! that reading them costs no I/O: the tray draws on the UI thread. Once followed, they are
//! re-read from the usage database after requests finish (when the writer has committed
//! them) and every minute (the day rolls over; `switchyard serve` may write the same
//! database). `switchyard serve` alone never follows them and pays nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::{Engine, EngineError, EngineEvent};
use crate::usage::Today;

/// How often the counters are re-read without a request of ours.
const POLL: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(super) struct TodayCache(Mutex<Today>);

impl TodayCache {
    pub(super) fn get(&self) -> Today {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stores `fresh`; whether it differs from what was there.
    fn set(&self, fresh: Today) -> bool {
        let mut today = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let changed = *today != fresh;
        *today = fresh;
        changed
    }
}

impl Engine {
    /// Re-reads today's counters from the usage database now (none without one).
    pub async fn refresh_today(&self) -> Result<(), EngineError> {
        if let Some(reader) = self.usage_reader() {
            let fresh = reader.today().await?;
            self.inner.today.set(fresh);
        }
        Ok(())
    }

    /// Keeps today's counters current for as long as the engine runs, announcing each change
    /// with [`EngineEvent::UsageStored`]. A burst of requests is one re-read.
    pub fn follow_today(&self) {
        let Some(reader) = self.usage_reader() else {
            return;
        };
        let mut events = self.subscribe();
        let engine = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut ours = true;
            loop {
                let Some(inner) = engine.upgrade() else {
                    return;
                };
                let engine = Engine { inner };
                if ours && let Err(err) = engine.flush_usage().await {
                    tracing::warn!(%err, "the usage writer did not flush");
                }
                match reader.today().await {
                    Ok(fresh) => {
                        if engine.inner.today.set(fresh) || ours {
                            engine.gateway().emit(EngineEvent::UsageStored);
                        }
                    }
                    Err(err) => tracing::warn!(%err, "could not read today's usage"),
                }
                drop(engine);
                ours = match next_request(&mut events).await {
                    Some(ours) => ours,
                    None => return,
                };
            }
        });
    }
}

/// Waits for a finished request (`Some(true)`) or the poll interval (`Some(false)`), then
/// takes every event already queued so a burst makes one pass; `None` once the engine is gone.
async fn next_request(events: &mut tokio::sync::broadcast::Receiver<EngineEvent>) -> Option<bool> {
    let deadline = tokio::time::Instant::now() + POLL;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => return Some(false),
            Ok(Ok(EngineEvent::RequestFinished(_)) | Err(RecvError::Lagged(_))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(RecvError::Closed)) => return None,
        }
    }
    loop {
        match events.try_recv() {
            Ok(_) | Err(TryRecvError::Lagged(_)) => {}
            Err(TryRecvError::Empty) => return Some(true),
            Err(TryRecvError::Closed) => return None,
        }
    }
}
