//! What both peer links (`peer_link`, `isc_link`) do alike with TCP:
//! listening on an address that may not be up yet, and accepting through
//! transient errors.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// A listener on `addr`, retrying every 2 s until the bind succeeds (the
/// address may not be configured yet at boot), each failure logged with
/// `what` is listened for.
pub async fn bind_retrying(addr: SocketAddr, what: &str) -> TcpListener {
    loop {
        match TcpListener::bind(addr).await {
            Ok(l) => {
                tracing::info!(listen = %addr, "waiting for {what}");
                return l;
            }
            Err(e) => {
                tracing::error!(listen = %addr, error = %e, "cannot listen for {what}; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// The next connection on `l`, pausing 100 ms after each failed accept
/// (out of file descriptors, a connection reset before it was taken).
pub async fn accept_next(l: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match l.accept().await {
            Ok(x) => return x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
