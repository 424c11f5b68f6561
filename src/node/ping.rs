//! The ping check (`[server] ping_check`, ISC's `ping-check`): an OFFER of
//! an address new to its client waits for an ICMP echo to it. Silence sends
//! the OFFER; an answer means some host uses the address without a lease:
//! it is quarantined (declined for `decline_probation`, journaled and
//! replicated, so the partner does not offer it either) and the DISCOVER is
//! decided again, up to [`MAX_PINGS`] times. The edge does the ICMP and the
//! timeout; here is only the order of things. A renewal, a reservation or a
//! client's own earlier address is never pinged (`dhcp::allocate`).

use super::{Node, Output, Received};
use crate::dhcp::{Policy, Reply};
use crate::proto::ClientKey;
use crate::time::Time;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;

/// Addresses tried for one DISCOVER before it is left unanswered (the
/// client retransmits).
pub const MAX_PINGS: u8 = 3;

/// OFFERs waiting for pings beyond which a DISCOVER that would need one is
/// dropped (counted as overloaded): a flood of new clients cannot grow the
/// node's memory without bound.
pub const MAX_PENDING: usize = 4096;

/// An OFFER waiting for its ping.
struct Pending {
    reply: Reply,
    addr: Ipv4Addr,
    /// The DISCOVER, decided again if the address answers.
    request: Received,
    /// Addresses already tried for it, this one included.
    tries: u8,
}

/// The OFFERs waiting for pings, by ping number, and their clients.
#[derive(Default)]
pub(super) struct Pings {
    waiting: HashMap<u64, Pending>,
    clients: HashSet<ClientKey>,
    last_id: u64,
}

impl Pings {
    /// Whether an OFFER to `key` is waiting for a ping (its retransmitted
    /// DISCOVER is then dropped: the OFFER is on its way).
    pub(super) fn pinging(&self, key: &ClientKey) -> bool {
        self.clients.contains(key)
    }

    fn take(&mut self, id: u64) -> Option<Pending> {
        let p = self.waiting.remove(&id)?;
        self.clients.remove(&p.request.req.client_key());
        Some(p)
    }
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
        if self.pings.waiting.len() >= MAX_PENDING {
            self.stats.overloaded += 1;
            self.store.drop_offer(addr);
            return;
        }
        self.pings.last_id += 1;
        let id = self.pings.last_id;
        self.out.push_back(Output::Ping {
            id,
            addr,
            timeout_ms: check.timeout_ms,
        });
        self.pings.clients.insert(request.req.client_key());
        let pending = Pending {
            reply,
            addr,
            request,
            tries: tries + 1,
        };
        self.pings.waiting.insert(id, pending);
    }

    /// The ping `id` is over ([`Input::PingDone`](super::Input::PingDone)).
    /// A server that no longer answers clients (its failover state changed
    /// meanwhile) sends nothing.
    pub(super) fn ping_done(&mut self, now: Time, id: u64, answered: bool) {
        let Some(p) = self.pings.take(id) else {
            return;
        };
        let key = p.request.req.client_key();
        // What held when the OFFER was decided may not any more: the state,
        // the load balancing, or the address itself (a partner's update, an
        // offer that lapsed).
        let policy = self.policy();
        let still = policy.serves(&key, p.request.req.secs)
            && self
                .engine
                .offer_holds(now, &self.store, &policy, &key, p.addr);
        if !answered {
            self.stats.pings_silent += 1;
            if still {
                self.send(p.reply, &p.request);
            }
            return;
        }
        self.stats.pings_answered += 1;
        if !still {
            return;
        }
        tracing::warn!(addr = %p.addr, client = %key, "ping answered: a host uses the address without a lease; quarantined, not offered");
        let l = self.engine.quarantine(now, &mut self.store, p.addr, None);
        self.journal_local(now, vec![l], None);
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
