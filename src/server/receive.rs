//! Reading the served interfaces' sockets from the node's own task: each
//! datagram is read, parsed and handed to the node in one step, with no
//! queue or task switch between the socket and the node (the socket's
//! receive buffer is the queue). Parsing here keeps malformed packets off
//! the engine; datagrams the kernel dropped for a full buffer are counted
//! from SO_RXQ_OVFL.

use crate::dhcp::RecvContext;
use crate::net::DhcpSocket;
use crate::node::Received;
use crate::proto::{ParseError, Request};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The least time between two log lines about one socket's receive errors.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

/// What one read gave.
pub enum RecvEvent {
    /// A request that parsed.
    Packet(Box<Received>),
    /// A datagram that is not a DHCP request.
    Malformed(ParseError),
    /// A datagram longer than any DHCP message tandem accepts.
    Oversized,
    /// The socket reported an error (logged here, at most every
    /// [`ERROR_LOG_EVERY`] per socket); it stays open.
    Failed,
}

/// One read: its event, and how many datagrams the kernel dropped on that
/// socket for a full receive buffer (the server was overloaded) since the
/// previous read. The kernel reports drops with the first datagram queued
/// after them, so they are counted when traffic resumes, not as they happen.
pub struct Read {
    pub event: RecvEvent,
    pub dropped: u64,
}

/// The served sockets, read in turn.
pub struct Receiver {
    sockets: Vec<Arc<DhcpSocket>>,
    /// Per socket: the address identifying its link (for directly attached
    /// clients), and the kernel's drop counter as last seen.
    links: Vec<Option<Ipv4Addr>>,
    drops: Vec<u32>,
    /// Per socket: when its last receive error was logged, and the errors
    /// not logged since.
    errors: Vec<(Option<Instant>, u64)>,
    /// The socket to try first on the next read, so a busy interface cannot
    /// starve another.
    next: usize,
    buf: Vec<u8>,
}

impl Receiver {
    /// Reads `sockets`; `links[i]` is socket `i`'s link address.
    pub fn new(sockets: Vec<Arc<DhcpSocket>>, links: Vec<Option<Ipv4Addr>>) -> Receiver {
        let n = sockets.len();
        Receiver {
            sockets,
            links,
            drops: vec![0; n],
            errors: vec![(None, 0); n],
            next: 0,
            buf: vec![0u8; 2048],
        }
    }

    /// The next datagram from any socket, parsed. Cancel-safe: a datagram is
    /// read only in the poll that returns it.
    pub async fn recv(&mut self) -> Read {
        std::future::poll_fn(|cx| {
            let n = self.sockets.len();
            for k in 0..n {
                let i = (self.next + k) % n;
                if let Poll::Ready(r) = self.sockets[i].poll_recv(cx, &mut self.buf) {
                    self.next = (i + 1) % n;
                    return Poll::Ready(self.read(i, r));
                }
            }
            Poll::Pending
        })
        .await
    }

    fn read(&mut self, i: usize, r: std::io::Result<crate::net::dhcp_socket::Received>) -> Read {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.log_error(i, &e);
                return Read {
                    event: RecvEvent::Failed,
                    dropped: 0,
                };
            }
        };
        let dropped = r.dropped.map_or(0, |d| {
            let new = d.wrapping_sub(self.drops[i]);
            self.drops[i] = d;
            u64::from(new)
        });
        let event = if r.truncated || r.len > crate::proto::packet::MAX_LEN {
            RecvEvent::Oversized
        } else {
            match Request::parse(&self.buf[..r.len]) {
                Ok(req) => RecvEvent::Packet(Box::new(Received {
                    req,
                    ctx: RecvContext {
                        ifindex: r.ifindex,
                        local: r.local,
                        link: self.links[i],
                        broadcast: r.dst.is_broadcast() || r.dst != r.local,
                    },
                    socket: i,
                    arrived: r.arrived.map(crate::time::Time),
                })),
                Err(e) => RecvEvent::Malformed(e),
            }
        };
        Read { event, dropped }
    }

    /// Logs socket `i`'s receive error, unless one was logged less than
    /// [`ERROR_LOG_EVERY`] ago (then it is counted for the next line).
    fn log_error(&mut self, i: usize, e: &std::io::Error) {
        let (last, quiet) = &mut self.errors[i];
        if last.is_some_and(|t| t.elapsed() < ERROR_LOG_EVERY) {
            *quiet += 1;
            return;
        }
        let iface = &self.sockets[i].iface.name;
        tracing::warn!(%iface, error = %e, not_logged = *quiet, "receive failed");
        *last = Some(Instant::now());
        *quiet = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DirectUnicast;
    use crate::net::Interface;
    use std::time::Duration;

    /// A datagram the kernel drops for a full receive buffer is counted once,
    /// on the next read, as overload.
    #[tokio::test]
    async fn kernel_drops_for_a_full_buffer_are_counted_once() {
        let port = 20_000 + (std::process::id() % 20_000) as u16;
        let lo = Interface::lookup("lo").expect("lo");
        let socket = match DhcpSocket::open(lo, port, port + 1, DirectUnicast::Broadcast) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("skipping: cannot open a DHCP socket on lo ({e}); needs root");
                return;
            }
        };
        let mut r = Receiver::new(vec![Arc::new(socket)], vec![None]);
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        // More than the receive buffer holds (a few MiB), never read meanwhile.
        let sent = 40_000u64;
        for _ in 0..sent {
            let _ = sender.send_to(&[0u8; 300], ("127.0.0.1", port));
        }
        let (mut received, mut dropped) = (0u64, 0u64);
        let mut read_all = async |r: &mut Receiver| {
            while let Ok(read) = tokio::time::timeout(Duration::from_millis(200), r.recv()).await {
                assert!(
                    matches!(read.event, RecvEvent::Malformed(_)),
                    "zeros are no request"
                );
                received += 1;
                dropped += read.dropped;
            }
        };
        read_all(&mut r).await;
        // The kernel stamps its drop count on the datagrams queued after the
        // drops: the next one carries it.
        sender.send_to(&[0u8; 300], ("127.0.0.1", port)).unwrap();
        read_all(&mut r).await;
        let sent = sent + 1;
        assert!(received > 1, "the buffered datagrams are read");
        assert!(dropped > 0, "the drops are counted");
        assert!(
            received + dropped <= sent,
            "{received} + {dropped} <= {sent}"
        );
        assert!(
            received + dropped >= sent * 9 / 10,
            "nearly every datagram is either read or counted: {received} + {dropped} of {sent}"
        );
    }
}
