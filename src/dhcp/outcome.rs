//! What the engine takes and gives besides the lease store: where a
//! request arrived (`RecvContext`), and what it decided (`Outcome`: the
//! reply with its route, the lease changes, and a `Verdict` for logs and
//! counters). Kept apart so every step of the engine can use them without
//! depending on the engine itself.

use super::route::ReplyRoute;
use crate::lease::Lease;
use std::net::Ipv4Addr;

/// Where a request arrived, as the edge saw it.
#[derive(Clone, Debug)]
pub struct RecvContext {
    /// Interface index the packet came in on.
    pub ifindex: u32,
    /// The local address it was addressed to or received on: our server identifier there.
    pub local: Ipv4Addr,
    /// An address of the receiving interface inside a configured subnet, for
    /// directly attached clients.
    pub link: Option<Ipv4Addr>,
    /// Whether it was sent to a broadcast address.
    pub broadcast: bool,
}

/// A reply to send: the encoded packet (at least 300 octets, RFC 1542
/// 2.1) and where it goes (RFC 2131 4.1, decided by `route`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The encoded DHCP message.
    pub bytes: Vec<u8>,
    /// Where it goes.
    pub route: ReplyRoute,
    /// Held back until the lease changes of the same outcome are durable.
    pub after_commit: bool,
    /// An OFFER held back until a ping of this address found no one there
    /// (`[server] ping_check`); the node carries it out.
    pub ping_first: Option<Ipv4Addr>,
}

/// What the engine did, for logs and metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// DHCPOFFER of this address.
    Offer(Ipv4Addr),
    /// DHCPACK granting (or renewing) this address.
    Ack(Ipv4Addr),
    /// DHCPNAK, with the rule that caused it.
    Nak(&'static str),
    /// DHCPACK to a DHCPINFORM: options only, no lease.
    Informed,
    /// The client released this address (no reply is sent).
    Released(Ipv4Addr),
    /// The client declined this address; it is quarantined (no reply is sent).
    Declined(Ipv4Addr),
    /// No reply, and why (wrong server, unknown subnet, load balancing, failover state...).
    Ignored(&'static str),
}

/// The engine's decision on one request: the reply (or none: ignored,
/// or a message that takes none), the lease records to journal, and the
/// verdict.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The reply to send; `None` when the request is ignored or takes no reply.
    pub reply: Option<Reply>,
    /// Lease records to journal (and, in a pair, replicate), in order; for
    /// an ACK the granted binding is the first.
    pub changes: Vec<Lease>,
    /// What was decided, for logs and counters.
    pub verdict: Verdict,
}

impl Outcome {
    pub(super) fn ignore(why: &'static str) -> Outcome {
        Outcome {
            reply: None,
            changes: Vec::new(),
            verdict: Verdict::Ignored(why),
        }
    }
}
