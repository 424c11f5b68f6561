//! ICMP echo for the ping check (`[server] ping_check`): one socket for
//! every ping, a reader task that matches echo replies to the pings waiting
//! for them by address and sequence number, and a timeout per ping. A raw
//! socket where the process may (CAP_NET_RAW, as the packaged unit grants),
//! else an unprivileged ping socket (`net.ipv4.ping_group_range`).

use socket2::{Domain, Protocol, Socket, Type};
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::oneshot;

/// Pings waiting for their echo reply, by address and sequence number.
type Waiting = Arc<Mutex<HashMap<(Ipv4Addr, u16), oneshot::Sender<()>>>>;

/// ICMP type of an echo request and of an echo reply (RFC 792).
const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;

/// Sends pings and hears their answers.
pub struct Pinger {
    /// The ICMP socket, driven through tokio's datagram socket type (the
    /// calls it makes, sendto and recvfrom, are the same for ICMP).
    sock: Arc<UdpSocket>,
    /// Whether the socket is raw (its datagrams start with the IP header).
    raw: bool,
    waiting: Waiting,
    id: u16,
    seq: AtomicU16,
}

impl Pinger {
    /// Opens the socket and starts the reader task (call within a tokio
    /// runtime). Errors: neither a raw ICMP socket nor a ping socket may be
    /// opened.
    pub fn open() -> io::Result<Pinger> {
        let (sock, raw) = match Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)) {
            Ok(s) => (s, true),
            Err(_) => (
                Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))?,
                false,
            ),
        };
        sock.set_nonblocking(true)?;
        let sock = Arc::new(UdpSocket::from_std(std::net::UdpSocket::from(sock))?);
        let waiting: Waiting = Arc::default();
        let id = (std::process::id() & 0xffff) as u16;
        tokio::spawn(read(sock.clone(), raw.then_some(id), waiting.clone()));
        Ok(Pinger {
            sock,
            raw,
            waiting,
            id,
            seq: AtomicU16::new(0),
        })
    }

    /// Sends one echo request to `addr` and waits up to `timeout` for its
    /// reply: true if it came. A send that fails counts as no answer (the
    /// address is then offered, as without a ping check), with a log line.
    pub async fn ping(&self, addr: Ipv4Addr, timeout: Duration) -> bool {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.lock().insert((addr, seq), tx);
        let to = SocketAddr::V4(SocketAddrV4::new(addr, 0));
        let exchange = async {
            match self.sock.send_to(&echo_request(self.id, seq), to).await {
                Ok(_) => rx.await.is_ok(),
                Err(e) => {
                    tracing::warn!(%addr, error = %e, raw = self.raw, "cannot send the ping check's echo request; offering without it");
                    false
                }
            }
        };
        let answered = tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(false);
        self.lock().remove(&(addr, seq));
        answered
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Ipv4Addr, u16), oneshot::Sender<()>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// An ICMP echo request: type 8, code 0, checksum, identifier, sequence
/// number and 8 octets of payload (RFC 792).
fn echo_request(id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![ECHO_REQUEST, 0, 0, 0];
    p.extend(id.to_be_bytes());
    p.extend(seq.to_be_bytes());
    p.extend(b"tandem\0\0");
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The Internet checksum (RFC 1071) of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The sequence number of an echo reply in `datagram`; `None` for anything
/// else. On a raw socket (`raw_id` set) the datagram starts with the IP
/// header, and a reply must carry our identifier (others' pings are seen
/// too); a ping socket's kernel sorts replies by identifier itself.
fn echo_reply(datagram: &[u8], raw_id: Option<u16>) -> Option<u16> {
    let icmp = match raw_id {
        Some(_) => {
            let ihl = usize::from(datagram.first()? & 0x0f) * 4;
            datagram.get(ihl..)?
        }
        None => datagram,
    };
    if icmp.len() < 8 || icmp[0] != ECHO_REPLY {
        return None;
    }
    let id = u16::from_be_bytes([icmp[4], icmp[5]]);
    raw_id
        .is_none_or(|ours| ours == id)
        .then(|| u16::from_be_bytes([icmp[6], icmp[7]]))
}

/// Reads echo replies for as long as the server runs, waking the ping each
/// answers. An error (an ICMP error the kernel reports on the socket, say)
/// is skipped at once; only a run of them pauses the reader briefly, so a
/// socket that keeps failing cannot spin.
async fn read(sock: Arc<UdpSocket>, raw_id: Option<u16>, waiting: Waiting) {
    let mut buf = [0u8; 1500];
    let mut errors = 0u32;
    loop {
        let (n, from) = match sock.recv_from(&mut buf).await {
            Ok(x) => {
                errors = 0;
                x
            }
            Err(e) => {
                errors += 1;
                if errors.is_multiple_of(64) {
                    tracing::debug!(error = %e, "ping check: receive keeps failing");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                continue;
            }
        };
        let (Some(seq), SocketAddr::V4(src)) = (echo_reply(&buf[..n], raw_id), from) else {
            continue;
        };
        let tx = waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(*src.ip(), seq));
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echo_request_checksums_to_zero_and_a_reply_is_read_back() {
        let p = echo_request(0x1234, 7);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!((p[0], &p[4..8]), (8, &[0x12, 0x34, 0, 7][..]));
        let mut reply = p.clone();
        reply[0] = ECHO_REPLY;
        assert_eq!(echo_reply(&reply, None), Some(7));
        let mut ip = vec![0x45u8; 1];
        ip.extend([0u8; 19]);
        ip.extend(&reply);
        assert_eq!(echo_reply(&ip, Some(0x1234)), Some(7));
        assert_eq!(
            echo_reply(&ip, Some(0x4321)),
            None,
            "another process's ping"
        );
        assert_eq!(echo_reply(&p, None), None, "a request is no reply");
        assert_eq!(echo_reply(&[0x4f], Some(1)), None, "short");
    }

    /// (An address that does not answer is the lab test's: tests send
    /// nothing off this machine.)
    #[tokio::test]
    async fn loopback_answers() {
        let Ok(p) = Pinger::open() else {
            eprintln!("skipping: no ICMP socket (needs CAP_NET_RAW or ping_group_range)");
            return;
        };
        assert!(p.ping(Ipv4Addr::LOCALHOST, Duration::from_secs(2)).await);
        assert!(
            p.ping(Ipv4Addr::new(127, 0, 0, 2), Duration::from_secs(2))
                .await
        );
    }
}
