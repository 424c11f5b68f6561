//! ISC dhcpd 4.4's failover protocol on the wire (issue 19): the
//! draft-ietf-dhc-failover-12 message format as ISC speaks it, so that a
//! tandem server can pair with a running dhcpd during a migration.
//!
//! `wire` is the frame codec: a 12-octet header (length, type, payload
//! offset, time, xid; section 6.1 of the draft) and type-length-value
//! options, decoded with ISC's own rules (`server/failover.c` in ISC DHCP
//! 4.4.3, summarised in `../shared/research/isc-failover-wire.md` section
//! 1): the payload offset is 12 (the draft's 8 contradicts its header),
//! an option the message type allows appears at most once and has its
//! exact size, and the DDNS option is a protocol error there. An
//! option the type does not allow is kept as bytes, unchecked, as ISC
//! skips it. What decodes encodes back to the same octets, which the
//! golden frames captured from a real dhcpd pair (`tests/fixtures/isc`)
//! hold it to. `message` reads a frame as what it carries
//! ([`IscMessage`]) and writes one back with its options in ISC's order;
//! `hba` maps ISC's hash bucket assignment to and from tandem's `split`;
//! `binding` maps a BNDUPD's binding to and from tandem's lease record;
//! `state` maps ISC's state numbers to and from tandem's states; `link`
//! runs one connection's handshake, keepalives and timeouts; `session`
//! carries a connection's messages to and from the failover peer state
//! machine as tandem's own.
//!
//! `[failover] protocol = "isc-draft12"` selects it (`net::isc_link` is
//! the edge). The protocol has no authentication: the edge pins each
//! connection to the configured peer's address.

pub mod binding;
pub mod hba;
pub mod link;
pub mod message;
mod options;
pub mod session;
pub mod state;
pub mod wire;

pub use message::{Binding, Hello, IscMessage, Rejection};
pub use wire::{Frame, IscOption, IscWireError, MessageType, OptionCode, Value};

/// The frames a real ISC dhcpd 4.4.3-P1 pair sent (`tests/fixtures/isc`),
/// as (sender's role, octets), for the tests of every layer.
#[cfg(test)]
pub(crate) fn golden_frames() -> Vec<(String, Vec<u8>)> {
    const FRAMES: &str = include_str!("../../tests/fixtures/isc/frames.txt");
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    };
    FRAMES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[1].to_string(), hex(f[2]))
        })
        .collect()
}
