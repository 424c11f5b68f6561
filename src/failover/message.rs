//! The messages of the binding-update protocol, one per draft message
//! (draft-ietf-dhc-failover-12 section 6), as plain domain values. How they
//! are serialized and authenticated is `codec`'s business, so a second codec
//! (the draft's own wire format, to pair with ISC dhcpd) can reuse them.

use super::state::State;
use crate::failover::clock::OffsetBounds;
use crate::lease::{Lease, LeaseState, Owner};
use crate::proto::HwAddr;
use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

pub const PROTOCOL_VERSION: u16 = 3;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    Connect(Connect),
    ConnectAck(ConnectAck),
    State {
        state: WireState,
        since: u64,
    },
    /// Keepalive; carries the sender's clock so the offset stays current,
    /// and the sender's lower bound on (receiver's clock − sender's), which
    /// is the receiver's upper bound on the offset (see `failover::clock`).
    Contact {
        time: u64,
        floor: Option<i64>,
    },
    BindingUpdate {
        batch: u64,
        time: u64,
        leases: Vec<WireLease>,
    },
    BindingAck {
        batch: u64,
        rejects: Vec<Reject>,
    },
    UpdateRequest {
        since: u64,
    },
    UpdateRequestAll,
    UpdateDone,
    PoolRequest {
        pool: u32,
        wanted: u32,
    },
    PoolResponse {
        pool: u32,
        given: u32,
    },
    Disconnect {
        reason: String,
    },
}

impl Message {
    pub fn name(&self) -> &'static str {
        match self {
            Message::Connect(_) => "connect",
            Message::ConnectAck(_) => "connect-ack",
            Message::State { .. } => "state",
            Message::Contact { .. } => "contact",
            Message::BindingUpdate { .. } => "binding-update",
            Message::BindingAck { .. } => "binding-ack",
            Message::UpdateRequest { .. } => "update-request",
            Message::UpdateRequestAll => "update-request-all",
            Message::UpdateDone => "update-done",
            Message::PoolRequest { .. } => "pool-request",
            Message::PoolResponse { .. } => "pool-response",
            Message::Disconnect { .. } => "disconnect",
        }
    }
}

/// Sent by each side first: who it is and what it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    pub version: u16,
    pub name: String,
    pub primary: bool,
    /// The sender's clock, for the offset (draft section 5.10).
    pub time: u64,
    pub fingerprint: String,
    /// The sender's database identity.
    pub epoch: u64,
    /// The receiver's epoch as the sender last knew it, if ever.
    pub seen_epoch: Option<u64>,
    pub state: WireState,
    pub mclt: u64,
    /// The sender's database holds every binding of the pair: a partner
    /// that lost its database may stop re-learning once it has all of them.
    pub covers: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAck {
    pub time: u64,
    /// The sender's lower bound on (receiver − sender), from the CONNECT it
    /// answers: the receiver's first upper bound on the offset, in place
    /// before any binding update (see `failover::clock`).
    pub floor: i64,
}

/// A state on the wire; unknown values from a newer peer stay representable.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WireState(pub u8);

impl From<State> for WireState {
    fn from(s: State) -> WireState {
        WireState(State::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8)
    }
}

impl WireState {
    pub fn state(self) -> Option<State> {
        State::ALL.get(usize::from(self.0)).copied()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub addr: u32,
    pub reason: String,
}

/// A full-fidelity lease record on the wire (times in the sender's clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireLease {
    pub addr: u32,
    pub state: u8,
    pub owner: u8,
    pub client_id: Option<Vec<u8>>,
    pub htype: u8,
    pub chaddr: Vec<u8>,
    pub hostname: Option<String>,
    pub relay_info: Option<Vec<u8>>,
    pub starts: u64,
    pub expires: u64,
    pub cltt: u64,
    pub lease_time: u32,
    pub potential_expiry: u64,
    /// The sender's sequence number for this change (0: not its own change).
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLease {
    #[error("unknown binding state {0}")]
    State(u8),
    #[error("unknown owner {0}")]
    Owner(u8),
    #[error("{0} is longer than allowed")]
    TooLong(&'static str),
    #[error("an active binding without a client")]
    NoClient,
}

/// Shifts a sender's time into ours; 0 stays "never".
fn shift(t: u64, offset: i64) -> Time {
    if t == 0 {
        Time::ZERO
    } else {
        Time(t.saturating_add_signed(offset.saturating_neg()))
    }
}

impl WireLease {
    /// Encodes `l` with times in our own clock; the receiver converts them
    /// (it alone knows the offset it measured).
    pub fn from_lease(l: &Lease) -> WireLease {
        WireLease {
            addr: u32::from(l.addr),
            state: l.state.code() as u8,
            owner: l.owner.index() as u8,
            client_id: l.client_id.clone(),
            htype: l.hw.htype,
            chaddr: l.hw.bytes().to_vec(),
            hostname: l.hostname.clone(),
            relay_info: l.relay_info.clone(),
            starts: l.starts.0,
            expires: l.expires.0,
            cltt: l.cltt.0,
            lease_time: l.lease_time,
            potential_expiry: l.potential_expiry.0,
            seq: l.update_seq,
        }
    }

    /// Decodes into our clock, given what we know of the partner's offset
    /// (partner − us); the record's `update_seq` is 0 (the partner's change).
    pub fn to_lease(&self, offset: OffsetBounds) -> Result<Lease, InvalidLease> {
        let state =
            LeaseState::from_code(i64::from(self.state)).ok_or(InvalidLease::State(self.state))?;
        let owner =
            Owner::from_code(i64::from(self.owner)).ok_or(InvalidLease::Owner(self.owner))?;
        if self.chaddr.len() > 16 {
            return Err(InvalidLease::TooLong("chaddr"));
        }
        if self
            .client_id
            .as_ref()
            .is_some_and(|c| c.len() > 255 || c.len() < 2)
        {
            return Err(InvalidLease::TooLong("client id"));
        }
        if self.hostname.as_ref().is_some_and(|h| h.len() > 255) {
            return Err(InvalidLease::TooLong("hostname"));
        }
        if self.relay_info.as_ref().is_some_and(|r| r.len() > 255) {
            return Err(InvalidLease::TooLong("relay info"));
        }
        if state == LeaseState::Active && self.chaddr.is_empty() && self.client_id.is_none() {
            return Err(InvalidLease::NoClient);
        }
        // Each time is converted on its safe side: the end of the binding and
        // the partner's potential expiry at their latest (no address is
        // reused early), the potential expiry the partner committed to, as
        // a bound on our own grants, at its earliest (the MCLT cap holds),
        // and transaction times at the middle, which the partner mirrors.
        let (late, early, mid) = (offset.low, offset.high, offset.middle());
        Ok(Lease {
            addr: Ipv4Addr::from(self.addr),
            state,
            owner,
            client_id: self.client_id.clone(),
            hw: HwAddr::new(self.htype, &self.chaddr),
            hostname: self.hostname.clone(),
            relay_info: self.relay_info.clone(),
            starts: shift(self.starts, mid),
            expires: shift(self.expires, late),
            cltt: shift(self.cltt, mid),
            lease_time: self.lease_time,
            potential_expiry: shift(self.potential_expiry, late),
            // The partner has committed to this potential expiry itself.
            acked_potential_expiry: shift(self.potential_expiry, early),
            update_seq: 0,
        })
    }
}
