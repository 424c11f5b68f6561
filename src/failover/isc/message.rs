//! ISC failover messages as typed values: what each carries, read from a
//! [`Frame`] and written back as ISC dhcpd 4.4 writes it, its options in
//! ISC's own order (`server/failover.c`, `dhcp_failover_send_*`), so that
//! tandem's frames look like dhcpd's on the wire. Every field is optional
//! as on the wire: what a message must carry (a CONNECT's MCLT and hash
//! buckets, a BNDUPD's address and status) is for the receiver to check,
//! and ISC answers its absence with a reject code, not a closed link.

use super::{Frame, IscOption, MessageType, OptionCode as C, Value};
use std::net::Ipv4Addr;

/// What a CONNECT or CONNECTACK says of the sender's side of the
/// relationship (draft-ietf-dhc-failover-12 sections 7.8 and 7.9).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hello {
    /// The relationship name (`failover peer "name"`), bytes as sent.
    pub name: Option<Vec<u8>>,
    /// How many binding updates the sender takes unacknowledged.
    pub max_unacked: Option<u32>,
    /// The sender's `max-response-delay`, seconds: send it a CONTACT
    /// every third of it.
    pub receive_timer: Option<u32>,
    /// The sender's software, e.g. "isc-4.4.3-P1" (never checked by ISC).
    pub vendor_class: Option<Vec<u8>>,
    /// 1; ISC never checks it.
    pub protocol_version: Option<u8>,
}

/// Why a message was refused, with ISC's text (the draft's reject-reason
/// codes, section 12.21).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejection {
    /// The reject-reason code.
    pub reason: Option<u8>,
    /// The message option's text, if any.
    pub message: Option<Vec<u8>>,
}

/// One binding, as a BNDUPD carries it (research section 3.2). Times are
/// absolute, seconds since the epoch as 32-bit numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// The address.
    pub addr: Option<Ipv4Addr>,
    /// binding-status: 1 FREE, 2 ACTIVE, 3 EXPIRED, 4 RELEASED,
    /// 5 ABANDONED, 6 RESET, 7 BACKUP.
    pub status: Option<u8>,
    /// The client's option 61 value, type octet included.
    pub client_id: Option<Vec<u8>>,
    /// The hardware type octet, then chaddr.
    pub chaddr: Option<Vec<u8>>,
    /// When the lease ends (ISC sends it in every state).
    pub ends: Option<u32>,
    /// The potential expiry the sender wants acknowledged (ISC's tstp).
    pub potential_expiry: Option<u32>,
    /// ISC's `starts` (the lease's start, or when a balancing move was made).
    pub start_time_of_state: Option<u32>,
    /// The client's last transaction time.
    pub cltt: Option<u32>,
    /// IP-flags: 1 RESERVED, 2 BOOTP; absent means neither.
    pub ip_flags: Option<u16>,
}

/// An ISC failover message with what it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IscMessage {
    /// POOLREQ.
    PoolReq,
    /// POOLRESP: how many addresses the rebalancing queued.
    PoolResp {
        /// addresses-transferred.
        transferred: Option<u32>,
    },
    /// BNDUPD: one binding.
    BndUpd(Binding),
    /// BNDACK: the address acknowledged, or refused and why.
    BndAck {
        /// The address (ISC acks carry nothing else, but a reject).
        addr: Option<Ipv4Addr>,
        /// Why it was refused, if it was.
        reject: Option<Rejection>,
    },
    /// CONNECT: the primary's side, its MCLT (seconds) and its hash bucket
    /// assignment (32 octets, the primary's buckets, least bit first).
    Connect {
        /// The primary's side.
        hello: Hello,
        /// TLS-request (ISC sends 0).
        tls_request: Option<u8>,
        /// The MCLT, seconds.
        mclt: Option<u32>,
        /// The hash bucket assignment.
        hba: Option<Vec<u8>>,
    },
    /// CONNECTACK: the secondary's side, or the connection refused.
    ConnectAck {
        /// The secondary's side.
        hello: Hello,
        /// TLS-reply (ISC sends 0 when asked).
        tls_reply: Option<u8>,
        /// Why the CONNECT was refused, if it was.
        reject: Option<Rejection>,
    },
    /// UPDREQALL.
    UpdReqAll,
    /// UPDDONE.
    UpdDone,
    /// UPDREQ.
    UpdReq,
    /// STATE: the sender's state number (ISC's: 2 NORMAL, 3
    /// COMMUNICATIONS-INTERRUPTED, 4 PARTNER-DOWN, 6 RECOVER, 9
    /// RECOVER-DONE, 254 RECOVER-WAIT...), its flags (1: in STARTUP) and
    /// when it entered the state.
    State {
        /// server-state.
        state: Option<u8>,
        /// server-flags.
        flags: Option<u8>,
        /// start-time-of-state.
        since: Option<u32>,
    },
    /// CONTACT.
    Contact,
    /// DISCONNECT, and why.
    Disconnect(Rejection),
}

impl IscMessage {
    /// What `f` carries; `None` for a type with no message (ISC ignores
    /// those). Options of the wrong shape read as absent.
    pub fn read(f: &Frame) -> Option<IscMessage> {
        use MessageType as T;
        Some(match f.kind {
            T::PoolReq => IscMessage::PoolReq,
            T::PoolResp => IscMessage::PoolResp {
                transferred: f.u32(C::ADDRESSES_TRANSFERRED),
            },
            T::BndUpd => IscMessage::BndUpd(read_binding(f)),
            T::BndAck => IscMessage::BndAck {
                addr: f.ip(C::ASSIGNED_IP_ADDRESS),
                reject: read_rejection(f),
            },
            T::Connect => IscMessage::Connect {
                hello: read_hello(f),
                tls_request: f.u8(C::TLS_REQUEST),
                mclt: f.u32(C::MCLT),
                hba: f.bytes(C::HASH_BUCKET_ASSIGNMENT).map(<[u8]>::to_vec),
            },
            T::ConnectAck => IscMessage::ConnectAck {
                hello: read_hello(f),
                tls_reply: f.u8(C::TLS_REPLY),
                reject: read_rejection(f),
            },
            T::UpdReqAll => IscMessage::UpdReqAll,
            T::UpdDone => IscMessage::UpdDone,
            T::UpdReq => IscMessage::UpdReq,
            T::State => IscMessage::State {
                state: f.u8(C::SERVER_STATE),
                flags: f.u8(C::SERVER_FLAGS),
                since: f.u32(C::START_TIME_OF_STATE),
            },
            T::Contact => IscMessage::Contact,
            T::Disconnect => IscMessage::Disconnect(read_rejection(f).unwrap_or_default()),
            T::Unknown(_) => return None,
        })
    }

    /// The message as a frame sent at `time` (the sender's clock, seconds
    /// since the epoch) with transaction id `xid`, its options in the
    /// order ISC dhcpd 4.4 sends them.
    pub fn frame(&self, time: u32, xid: u32) -> Frame {
        let mut f = Frame::new(self.kind(), time, xid);
        let mut put = Put(&mut f.options);
        match self {
            IscMessage::PoolResp { transferred } => put.u32(C::ADDRESSES_TRANSFERRED, *transferred),
            IscMessage::BndUpd(b) => write_binding(&mut put, b),
            IscMessage::BndAck { addr, reject } => {
                put.ip(C::ASSIGNED_IP_ADDRESS, *addr);
                write_rejection(&mut put, reject.as_ref());
            }
            IscMessage::Connect {
                hello,
                tls_request,
                mclt,
                hba,
            } => {
                write_hello(&mut put, hello);
                put.u8(C::TLS_REQUEST, *tls_request);
                put.u32(C::MCLT, *mclt);
                put.bytes(C::HASH_BUCKET_ASSIGNMENT, hba.as_ref());
            }
            IscMessage::ConnectAck {
                hello,
                tls_reply,
                reject,
            } => {
                write_hello(&mut put, hello);
                put.u8(C::TLS_REPLY, *tls_reply);
                write_rejection(&mut put, reject.as_ref());
            }
            IscMessage::State {
                state,
                flags,
                since,
            } => {
                put.u8(C::SERVER_STATE, *state);
                put.u8(C::SERVER_FLAGS, *flags);
                put.u32(C::START_TIME_OF_STATE, *since);
            }
            IscMessage::Disconnect(r) => write_rejection(&mut put, Some(r)),
            IscMessage::PoolReq
            | IscMessage::UpdReqAll
            | IscMessage::UpdDone
            | IscMessage::UpdReq
            | IscMessage::Contact => {}
        }
        f
    }

    /// The message's type.
    pub fn kind(&self) -> MessageType {
        use MessageType as T;
        match self {
            IscMessage::PoolReq => T::PoolReq,
            IscMessage::PoolResp { .. } => T::PoolResp,
            IscMessage::BndUpd(_) => T::BndUpd,
            IscMessage::BndAck { .. } => T::BndAck,
            IscMessage::Connect { .. } => T::Connect,
            IscMessage::ConnectAck { .. } => T::ConnectAck,
            IscMessage::UpdReqAll => T::UpdReqAll,
            IscMessage::UpdDone => T::UpdDone,
            IscMessage::UpdReq => T::UpdReq,
            IscMessage::State { .. } => T::State,
            IscMessage::Contact => T::Contact,
            IscMessage::Disconnect(_) => T::Disconnect,
        }
    }
}

fn read_hello(f: &Frame) -> Hello {
    Hello {
        name: f.bytes(C::RELATIONSHIP_NAME).map(<[u8]>::to_vec),
        max_unacked: f.u32(C::MAX_UNACKED_BNDUPD),
        receive_timer: f.u32(C::RECEIVE_TIMER),
        vendor_class: f.bytes(C::VENDOR_CLASS_IDENTIFIER).map(<[u8]>::to_vec),
        protocol_version: f.u8(C::PROTOCOL_VERSION),
    }
}

fn write_hello(put: &mut Put<'_>, h: &Hello) {
    put.bytes(C::RELATIONSHIP_NAME, h.name.as_ref());
    put.u32(C::MAX_UNACKED_BNDUPD, h.max_unacked);
    put.u32(C::RECEIVE_TIMER, h.receive_timer);
    put.bytes(C::VENDOR_CLASS_IDENTIFIER, h.vendor_class.as_ref());
    put.u8(C::PROTOCOL_VERSION, h.protocol_version);
}

fn read_rejection(f: &Frame) -> Option<Rejection> {
    let r = Rejection {
        reason: f.u8(C::REJECT_REASON),
        message: f.bytes(C::MESSAGE).map(<[u8]>::to_vec),
    };
    (r != Rejection::default()).then_some(r)
}

fn write_rejection(put: &mut Put<'_>, r: Option<&Rejection>) {
    put.u8(C::REJECT_REASON, r.and_then(|r| r.reason));
    put.bytes(C::MESSAGE, r.and_then(|r| r.message.as_ref()));
}

fn read_binding(f: &Frame) -> Binding {
    Binding {
        addr: f.ip(C::ASSIGNED_IP_ADDRESS),
        status: f.u8(C::BINDING_STATUS),
        client_id: f.bytes(C::CLIENT_IDENTIFIER).map(<[u8]>::to_vec),
        chaddr: f.bytes(C::CLIENT_HARDWARE_ADDRESS).map(<[u8]>::to_vec),
        ends: f.u32(C::LEASE_EXPIRATION_TIME),
        potential_expiry: f.u32(C::POTENTIAL_EXPIRATION_TIME),
        start_time_of_state: f.u32(C::START_TIME_OF_STATE),
        cltt: f.u32(C::CLIENT_LAST_TRANSACTION_TIME),
        ip_flags: f.u16(C::IP_FLAGS),
    }
}

/// A BNDUPD's options in the order of ISC's `dhcp_failover_send_bind_update`.
fn write_binding(put: &mut Put<'_>, b: &Binding) {
    put.ip(C::ASSIGNED_IP_ADDRESS, b.addr);
    put.u8(C::BINDING_STATUS, b.status);
    put.bytes(C::CLIENT_IDENTIFIER, b.client_id.as_ref());
    put.bytes(C::CLIENT_HARDWARE_ADDRESS, b.chaddr.as_ref());
    put.u32(C::LEASE_EXPIRATION_TIME, b.ends);
    put.u32(C::POTENTIAL_EXPIRATION_TIME, b.potential_expiry);
    put.u32(C::START_TIME_OF_STATE, b.start_time_of_state);
    put.u32(C::CLIENT_LAST_TRANSACTION_TIME, b.cltt);
    if let Some(v) = b.ip_flags {
        put.push(C::IP_FLAGS, Value::U16(v));
    }
}

/// Appends the options that are present.
struct Put<'a>(&'a mut Vec<IscOption>);

impl Put<'_> {
    fn push(&mut self, code: C, value: Value) {
        self.0.push(IscOption { code, value });
    }

    fn u8(&mut self, code: C, v: Option<u8>) {
        if let Some(v) = v {
            self.push(code, Value::U8(v));
        }
    }

    fn u32(&mut self, code: C, v: Option<u32>) {
        if let Some(v) = v {
            self.push(code, Value::U32(v));
        }
    }

    fn ip(&mut self, code: C, v: Option<Ipv4Addr>) {
        if let Some(v) = v {
            self.push(code, Value::Ip(v));
        }
    }

    fn bytes(&mut self, code: C, v: Option<&Vec<u8>>) {
        if let Some(v) = v {
            self.push(code, Value::Bytes(v.clone()));
        }
    }
}

#[cfg(test)]
mod tests;
