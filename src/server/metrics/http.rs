//! The metrics listener: HTTP/1.1 (hyper) answering `GET /metrics` with the
//! text the node's thread renders. A scrape is a question sent to the edge
//! loop ([`Scrape`]); the edge answers from a render at most a second old,
//! so a flood of scrapes cannot take the packet path's time.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// A scrape waiting for its text: the edge sends the rendered metrics back.
pub type Scrape = oneshot::Sender<String>;

/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 8;
/// A client that has not sent its request head within this is dropped.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds the metrics listener at `addr` (before the server reports itself
/// ready). Errors: the address cannot be bound (in use, not local, no
/// permission), named in the message.
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)
        .map_err(|e| std::io::Error::new(e.kind(), format!("server.metrics {addr}: {e}")))?;
    l.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(l)
}

/// Serves `listener` until the task is aborted; each `GET /metrics` asks
/// the edge through `scrapes`.
pub async fn serve(listener: tokio::net::TcpListener, scrapes: mpsc::Sender<Scrape>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let scrapes = scrapes.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(req, scrapes.clone()));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection ended");
            }
            drop(permit);
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    scrapes: mpsc::Sender<Scrape>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, text: String| {
        let mut r = Response::new(Full::new(Bytes::from(text)));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/metrics" {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            "tandem serves /metrics only\n".into(),
        ));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
        r.headers_mut()
            .insert(ALLOW, "GET, HEAD".parse().expect("static header"));
        return Ok(r);
    }
    let (tx, rx) = oneshot::channel();
    let text = match scrapes.send(tx).await {
        Ok(()) => rx.await.ok(),
        Err(_) => None,
    };
    Ok(match text {
        Some(t) => {
            let mut r = reply(StatusCode::OK, t);
            r.headers_mut()
                .insert(CONTENT_TYPE, OPENMETRICS.parse().expect("static header"));
            r
        }
        None => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "tandem is stopping\n".into(),
        ),
    })
}
