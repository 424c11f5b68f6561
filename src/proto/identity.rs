//! Who a client is. RFC 2131 section 4.2: option 61 when present, otherwise
//! the hardware type and address.

use std::fmt;

/// A hardware address as the client sent it (htype, up to 16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HwAddr {
    /// Hardware address type (ARP hardware type; 1 for Ethernet).
    pub htype: u8,
    len: u8,
    bytes: [u8; 16],
}

impl HwAddr {
    /// Builds from wire values; `addr` longer than 16 bytes is cut to 16.
    pub fn new(htype: u8, addr: &[u8]) -> HwAddr {
        let len = addr.len().min(16);
        let mut bytes = [0u8; 16];
        bytes[..len].copy_from_slice(&addr[..len]);
        HwAddr {
            htype,
            len: len as u8,
            bytes,
        }
    }

    /// The hlen octets of chaddr the client sent.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The 6-byte Ethernet address, if this is one.
    pub fn ethernet(&self) -> Option<[u8; 6]> {
        (self.htype == 1 && self.len == 6).then(|| {
            let mut m = [0u8; 6];
            m.copy_from_slice(&self.bytes[..6]);
            m
        })
    }

    /// Raw chaddr field contents (16 bytes, zero padded) for a reply.
    pub fn chaddr_field(&self) -> [u8; 16] {
        self.bytes
    }
}

impl fmt::Display for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(f, self.bytes())
    }
}

impl fmt::Debug for HwAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.htype, self)
    }
}

/// Writes `b` as lower-case hex pairs joined by ':' (e.g. "52:54:00:12:34:56").
pub fn write_hex(f: &mut impl fmt::Write, b: &[u8]) -> fmt::Result {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            f.write_char(':')?;
        }
        write!(f, "{x:02x}")?;
    }
    Ok(())
}

/// `b` as lower-case hex pairs joined by ':', for logs and JSON.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    let _ = write_hex(&mut s, b);
    s
}

/// The key a lease is bound to.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    /// Option 61 bytes, type byte included.
    Id(Box<[u8]>),
    /// No option 61: hardware type and address.
    Hw(u8, Box<[u8]>),
}

impl ClientKey {
    /// The client's identity: option 61 when it sent one, else (htype, chaddr)
    /// (RFC 2131 section 4.2).
    pub fn new(client_id: Option<&[u8]>, hw: &HwAddr) -> ClientKey {
        match client_id {
            Some(id) => ClientKey::Id(id.into()),
            None => ClientKey::Hw(hw.htype, hw.bytes().into()),
        }
    }

    /// The bytes RFC 3074 hashes: the client id, else chaddr.
    pub fn hash_input(&self) -> &[u8] {
        match self {
            ClientKey::Id(b) | ClientKey::Hw(_, b) => b,
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Id(b) => {
                f.write_str("id:")?;
                write_hex(f, b)
            }
            ClientKey::Hw(_, b) => {
                f.write_str("hw:")?;
                write_hex(f, b)
            }
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
