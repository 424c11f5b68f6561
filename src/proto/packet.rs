//! A client's request, checked before anyone looks at it. Everything the engine
//! reads from a packet comes through here, so a malformed packet stops at this
//! boundary with a reason that the edge counts and logs.

use super::code;
use super::identity::{ClientKey, HwAddr};
use std::net::Ipv4Addr;

/// The fixed BOOTP header plus the magic cookie.
pub const HEADER_LEN: usize = 240;
/// Largest request we accept: an Ethernet MTU's worth of UDP payload.
pub const MAX_LEN: usize = 1500;
const MAGIC: [u8; 4] = [99, 130, 83, 99];

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageType {
    Discover,
    Request,
    Decline,
    Release,
    Inform,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("packet of {0} bytes is shorter than the 240-byte DHCP header")]
    TooShort(usize),
    #[error("packet of {0} bytes is larger than {MAX_LEN}")]
    TooLong(usize),
    #[error("op {0} is not BOOTREQUEST")]
    NotRequest(u8),
    #[error("hlen {0} is larger than the 16-byte chaddr field")]
    BadHlen(u8),
    #[error("magic cookie is missing")]
    BadMagic,
    #[error("option {0} runs past the end of the packet")]
    TruncatedOption(u8),
    #[error("no DHCP message type (option 53)")]
    NoMessageType,
    #[error("message type {0} is not one a server handles")]
    UnsupportedType(u8),
    #[error("option {code} has invalid length {len}")]
    BadOptionLength { code: u8, len: usize },
    #[error("neither a hardware address nor a client identifier")]
    NoIdentity,
}

/// A parsed BOOTREQUEST.
#[derive(Clone, Debug)]
pub struct Request {
    pub kind: MessageType,
    pub htype: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub hw: HwAddr,
    /// Options in the order received, long options (RFC 3396) concatenated.
    options: Vec<(u8, Vec<u8>)>,
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

impl Request {
    pub fn parse(b: &[u8]) -> Result<Request, ParseError> {
        if b.len() < HEADER_LEN {
            return Err(ParseError::TooShort(b.len()));
        }
        if b.len() > MAX_LEN {
            return Err(ParseError::TooLong(b.len()));
        }
        if b[0] != 1 {
            return Err(ParseError::NotRequest(b[0]));
        }
        let hlen = b[2];
        if hlen > 16 {
            return Err(ParseError::BadHlen(hlen));
        }
        if b[236..240] != MAGIC {
            return Err(ParseError::BadMagic);
        }
        let mut options: Vec<(u8, Vec<u8>)> = Vec::new();
        walk_options(&b[HEADER_LEN..], &mut options)?;
        let overload = options
            .iter()
            .find(|(c, _)| *c == code::OVERLOAD)
            .and_then(|(_, v)| v.first().copied());
        if let Some(o) = overload {
            // RFC 2131 section 4.1: options continue in 'file', then in 'sname'.
            if o & 1 != 0 {
                walk_options(&b[108..236], &mut options)?;
            }
            if o & 2 != 0 {
                walk_options(&b[44..108], &mut options)?;
            }
        }
        let kind = match options
            .iter()
            .find(|(c, _)| *c == code::MESSAGE_TYPE)
            .map(|(_, v)| v.as_slice())
        {
            None => return Err(ParseError::NoMessageType),
            Some([1]) => MessageType::Discover,
            Some([3]) => MessageType::Request,
            Some([4]) => MessageType::Decline,
            Some([7]) => MessageType::Release,
            Some([8]) => MessageType::Inform,
            Some([t]) => return Err(ParseError::UnsupportedType(*t)),
            Some(v) => {
                return Err(ParseError::BadOptionLength {
                    code: code::MESSAGE_TYPE,
                    len: v.len(),
                });
            }
        };
        let req = Request {
            kind,
            htype: b[1],
            hops: b[3],
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            secs: u16::from_be_bytes([b[8], b[9]]),
            flags: u16::from_be_bytes([b[10], b[11]]),
            ciaddr: ip_at(b, 12),
            giaddr: ip_at(b, 24),
            hw: HwAddr::new(b[1], &b[28..28 + usize::from(hlen)]),
            options,
        };
        req.check_option_lengths()?;
        if hlen == 0 && req.client_id().is_none() {
            return Err(ParseError::NoIdentity);
        }
        Ok(req)
    }

    /// Options whose value the engine relies on must have their RFC lengths;
    /// a client that gets them wrong is dropped rather than half-understood.
    fn check_option_lengths(&self) -> Result<(), ParseError> {
        for (c, v) in &self.options {
            let ok = match *c {
                code::REQUESTED_IP | code::SERVER_ID | code::SUBNET_SELECTION => v.len() == 4,
                code::LEASE_TIME => v.len() == 4,
                code::MAX_MESSAGE_SIZE => v.len() == 2,
                code::CLIENT_ID => v.len() >= 2,
                code::OVERLOAD => v.len() == 1,
                _ => true,
            };
            if !ok {
                return Err(ParseError::BadOptionLength {
                    code: *c,
                    len: v.len(),
                });
            }
        }
        Ok(())
    }

    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    fn ip_option(&self, code: u8) -> Option<Ipv4Addr> {
        self.option(code).map(|v| ip_at(v, 0))
    }

    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::REQUESTED_IP)
    }

    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::SERVER_ID)
    }

    pub fn subnet_selection(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::SUBNET_SELECTION)
    }

    pub fn requested_lease_time(&self) -> Option<u32> {
        self.option(code::LEASE_TIME)
            .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }

    pub fn max_message_size(&self) -> Option<u16> {
        self.option(code::MAX_MESSAGE_SIZE)
            .map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    pub fn parameter_list(&self) -> &[u8] {
        self.option(code::PARAMETER_LIST).unwrap_or(&[])
    }

    pub fn client_id(&self) -> Option<&[u8]> {
        self.option(code::CLIENT_ID)
    }

    pub fn hostname(&self) -> Option<String> {
        let h = self.option(code::HOSTNAME)?;
        let s = String::from_utf8_lossy(h);
        let s = s.trim_end_matches('\0');
        (!s.is_empty()).then(|| s.chars().take(255).collect())
    }

    /// Option 82 exactly as the relay sent it, for a verbatim echo (RFC 3046).
    pub fn relay_info(&self) -> Option<&[u8]> {
        self.option(code::RELAY_AGENT_INFO)
    }

    /// The link-selection sub-option of option 82 (RFC 3527).
    pub fn link_selection(&self) -> Option<Ipv4Addr> {
        let mut rest = self.relay_info()?;
        while let [sub, len, tail @ ..] = rest {
            let len = usize::from(*len);
            if tail.len() < len {
                return None;
            }
            if *sub == code::RELAY_LINK_SELECTION && len == 4 {
                return Some(ip_at(tail, 0));
            }
            rest = &tail[len..];
        }
        None
    }

    pub fn broadcast_flag(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    pub fn client_key(&self) -> ClientKey {
        ClientKey::new(self.client_id(), &self.hw)
    }

    pub fn is_relayed(&self) -> bool {
        !self.giaddr.is_unspecified()
    }
}

/// Appends the options in `area` to `out`, concatenating repeats (RFC 3396).
fn walk_options(area: &[u8], out: &mut Vec<(u8, Vec<u8>)>) -> Result<(), ParseError> {
    let mut i = 0;
    while i < area.len() {
        let c = area[i];
        match c {
            code::PAD => i += 1,
            code::END => return Ok(()),
            _ => {
                let len = usize::from(*area.get(i + 1).ok_or(ParseError::TruncatedOption(c))?);
                let data = area
                    .get(i + 2..i + 2 + len)
                    .ok_or(ParseError::TruncatedOption(c))?;
                match out.iter_mut().find(|(k, _)| *k == c) {
                    Some((_, v)) => v.extend_from_slice(data),
                    None => out.push((c, data.to_vec())),
                }
                i += 2 + len;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
