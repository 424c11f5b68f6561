//! The witness at the edge (`failover::witness`, `[failover] witness`): a
//! UDP socket that takes datagrams from the witness's address only,
//! heartbeats sealed with fresh nonces when the node asks, and reports
//! checked (the pair's witness key, a nonce still awaited) before the node
//! hears of them. What the reports mean is the node's to judge
//! (`failover::peer`). The socket is not connected: a witness without a
//! route at start is only silent, which the node judges, and the server
//! starts anyway.

use crate::failover::witness::{Heartbeat, NONCE_LEN, WitnessKey};
use crate::node::Input;
use crate::time::Time;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Heartbeats whose report is still taken (the latest ones): a report to
/// an older one, or to none, is refused.
const AWAITED: usize = 8;

pub(super) struct WitnessClient {
    sock: Arc<tokio::net::UdpSocket>,
    addr: SocketAddr,
    key: WitnessKey,
    primary: bool,
    /// Nonces of the latest heartbeats and when each went, oldest first.
    awaited: VecDeque<([u8; NONCE_LEN], Time)>,
    /// Datagrams refused since this start (a warning every 100th).
    refused: u64,
}

impl WitnessClient {
    /// The client of the witness at `addr` for this peer (`primary`),
    /// with the pair's pre-shared key `psk`; its datagrams come on the
    /// returned channel, read by a task that lives as long as the socket.
    /// Errors: the socket cannot be made.
    pub(super) async fn start(
        addr: SocketAddr,
        psk: &[u8],
        primary: bool,
    ) -> std::io::Result<(WitnessClient, mpsc::Receiver<Vec<u8>>)> {
        let any: SocketAddr = if addr.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let sock = Arc::new(tokio::net::UdpSocket::bind(any).await?);
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(read(sock.clone(), addr, tx));
        tracing::info!(witness = %addr, "heartbeating the witness");
        let client = WitnessClient {
            sock,
            addr,
            key: WitnessKey::derive(psk),
            primary,
            awaited: VecDeque::new(),
            refused: 0,
        };
        Ok((client, rx))
    }

    /// Sends a heartbeat with a fresh nonce at `now`. A failed send is
    /// logged at debug: an unreachable witness shows in `status` as silent.
    pub(super) fn heartbeat(&mut self, now: Time) {
        let nonce = match crate::random::bytes::<NONCE_LEN>() {
            Ok(n) => n,
            Err(e) => return tracing::warn!(error = %e, "no randomness for a witness nonce"),
        };
        if self.awaited.len() == AWAITED {
            self.awaited.pop_front();
        }
        self.awaited.push_back((nonce, now));
        let h = Heartbeat {
            primary: self.primary,
            nonce,
        };
        if let Err(e) = self
            .sock
            .try_send_to(&self.key.seal_heartbeat(&h), self.addr)
        {
            tracing::debug!(error = %e, "heartbeat to the witness not sent");
        }
    }

    /// The node's input for datagram `d`: a report, authentic, about our
    /// partner, answering a heartbeat still awaited (each is taken once).
    /// Anything else is refused and logged (at warn once per 100).
    pub(super) fn report(&mut self, d: &[u8]) -> Option<Input> {
        let r = match self.key.open_report(d) {
            Ok(r) if r.primary == self.primary => r,
            Ok(_) => return self.refuse("a report for the other peer".into()),
            Err(e) => return self.refuse(e.to_string()),
        };
        let Some(i) = self.awaited.iter().position(|(n, _)| *n == r.nonce) else {
            return self.refuse("a report to no heartbeat awaited (late or replayed)".into());
        };
        let (_, asked) = self.awaited.remove(i).expect("found");
        Some(Input::WitnessReport {
            asked,
            partner_silent_ms: r.partner_silent_ms,
            partner_heard: r.partner_heard,
        })
    }

    fn refuse(&mut self, why: String) -> Option<Input> {
        if self.refused.is_multiple_of(100) {
            tracing::warn!(reason = %why, refused = self.refused + 1, "datagram from the witness refused");
        } else {
            tracing::debug!(reason = %why, "datagram from the witness refused");
        }
        self.refused += 1;
        None
    }
}

/// Reads the datagrams from the witness at `witness` into `tx` until the
/// edge stops taking them; others are dropped here. Errors (an ICMP port
/// unreachable while the witness is down) are skipped.
async fn read(sock: Arc<tokio::net::UdpSocket>, witness: SocketAddr, tx: mpsc::Sender<Vec<u8>>) {
    let mut buf = [0u8; 512];
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, from)) if from == witness => {
                if tx.send(buf[..n].to_vec()).await.is_err() {
                    return;
                }
            }
            Ok((_, from)) => {
                tracing::debug!(%from, "datagram on the witness socket not from the witness")
            }
            Err(e) => {
                tracing::debug!(error = %e, "witness socket");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}
