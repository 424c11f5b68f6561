//! One task per interface: read, parse, hand to the engine task. Parsing here
//! keeps malformed packets off the engine; a full queue drops (and counts).

use crate::dhcp::RecvContext;
use crate::net::DhcpSocket;
use crate::node::Received;
use crate::proto::{ParseError, Request};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

pub enum RecvEvent {
    Packet(Box<Received>),
    Malformed(ParseError),
    Oversized,
}

pub async fn run(
    socket: Arc<DhcpSocket>,
    index: usize,
    link: Option<Ipv4Addr>,
    tx: mpsc::Sender<RecvEvent>,
    dropped: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; 2048];
    loop {
        let r = match socket.recv(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(iface = %socket.iface.name, error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let ev = if r.truncated || r.len > crate::proto::packet::MAX_LEN {
            RecvEvent::Oversized
        } else {
            match Request::parse(&buf[..r.len]) {
                Ok(req) => {
                    let ctx = RecvContext {
                        ifindex: r.ifindex,
                        local: r.local,
                        link,
                        broadcast: r.dst.is_broadcast() || r.dst != r.local,
                    };
                    RecvEvent::Packet(Box::new(Received {
                        req,
                        ctx,
                        socket: index,
                    }))
                }
                Err(e) => RecvEvent::Malformed(e),
            }
        };
        if tx.try_send(ev).is_err() {
            dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
