//! Where a reply goes: RFC 2131 section 4.1, decided as a value here and
//! carried out by `net`.

use crate::proto::{HwAddr, Request};
use std::net::Ipv4Addr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyRoute {
    /// To the relay agent at `giaddr`, server port.
    Relay { giaddr: Ipv4Addr },
    /// To a client that already has an address, client port.
    Unicast { ciaddr: Ipv4Addr },
    /// To 255.255.255.255 on the receiving link.
    Broadcast,
    /// To `yiaddr` at IP and `hw` at the link layer: the client cannot answer ARP yet.
    HwUnicast { yiaddr: Ipv4Addr, hw: HwAddr },
}

/// Route for an OFFER or ACK granting `yiaddr` (unspecified for an INFORM reply).
pub fn for_grant(req: &Request, yiaddr: Ipv4Addr) -> ReplyRoute {
    if req.is_relayed() {
        ReplyRoute::Relay { giaddr: req.giaddr }
    } else if !req.ciaddr.is_unspecified() {
        ReplyRoute::Unicast { ciaddr: req.ciaddr }
    } else if req.broadcast_flag() || yiaddr.is_unspecified() || req.hw.ethernet().is_none() {
        ReplyRoute::Broadcast
    } else {
        ReplyRoute::HwUnicast { yiaddr, hw: req.hw }
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
