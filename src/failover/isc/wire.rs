//! One ISC failover message: the 12-octet header and its options, decoded
//! and encoded byte for byte (draft-ietf-dhc-failover-12 sections 6.1 and
//! 12, with ISC dhcpd 4.4's rules; see the parent module).

use super::options::{Shape, shape};
use std::net::Ipv4Addr;

/// Octets in the header, and the payload offset ISC sends (the draft's
/// "8" contradicts its own header). ISC also reads a larger offset,
/// skipping the octets between; this codec refuses one, as no ISC sends
/// it and the octets skipped would not encode back.
pub const HEADER_LEN: usize = 12;

/// The largest message ISC accepts, header included, octets.
pub const MAX_LEN: usize = 2048;

/// The message types of the draft's section 6.1, numbered as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// POOLREQ: asks the partner to rebalance free addresses.
    PoolReq,
    /// POOLRESP: how many addresses the rebalancing moved.
    PoolResp,
    /// BNDUPD: one binding (ISC never batches).
    BndUpd,
    /// BNDACK: a binding update accepted or rejected.
    BndAck,
    /// CONNECT: the primary's first message on a connection.
    Connect,
    /// CONNECTACK: the secondary's answer to CONNECT.
    ConnectAck,
    /// UPDREQALL: send every binding (a server in RECOVER).
    UpdReqAll,
    /// UPDDONE: all the requested updates were sent and acknowledged.
    UpdDone,
    /// UPDREQ: send the bindings the partner has not acknowledged.
    UpdReq,
    /// STATE: the sender's failover state.
    State,
    /// CONTACT: a keepalive.
    Contact,
    /// DISCONNECT: the sender closes the connection, and why.
    Disconnect,
    /// A number with no message (0, or 13 and up). ISC reads one without
    /// options (and type 0 with any, all skipped) and ignores it, so it
    /// serves as a keepalive; this codec never encodes one.
    Unknown(u8),
}

/// The twelve types, in their wire order from 1.
const TYPES: [MessageType; 12] = {
    use MessageType::*;
    [
        PoolReq, PoolResp, BndUpd, BndAck, Connect, ConnectAck, UpdReqAll, UpdDone, UpdReq, State,
        Contact, Disconnect,
    ]
};

impl MessageType {
    /// The type numbered `n` on the wire.
    pub fn from_wire(n: u8) -> MessageType {
        let known = usize::from(n).checked_sub(1).and_then(|i| TYPES.get(i));
        known.copied().unwrap_or(MessageType::Unknown(n))
    }

    /// The type's number on the wire.
    pub fn wire(self) -> u8 {
        match self {
            MessageType::Unknown(n) => n,
            known => TYPES
                .iter()
                .position(|t| *t == known)
                .map_or(0, |i| i as u8 + 1),
        }
    }
}

/// An option code (the draft's section 12), as a number so that codes
/// this codec does not know survive a decode and an encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OptionCode(pub u16);

impl OptionCode {
    /// The draft's addresses-transferred option.
    pub const ADDRESSES_TRANSFERRED: OptionCode = OptionCode(1);
    /// The draft's assigned-ip-address option.
    pub const ASSIGNED_IP_ADDRESS: OptionCode = OptionCode(2);
    /// The draft's binding-status option.
    pub const BINDING_STATUS: OptionCode = OptionCode(3);
    /// The draft's client-identifier option.
    pub const CLIENT_IDENTIFIER: OptionCode = OptionCode(4);
    /// The draft's client-hardware-address option.
    pub const CLIENT_HARDWARE_ADDRESS: OptionCode = OptionCode(5);
    /// The draft's client-last-transaction-time option.
    pub const CLIENT_LAST_TRANSACTION_TIME: OptionCode = OptionCode(6);
    /// The draft's ddns option.
    pub const DDNS: OptionCode = OptionCode(9);
    /// The draft's hash-bucket-assignment option.
    pub const HASH_BUCKET_ASSIGNMENT: OptionCode = OptionCode(11);
    /// The draft's ip-flags option.
    pub const IP_FLAGS: OptionCode = OptionCode(12);
    /// The draft's lease-expiration-time option.
    pub const LEASE_EXPIRATION_TIME: OptionCode = OptionCode(13);
    /// The draft's max-unacked-bndupd option.
    pub const MAX_UNACKED_BNDUPD: OptionCode = OptionCode(14);
    /// The draft's mclt option.
    pub const MCLT: OptionCode = OptionCode(15);
    /// The draft's message option.
    pub const MESSAGE: OptionCode = OptionCode(16);
    /// The draft's potential-expiration-time option.
    pub const POTENTIAL_EXPIRATION_TIME: OptionCode = OptionCode(18);
    /// The draft's receive-timer option.
    pub const RECEIVE_TIMER: OptionCode = OptionCode(19);
    /// The draft's protocol-version option.
    pub const PROTOCOL_VERSION: OptionCode = OptionCode(20);
    /// The draft's reject-reason option.
    pub const REJECT_REASON: OptionCode = OptionCode(21);
    /// The draft's relationship-name option.
    pub const RELATIONSHIP_NAME: OptionCode = OptionCode(22);
    /// The draft's server-flags option.
    pub const SERVER_FLAGS: OptionCode = OptionCode(23);
    /// The draft's server-state option.
    pub const SERVER_STATE: OptionCode = OptionCode(24);
    /// The draft's start-time-of-state option.
    pub const START_TIME_OF_STATE: OptionCode = OptionCode(25);
    /// The draft's tls-reply option.
    pub const TLS_REPLY: OptionCode = OptionCode(26);
    /// The draft's tls-request option.
    pub const TLS_REQUEST: OptionCode = OptionCode(27);
    /// The draft's vendor-class-identifier option.
    pub const VENDOR_CLASS_IDENTIFIER: OptionCode = OptionCode(28);
}

/// An option's value, in the shape its code has in the message type that
/// carries it; `Bytes` also for an option ISC skips there unread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// One octet.
    U8(u8),
    /// Two octets (IP-flags).
    U16(u16),
    /// Counts, seconds, and absolute times (seconds since the epoch).
    U32(u32),
    /// An IPv4 address.
    Ip(Ipv4Addr),
    /// Any octets (names, identifiers, text, an unread option).
    Bytes(Vec<u8>),
}

/// One option, in the order it came or is to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscOption {
    /// Which option.
    pub code: OptionCode,
    /// Its value.
    pub value: Value,
}

/// One message: its type, the sender's time (seconds since the epoch, as
/// a 32-bit number), its transaction id and its options in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message type.
    pub kind: MessageType,
    /// The sender's clock when it sent this, seconds since the epoch.
    pub time: u32,
    /// The transaction id: a BNDACK, CONNECTACK or UPDDONE echoes its
    /// request's.
    pub xid: u32,
    /// The options, in order.
    pub options: Vec<IscOption>,
}

/// Why a message is refused: each makes ISC close the connection too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IscWireError {
    /// A message shorter than its header or longer than ISC accepts.
    #[error("message of {0} octets: needs {HEADER_LEN} to {MAX_LEN}")]
    Length(usize),
    /// The length field disagrees with the octets given.
    #[error("the length field says {said} octets, {got} arrived")]
    LengthMismatch {
        /// What the length field says, octets.
        said: usize,
        /// What was given, octets.
        got: usize,
    },
    /// A payload offset other than 12.
    #[error("payload offset {0}: ISC uses {HEADER_LEN}")]
    PayloadOffset(u8),
    /// A message type outside 1 to 12 with options (or any to encode).
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// An option longer than what is left of the message.
    #[error("option {0} runs past the end of the message")]
    Truncated(u16),
    /// An option code twice in one message.
    #[error("option {0} appears twice (ISC refuses batched updates)")]
    Duplicate(u16),
    /// A fixed-size option of the wrong size.
    #[error("option {code} has {len} octets, must have {want}")]
    Size {
        /// The option code.
        code: u16,
        /// Its length, octets.
        len: usize,
        /// The length its shape has, octets.
        want: usize,
    },
    /// A value that is not of its option's shape (encoding only).
    #[error("option {code} does not hold its value's shape")]
    Shape {
        /// The option code.
        code: u16,
    },
    /// The DDNS option, which ISC refuses in any form.
    #[error("the DDNS option is a protocol error to ISC dhcpd")]
    Ddns,
}

/// The whole length of the message at the front of `buf` (its first two
/// octets), `None` until those have arrived: how a TCP stream is cut.
/// Errors: a length outside 12 to 2048 octets, on which ISC drops the
/// connection at once (and a reader should not wait for 64 KiB).
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, IscWireError> {
    let (Some(hi), Some(lo)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([*hi, *lo]));
    if !(HEADER_LEN..=MAX_LEN).contains(&len) {
        return Err(IscWireError::Length(len));
    }
    Ok(Some(len))
}

impl Frame {
    /// A message with no options yet.
    pub fn new(kind: MessageType, time: u32, xid: u32) -> Frame {
        Frame {
            kind,
            time,
            xid,
            options: Vec::new(),
        }
    }

    /// The value of option `code`, if present.
    pub fn get(&self, code: OptionCode) -> Option<&Value> {
        self.options
            .iter()
            .find(|o| o.code == code)
            .map(|o| &o.value)
    }

    /// Option `code` as one octet, if present with that shape.
    pub fn u8(&self, code: OptionCode) -> Option<u8> {
        match self.get(code)? {
            Value::U8(v) => Some(*v),
            _ => None,
        }
    }

    /// Option `code` as two octets (IP-flags), if present with that shape.
    pub fn u16(&self, code: OptionCode) -> Option<u16> {
        match self.get(code)? {
            Value::U16(v) => Some(*v),
            _ => None,
        }
    }

    /// Option `code` as a 32-bit number (seconds, counts), if present with
    /// that shape.
    pub fn u32(&self, code: OptionCode) -> Option<u32> {
        match self.get(code)? {
            Value::U32(v) => Some(*v),
            _ => None,
        }
    }

    /// Option `code` as an address, if present with that shape.
    pub fn ip(&self, code: OptionCode) -> Option<Ipv4Addr> {
        match self.get(code)? {
            Value::Ip(a) => Some(*a),
            _ => None,
        }
    }

    /// Option `code` as octets, if present with that shape.
    pub fn bytes(&self, code: OptionCode) -> Option<&[u8]> {
        match self.get(code)? {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Decodes exactly one message, all of `bytes`. Errors: see
    /// [`IscWireError`]; each is a reason to close the connection.
    pub fn decode(bytes: &[u8]) -> Result<Frame, IscWireError> {
        if !(HEADER_LEN..=MAX_LEN).contains(&bytes.len()) {
            return Err(IscWireError::Length(bytes.len()));
        }
        let said = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        if said != bytes.len() {
            let got = bytes.len();
            return Err(IscWireError::LengthMismatch { said, got });
        }
        let kind = MessageType::from_wire(bytes[2]);
        if matches!(kind, MessageType::Unknown(n) if n != 0) && bytes.len() > HEADER_LEN {
            return Err(IscWireError::UnknownType(bytes[2]));
        }
        if usize::from(bytes[3]) != HEADER_LEN {
            return Err(IscWireError::PayloadOffset(bytes[3]));
        }
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let mut frame = Frame::new(kind, word(4), word(8));
        let mut rest = &bytes[HEADER_LEN..];
        while !rest.is_empty() {
            let (option, after) = decode_option(rest, kind)?;
            frame.push_checked(option)?;
            rest = after;
        }
        Ok(frame)
    }

    /// Adds `option`, refusing a second instance of a code the type
    /// allows (ISC marks only those it reads as seen; skipped ones may
    /// repeat).
    fn push_checked(&mut self, option: IscOption) -> Result<(), IscWireError> {
        if self.repeats(self.options.len(), &option) {
            return Err(IscWireError::Duplicate(option.code.0));
        }
        self.options.push(option);
        Ok(())
    }

    /// Whether `option` repeats one of the first `upto` options in a way
    /// ISC refuses.
    fn repeats(&self, upto: usize, option: &IscOption) -> bool {
        shape(option.code, self.kind).is_some()
            && self.options[..upto].iter().any(|p| p.code == option.code)
    }

    /// Encodes the message with its options in order. Errors: what ISC
    /// would refuse (a duplicate or DDNS option, a value not of its
    /// code's shape, more than [`MAX_LEN`] octets) and an unknown type.
    pub fn encode(&self) -> Result<Vec<u8>, IscWireError> {
        if let MessageType::Unknown(n) = self.kind {
            return Err(IscWireError::UnknownType(n));
        }
        let mut out = vec![0, 0, self.kind.wire(), HEADER_LEN as u8];
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.xid.to_be_bytes());
        for (i, o) in self.options.iter().enumerate() {
            if self.repeats(i, o) {
                return Err(IscWireError::Duplicate(o.code.0));
            }
            encode_option(&mut out, o, self.kind)?;
        }
        let len = u16::try_from(out.len())
            .ok()
            .filter(|l| usize::from(*l) <= MAX_LEN)
            .ok_or(IscWireError::Length(out.len()))?;
        out[..2].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }
}

/// The option at the front of `buf` in a message of type `kind`, and what
/// follows it.
fn decode_option(buf: &[u8], kind: MessageType) -> Result<(IscOption, &[u8]), IscWireError> {
    let code = u16::from_be_bytes([buf[0], *buf.get(1).unwrap_or(&0)]);
    if buf.len() < 4 {
        return Err(IscWireError::Truncated(code));
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let value = buf.get(4..4 + len).ok_or(IscWireError::Truncated(code))?;
    let code = OptionCode(code);
    let value = match shape(code, kind) {
        Some(_) if code == OptionCode::DDNS => return Err(IscWireError::Ddns),
        Some(s) => typed(code, s, value)?,
        None => Value::Bytes(value.to_vec()),
    };
    Ok((IscOption { code, value }, &buf[4 + len..]))
}

/// `value` read as `shape`, which must be its exact size.
fn typed(code: OptionCode, shape: Shape, value: &[u8]) -> Result<Value, IscWireError> {
    if let Some(want) = shape.size().filter(|w| *w != value.len()) {
        let (code, len) = (code.0, value.len());
        return Err(IscWireError::Size { code, len, want });
    }
    Ok(match shape {
        Shape::U8 => Value::U8(value[0]),
        Shape::U16 => Value::U16(u16::from_be_bytes([value[0], value[1]])),
        Shape::U32 => Value::U32(u32::from_be_bytes([value[0], value[1], value[2], value[3]])),
        Shape::Ip => Value::Ip(Ipv4Addr::new(value[0], value[1], value[2], value[3])),
        Shape::Bytes => Value::Bytes(value.to_vec()),
    })
}

/// Appends option `o` of a message of type `kind` to `out`.
fn encode_option(out: &mut Vec<u8>, o: &IscOption, kind: MessageType) -> Result<(), IscWireError> {
    let expected = shape(o.code, kind);
    if o.code == OptionCode::DDNS && expected.is_some() {
        return Err(IscWireError::Ddns);
    }
    let bytes = match (&o.value, expected.unwrap_or(Shape::Bytes)) {
        (Value::U8(v), Shape::U8) => vec![*v],
        (Value::U16(v), Shape::U16) => v.to_be_bytes().to_vec(),
        (Value::U32(v), Shape::U32) => v.to_be_bytes().to_vec(),
        (Value::Ip(a), Shape::Ip) => a.octets().to_vec(),
        (Value::Bytes(b), Shape::Bytes) => b.clone(),
        _ => return Err(IscWireError::Shape { code: o.code.0 }),
    };
    let len = u16::try_from(bytes.len()).map_err(|_| IscWireError::Length(bytes.len()))?;
    out.extend_from_slice(&o.code.0.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes);
    Ok(())
}

#[cfg(test)]
mod tests;
