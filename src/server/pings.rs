//! The ping check at the edge: each [`Output::Ping`](crate::node::Output)
//! becomes an ICMP echo (`net::ping`) on a task of its own, whose result
//! comes back to the node as [`Input::PingDone`](crate::node::Input).

use crate::net::ping::Pinger;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A finished ping: its number and whether the address answered.
pub type PingResult = (u64, bool);

/// Sends the node's pings; their results arrive on the receiver [`Pings::new`] returns.
pub struct Pings {
    pinger: Option<Arc<Pinger>>,
    /// Whether opening the ICMP socket was tried (once, at the first ping).
    tried: bool,
    results: mpsc::UnboundedSender<PingResult>,
}

impl Pings {
    /// A pinger that opens its socket at the first ping, and the receiver
    /// of the results.
    pub fn new() -> (Pings, mpsc::UnboundedReceiver<PingResult>) {
        let (results, rx) = mpsc::unbounded_channel();
        let pings = Pings {
            pinger: None,
            tried: false,
            results,
        };
        (pings, rx)
    }

    /// Pings `addr` for the node's ping `id`, waiting `timeout_ms`. Without
    /// an ICMP socket (no CAP_NET_RAW nor ping group) every ping reports no
    /// answer at once, so OFFERs go out as without a ping check; that is
    /// logged once, loudly.
    pub fn ping(&mut self, id: u64, addr: Ipv4Addr, timeout_ms: u64) {
        if !self.tried {
            self.tried = true;
            match Pinger::open() {
                Ok(p) => self.pinger = Some(Arc::new(p)),
                Err(e) => {
                    tracing::error!(error = %e, "ping_check is on but no ICMP socket can be opened (give tandem CAP_NET_RAW): offering without pinging")
                }
            }
        }
        let results = self.results.clone();
        match self.pinger.clone() {
            Some(p) => {
                tokio::spawn(async move {
                    let answered = p.ping(addr, Duration::from_millis(timeout_ms)).await;
                    let _ = results.send((id, answered));
                });
            }
            None => {
                let _ = results.send((id, false));
            }
        }
    }
}
