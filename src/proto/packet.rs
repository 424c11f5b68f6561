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

/// The client message types a server handles (option 53, RFC 2132 section 9.6);
/// any other type is a `ParseError::UnsupportedType`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageType {
    /// DHCPDISCOVER (1): looking for offers.
    Discover,
    /// DHCPREQUEST (3): selecting an offer, confirming after reboot, renewing or rebinding.
    Request,
    /// DHCPDECLINE (4): the offered address is already in use on the link.
    Decline,
    /// DHCPRELEASE (7): the client gives its address back.
    Release,
    /// DHCPINFORM (8): the client has an address and wants options only.
    Inform,
}

impl MessageType {
    /// The type's name without the DHCP prefix, lower case (`discover`,
    /// `request`, ...), as metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Discover => "discover",
            MessageType::Request => "request",
            MessageType::Decline => "decline",
            MessageType::Release => "release",
            MessageType::Inform => "inform",
        }
    }
}

/// Why a received packet was dropped before the engine saw it; the edge counts
/// and logs each by kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Shorter than the 240-octet header with magic cookie.
    #[error("packet of {0} bytes is shorter than the 240-byte DHCP header")]
    TooShort(usize),
    /// Longer than `MAX_LEN` octets.
    #[error("packet of {0} bytes is larger than {MAX_LEN}")]
    TooLong(usize),
    /// `op` is not 1 (BOOTREQUEST): a reply or garbage.
    #[error("op {0} is not BOOTREQUEST")]
    NotRequest(u8),
    /// `hlen` above 16, the size of chaddr.
    #[error("hlen {0} is larger than the 16-byte chaddr field")]
    BadHlen(u8),
    /// The magic cookie 99.130.83.99 is not at offset 236.
    #[error("magic cookie is missing")]
    BadMagic,
    /// An option's length runs past its area.
    #[error("option {0} runs past the end of the packet")]
    TruncatedOption(u8),
    /// No option 53: a BOOTP request or garbage; this server speaks DHCP only.
    #[error("no DHCP message type (option 53)")]
    NoMessageType,
    /// An option 53 value that is not a client message this server handles.
    #[error("message type {0} is not one a server handles")]
    UnsupportedType(u8),
    /// An option the engine relies on does not have its RFC length.
    #[error("option {code} has invalid length {len}")]
    BadOptionLength {
        /// The option's code.
        code: u8,
        /// Its length as received, octets.
        len: usize,
    },
    /// hlen 0 and no option 61: nothing to bind a lease to.
    #[error("neither a hardware address nor a client identifier")]
    NoIdentity,
}

/// A parsed BOOTREQUEST.
#[derive(Clone, Debug)]
pub struct Request {
    /// The DHCP message type (option 53).
    pub kind: MessageType,
    /// Hardware address type (1 for Ethernet).
    pub htype: u8,
    /// Relay hops so far.
    pub hops: u8,
    /// Transaction id, echoed in the reply.
    pub xid: u32,
    /// Seconds since the client began acquiring or renewing; load balancing reads it.
    pub secs: u16,
    /// Flags; the top bit is the broadcast bit (`broadcast_flag`).
    pub flags: u16,
    /// The client's address, when it has one (BOUND, RENEWING, REBINDING, INFORM).
    pub ciaddr: Ipv4Addr,
    /// The relay agent's address, 0.0.0.0 when the request came directly.
    pub giaddr: Ipv4Addr,
    /// The client's hardware address (htype, chaddr cut to hlen).
    pub hw: HwAddr,
    /// Options in the order received, long options (RFC 3396) concatenated.
    options: Vec<(u8, Vec<u8>)>,
}

fn ip_at(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// Checks the fixed header: the length (`HEADER_LEN` to `MAX_LEN` octets),
/// op BOOTREQUEST, hlen at most 16 and the magic cookie. Returns hlen.
fn check_header(b: &[u8]) -> Result<u8, ParseError> {
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
    Ok(hlen)
}

/// Every option of a packet whose header passed `check_header`: the
/// options field, then `file` and `sname` when option 52 says they hold
/// options (RFC 2131 section 4.1), in that order.
fn all_options(b: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, ParseError> {
    let mut options: Vec<(u8, Vec<u8>)> = Vec::new();
    walk_options(&b[HEADER_LEN..], &mut options)?;
    let overload = options
        .iter()
        .find(|(c, _)| *c == code::OVERLOAD)
        .and_then(|(_, v)| v.first().copied());
    if let Some(o) = overload {
        if o & 1 != 0 {
            walk_options(&b[108..236], &mut options)?;
        }
        if o & 2 != 0 {
            walk_options(&b[44..108], &mut options)?;
        }
    }
    Ok(options)
}

/// The message type (option 53) of a request; one a server answers or
/// records, else an error.
fn message_type(options: &[(u8, Vec<u8>)]) -> Result<MessageType, ParseError> {
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
    Ok(kind)
}

impl Request {
    /// Parses and checks one received packet, the whole UDP payload.
    ///
    /// Options from `file` and `sname` are read when option 52 says so, and
    /// repeated options are concatenated (RFC 3396). Errors: see `ParseError`.
    pub fn parse(b: &[u8]) -> Result<Request, ParseError> {
        let hlen = check_header(b)?;
        let options = all_options(b)?;
        let kind = message_type(&options)?;
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

    /// The value of option `code`, if present (concatenated when split, RFC 3396).
    pub fn option(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    fn ip_option(&self, code: u8) -> Option<Ipv4Addr> {
        self.option(code).map(|v| ip_at(v, 0))
    }

    /// Option 50: the address the client asks for.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::REQUESTED_IP)
    }

    /// Option 54: the server the client answers or addresses.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::SERVER_ID)
    }

    /// Option 118 (RFC 3011): the subnet the client wants an address on, overriding giaddr.
    pub fn subnet_selection(&self) -> Option<Ipv4Addr> {
        self.ip_option(code::SUBNET_SELECTION)
    }

    /// Option 51: the lease time the client asks for, seconds.
    pub fn requested_lease_time(&self) -> Option<u32> {
        self.option(code::LEASE_TIME)
            .map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }

    /// Option 57: the largest DHCP message the client accepts, octets.
    pub fn max_message_size(&self) -> Option<u16> {
        self.option(code::MAX_MESSAGE_SIZE)
            .map(|v| u16::from_be_bytes([v[0], v[1]]))
    }

    /// Option 55: the codes the client asks for, in its order; empty without one.
    pub fn parameter_list(&self) -> &[u8] {
        self.option(code::PARAMETER_LIST).unwrap_or(&[])
    }

    /// Option 61 bytes, type byte included.
    pub fn client_id(&self) -> Option<&[u8]> {
        self.option(code::CLIENT_ID)
    }

    /// Option 12 as text (lossy UTF-8, trailing NULs removed, at most 255 characters);
    /// `None` when absent or empty.
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

    /// Sub-option `sub` of option 82 (RFC 3046 section 2.0), its data; `None`
    /// when absent or when the option's sub-options run past its end.
    pub fn relay_sub_option(&self, sub: u8) -> Option<&[u8]> {
        let mut rest = self.relay_info()?;
        while let [s, len, tail @ ..] = rest {
            let data = tail.get(..usize::from(*len))?;
            if *s == sub {
                return Some(data);
            }
            rest = &tail[data.len()..];
        }
        None
    }

    /// The link-selection sub-option of option 82 (RFC 3527).
    pub fn link_selection(&self) -> Option<Ipv4Addr> {
        self.relay_sub_option(code::RELAY_LINK_SELECTION)
            .filter(|d| d.len() == 4)
            .map(|d| ip_at(d, 0))
    }

    /// The server identifier override sub-option of option 82 (RFC 5107):
    /// the relay's address, which replies must name as server identifier.
    pub fn server_id_override(&self) -> Option<Ipv4Addr> {
        self.relay_sub_option(code::RELAY_SERVER_ID_OVERRIDE)
            .filter(|d| d.len() == 4)
            .map(|d| ip_at(d, 0))
    }

    /// Whether the client set the broadcast bit (RFC 2131 section 4.1): it cannot
    /// receive unicast before it has its address.
    pub fn broadcast_flag(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The identity leases are bound to: option 61 if present, else (htype, chaddr).
    pub fn client_key(&self) -> ClientKey {
        ClientKey::new(self.client_id(), &self.hw)
    }

    /// Whether the request came through a relay agent (giaddr is set).
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
