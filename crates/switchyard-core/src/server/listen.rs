//! The accept loop: hyper's HTTP/1 server under our own limits, which `axum::serve` does not
//! offer. A client must send its request head within [`HEADER_READ_TIMEOUT`] (half-sent
//! requests used to stay open forever, token or not), at most [`MAX_CONNECTIONS`] are served at
//! once (1,100 idle sockets starved real clients under a 1,024-file limit; past the cap new
//! connections wait in the kernel's backlog), and shutdown waits for in-flight requests at most
//! [`DRAIN_DEADLINE`] (one half-sent request kept SIGTERM from ever finishing).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};

pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_CONNECTIONS: usize = 512;
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(15);

/// Serves `app` on `listener` until `stop` fires, then drains for at most [`DRAIN_DEADLINE`]
/// and closes whatever is left.
pub async fn serve(listener: TcpListener, app: Router, stop: oneshot::Receiver<()>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (tcp, _) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Without TCP_NODELAY, Nagle holds each small SSE event until the client's delayed
        // ACK: 20-45 ms added per streamed chunk.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY on an accepted socket");
        }
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
        connections.spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%err, "connection ended with an error");
            }
            drop(permit);
        });
        // Finished connections are reaped as we go, so the set stays as small as the load.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_DEADLINE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still running after {} s; closing them",
            DRAIN_DEADLINE.as_secs()
        );
    }
    connections.shutdown().await;
}
