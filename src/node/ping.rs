//! The ping check (`[server] ping_check`, ISC's `ping-check`): an OFFER of
//! an address new to its client waits for an ICMP echo to it. Silence sends
//! the OFFER; an answer means some host uses the address without a lease:
//! it is quarantined (declined for `decline_probation`, journaled and
//! replicated, so the partner does not offer it either) and the DISCOVER is
//! decided again, up to [`MAX_PINGS`] times. The edge does the ICMP and the
//! timeout; here is only the order of things. A renewal, a reservation or a
//! client's own earlier address is never pinged (`dhcp::allocate`).

use super::{Node, Output, Received};
use crate::dhcp::Reply;
use crate::proto::ClientKey;
use crate::time::Time;
use std::net::Ipv4Addr;

/// Addresses tried for one DISCOVER before it is left unanswered (the
/// client retransmits).
pub const MAX_PINGS: u8 = 3;

/// An OFFER waiting for its ping.
pub(super) struct Pending {
    reply: Reply,
    addr: Ipv4Addr,
    /// The DISCOVER, decided again if the address answers.
    request: Received,
    /// Addresses already tried for it, this one included.
    tries: u8,
}

impl Node {
    /// Holds `reply` (an OFFER of `addr` to the client of `request`) and asks
    /// the edge for a ping of `addr`.
    pub(super) fn ping_first(
        &mut self,
        reply: Reply,
        addr: Ipv4Addr,
        request: Received,
        tries: u8,
    ) {
        let Some(check) = self.config.server.ping else {
            return self.send(reply, &request);
        };
        self.next_ping += 1;
        let id = self.next_ping;
        self.out.push_back(Output::Ping {
            id,
            addr,
            timeout_ms: check.timeout_ms,
        });
        let pending = Pending {
            reply,
            addr,
            request,
            tries: tries + 1,
        };
        self.pings.insert(id, pending);
    }

    /// Whether an OFFER to `key` is waiting for a ping (its retransmitted
    /// DISCOVER is then dropped: the OFFER is on its way).
    pub(super) fn pinging(&self, key: &ClientKey) -> bool {
        self.pings
            .values()
            .any(|p| p.request.req.client_key() == *key)
    }

    /// The ping `id` is over ([`Input::PingDone`]).
    pub(super) fn ping_done(&mut self, now: Time, id: u64, answered: bool) {
        let Some(p) = self.pings.remove(&id) else {
            return;
        };
        if !answered {
            self.stats.pings_silent += 1;
            return self.send(p.reply, &p.request);
        }
        self.stats.pings_answered += 1;
        tracing::warn!(addr = %p.addr, client = %p.request.req.client_key(), "ping answered: a host uses the address without a lease; quarantined, not offered");
        let l = self.engine.quarantine(now, &mut self.store, p.addr, None);
        self.journal_local(vec![l], None);
        if p.tries < MAX_PINGS {
            self.decide(now, p.request, p.tries);
        }
    }

    fn send(&mut self, reply: Reply, request: &Received) {
        self.out.push_back(Output::Reply {
            reply,
            socket: request.socket,
            src: request.ctx.local,
        });
    }
}

#[cfg(test)]
mod tests;
