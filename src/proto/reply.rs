//! Encodes a BOOTREPLY. Options are written in the order they are pushed,
//! because RFC 2132 section 9.8 asks the server to follow the client's
//! parameter request list (dhcproto would sort them by code).

use super::code;
use super::packet::{HEADER_LEN, Request};
use std::net::Ipv4Addr;

/// BOOTP's minimum message size; some relays and clients drop shorter replies.
pub const MIN_REPLY: usize = 300;
/// IPv4 + UDP header bytes counted in option 57.
const IP_UDP: usize = 28;

/// The server message types this server sends, with their option 53 values.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReplyKind {
    /// DHCPOFFER (2): an address proposed in answer to a DISCOVER.
    Offer = 2,
    /// DHCPACK (5): a lease granted or renewed, or an INFORM answered.
    Ack = 5,
    /// DHCPNAK (6): the client's notion of its address is wrong; it must restart.
    Nak = 6,
}

/// The largest reply `req`'s client accepts: 576-byte datagrams always
/// (RFC 2131), more when option 57 says so, never more than an Ethernet MTU.
pub fn reply_limit(req: &Request) -> usize {
    let max = req
        .max_message_size()
        .map_or(576, usize::from)
        .clamp(576, 1500);
    max - IP_UDP
}

/// Builds one BOOTREPLY in place: header fields from the request, then options in
/// push order, never beyond the client's size limit.
pub struct ReplyBuilder {
    buf: Vec<u8>,
    limit: usize,
    /// Bytes kept free for options that must be written last.
    reserved: usize,
    present: [bool; 256],
}

impl ReplyBuilder {
    /// Starts a reply of `kind` to `req`: op 2, and htype, hlen, xid, flags, giaddr and
    /// chaddr copied from the request, option 53 first. `limit` is the largest DHCP
    /// message in octets (see `reply_limit`), raised to `MIN_REPLY`.
    pub fn new(req: &Request, kind: ReplyKind, limit: usize) -> ReplyBuilder {
        let mut buf = vec![0u8; HEADER_LEN];
        buf[0] = 2;
        buf[1] = req.htype;
        buf[2] = req.hw.bytes().len() as u8;
        buf[4..8].copy_from_slice(&req.xid.to_be_bytes());
        buf[10..12].copy_from_slice(&req.flags.to_be_bytes());
        buf[24..28].copy_from_slice(&req.giaddr.octets());
        buf[28..44].copy_from_slice(&req.hw.chaddr_field());
        buf[236..240].copy_from_slice(&[99, 130, 83, 99]);
        let mut b = ReplyBuilder {
            buf,
            limit: limit.max(MIN_REPLY),
            reserved: 0,
            present: [false; 256],
        };
        b.push(code::MESSAGE_TYPE, &[kind as u8]);
        b
    }

    /// Sets ciaddr.
    pub fn set_ciaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[12..16].copy_from_slice(&a.octets());
        self
    }

    /// Sets yiaddr, the address being offered or granted.
    pub fn set_yiaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[16..20].copy_from_slice(&a.octets());
        self
    }

    /// Sets siaddr, the next server in the boot process.
    pub fn set_siaddr(&mut self, a: Ipv4Addr) -> &mut Self {
        self.buf[20..24].copy_from_slice(&a.octets());
        self
    }

    /// Sets the broadcast bit, telling a relay to broadcast the reply to the
    /// client (a relayed NAK, or an INFORM answer to a client without ciaddr).
    pub fn set_broadcast_flag(&mut self) -> &mut Self {
        self.buf[10] |= 0x80;
        self
    }

    /// Server host name field; truncated to leave its terminating NUL.
    pub fn set_sname(&mut self, s: &str) -> &mut Self {
        let n = s.len().min(63);
        self.buf[44..44 + n].copy_from_slice(&s.as_bytes()[..n]);
        self
    }

    /// Boot file field; truncated to leave its terminating NUL.
    pub fn set_file(&mut self, s: &str) -> &mut Self {
        let n = s.len().min(127);
        self.buf[108..108 + n].copy_from_slice(&s.as_bytes()[..n]);
        self
    }

    /// Whether option `code` has been written.
    pub fn has(&self, code: u8) -> bool {
        self.present[usize::from(code)]
    }

    /// Appends an option, split into 255-byte pieces if long (RFC 3396).
    /// Returns false, writing nothing, if it is already present or would not
    /// fit below the size limit with the END option.
    pub fn push(&mut self, code: u8, data: &[u8]) -> bool {
        if self.present[usize::from(code)] {
            return false;
        }
        let pieces = data.len().div_ceil(255).max(1);
        if self.buf.len() + data.len() + 2 * pieces + 1 + self.reserved > self.limit {
            return false;
        }
        if data.is_empty() {
            self.buf.extend_from_slice(&[code, 0]);
        }
        for chunk in data.chunks(255) {
            self.buf.push(code);
            self.buf.push(chunk.len() as u8);
            self.buf.extend_from_slice(chunk);
        }
        self.present[usize::from(code)] = true;
        true
    }

    /// Keeps `bytes` free for options pushed after `release_reserve`.
    pub fn reserve(&mut self, bytes: usize) {
        self.reserved = bytes;
    }

    /// Frees the space kept by `reserve`.
    pub fn release_reserve(&mut self) {
        self.reserved = 0;
    }

    /// Appends a 4-octet big-endian option (times in seconds, RFC 2132).
    /// Returns false as `push` does.
    pub fn push_u32(&mut self, code: u8, v: u32) -> bool {
        self.push(code, &v.to_be_bytes())
    }

    /// Writes END and pads to `MIN_REPLY` octets; returns the encoded message.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(code::END);
        if self.buf.len() < MIN_REPLY {
            self.buf.resize(MIN_REPLY, 0);
        }
        self.buf
    }
}
