//! Where a reply goes: RFC 2131 section 4.1, decided as a value here and
//! carried out by `net`.

use crate::proto::{HwAddr, Request};
use std::net::Ipv4Addr;

/// Where one reply goes, per RFC 2131 section 4.1; `net` turns it into a destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyRoute {
    /// To the relay agent at `giaddr`, server port.
    Relay {
        /// The relay agent's address from the request.
        giaddr: Ipv4Addr,
    },
    /// To a client that already has an address, client port.
    Unicast {
        /// The client's configured address from the request.
        ciaddr: Ipv4Addr,
    },
    /// To 255.255.255.255 on the receiving link.
    Broadcast,
    /// To `yiaddr` at IP and `hw` at the link layer: the client cannot answer ARP yet.
    HwUnicast {
        /// The address being granted.
        yiaddr: Ipv4Addr,
        /// The client's chaddr, the link-layer destination.
        hw: HwAddr,
    },
}

/// Route for an OFFER or ACK granting `yiaddr`. `bound` says the client is
/// in BOUND, RENEWING or REBINDING (a REQUEST placed by its ciaddr): only
/// then has it configured ciaddr and can it answer ARP for it. A DISCOVER or
/// a SELECTING / INIT-REBOOT REQUEST may carry a stale ciaddr (NetworkManager
/// does after a lease ran out); RFC 2131 Table 5 says it is 0 there, so it is
/// ignored for routing and the reply goes by chaddr or broadcast.
pub fn for_grant(req: &Request, yiaddr: Ipv4Addr, bound: bool) -> ReplyRoute {
    if req.is_relayed() {
        ReplyRoute::Relay { giaddr: req.giaddr }
    } else if bound && !req.ciaddr.is_unspecified() {
        ReplyRoute::Unicast { ciaddr: req.ciaddr }
    } else if req.broadcast_flag() || req.hw.ethernet().is_none() {
        ReplyRoute::Broadcast
    } else {
        ReplyRoute::HwUnicast { yiaddr, hw: req.hw }
    }
}

/// Route for the ACK of a DHCPINFORM (RFC 2131 section 4.3.5): the relay, or
/// the client's ciaddr. A directly attached INFORM with ciaddr 0 has nowhere
/// to go (the client MUST set ciaddr, section 4.4.3): `None`.
pub fn for_inform(req: &Request) -> Option<ReplyRoute> {
    if req.is_relayed() {
        Some(ReplyRoute::Relay { giaddr: req.giaddr })
    } else if !req.ciaddr.is_unspecified() {
        Some(ReplyRoute::Unicast { ciaddr: req.ciaddr })
    } else {
        None
    }
}

/// Route for a NAK: the relay, else always broadcast (RFC 2131 section 4.1).
pub fn for_nak(req: &Request) -> ReplyRoute {
    if req.is_relayed() {
        ReplyRoute::Relay { giaddr: req.giaddr }
    } else {
        ReplyRoute::Broadcast
    }
}
