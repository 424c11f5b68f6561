//! The option table of draft-ietf-dhc-failover-12 section 12 as ISC
//! dhcpd 4.4 applies it: each option's value shape (`server/stables.c`)
//! and the message types that may carry it (ISC's `fto_allowed`).

use super::{MessageType, OptionCode};

/// How an option's value is laid out: a fixed-size integer or address, or
/// bytes of any length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    U8,
    U16,
    U32,
    Ip,
    Bytes,
}

impl Shape {
    /// The exact size in octets, `None` for bytes.
    pub(super) fn size(self) -> Option<usize> {
        match self {
            Shape::U8 => Some(1),
            Shape::U16 => Some(2),
            Shape::U32 | Shape::Ip => Some(4),
            Shape::Bytes => None,
        }
    }
}

/// The shape of option `code` where `kind` allows it, `None` where ISC
/// skips it unread (not allowed there, or unknown).
pub(super) fn shape(code: OptionCode, kind: MessageType) -> Option<Shape> {
    use MessageType::*;
    let (shape, allowed): (Shape, &[MessageType]) = match code.0 {
        1 => (Shape::U32, &[PoolResp]),
        2 => (Shape::Ip, &[BndUpd, BndAck]),
        3 => (Shape::U8, &[BndUpd, BndAck]),
        4 | 5 | 7 | 8 | 9 => (Shape::Bytes, &[BndUpd, BndAck]),
        6 | 13 | 18 => (Shape::U32, &[BndUpd, BndAck]),
        11 => (Shape::Bytes, &[Connect]),
        12 => (Shape::U16, &[BndUpd, BndAck]),
        14 | 19 => (Shape::U32, &[Connect, ConnectAck]),
        15 => (Shape::U32, &[Connect]),
        16 => (Shape::Bytes, &[BndAck, ConnectAck, Disconnect]),
        20 => (Shape::U8, &[Connect, ConnectAck]),
        21 => (Shape::U8, &[BndAck, ConnectAck, Disconnect]),
        22 | 28 => (Shape::Bytes, &[Connect, ConnectAck]),
        23 | 24 => (Shape::U8, &[State]),
        25 => (Shape::U32, &[BndUpd, BndAck, State]),
        26 => (Shape::U8, &[ConnectAck]),
        27 => (Shape::U8, &[Connect]),
        _ => return None,
    };
    allowed.contains(&kind).then_some(shape)
}
