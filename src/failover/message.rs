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

mod versions;

/// The newest version of the peer protocol (hello, framing and this message
/// set) this tandem speaks; sent in the hello and in CONNECT.
///
/// Version 4 added the SHUTDOWN state (maintenance), which a version 3
/// partner does not know: it is entered only with a partner that speaks 4.
/// Version 5 added `PairConfig` (a reload's new fingerprint, compared on a
/// live link), sent only to a partner that speaks 5. Version 6 added the
/// DNS side of binding updates (`BindingUpdateDns`). Version 7 added
/// runtime reservations (`Reservations`), sent only to a partner that
/// speaks 7. Version 8 carries every stale DNS name of a record
/// (`BindingUpdateStale`); 6 and 7 carry one at most.
pub const PROTOCOL_VERSION: u16 = 8;

/// The oldest version this tandem still speaks, so that a pair is upgraded
/// one peer at a time: raise it only a release after the version it drops.
pub const OLDEST_PROTOCOL_VERSION: u16 = 3;

/// The version a pair speaks when the partner's newest is `theirs`: the
/// newest both speak (a newer partner speaks ours, if it still can; it
/// decides that by the same rule). Errors: the partner is older than
/// anything we speak, named so that the operator knows which to upgrade.
pub fn agree(theirs: u16) -> Result<u16, String> {
    let v = theirs.min(PROTOCOL_VERSION);
    if v < OLDEST_PROTOCOL_VERSION {
        return Err(format!(
            "the partner speaks peer protocol versions up to {theirs}, this tandem {OLDEST_PROTOCOL_VERSION} to {PROTOCOL_VERSION}: upgrade the partner (a pair is upgraded one release at a time)"
        ));
    }
    Ok(v)
}

/// One message on the peer link. Times are whole seconds of the sender's clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Opens a session: who the sender is, its configuration fingerprint and its state.
    Connect(Connect),
    /// Answers a CONNECT, with the clock reading and offset bound it needs.
    ConnectAck(ConnectAck),
    /// The sender's failover state changed (the draft's STATE message).
    State {
        /// The new state.
        state: WireState,
        /// When the sender entered it (sender's clock).
        since: u64,
    },
    /// Keepalive; carries the sender's clock so the offset stays current,
    /// and the sender's lower bound on (receiver's clock − sender's), which
    /// is the receiver's upper bound on the offset (see `failover::clock`).
    Contact {
        /// The sender's clock at sending.
        time: u64,
        /// The sender's lower bound on (receiver − sender), once it has one.
        floor: Option<i64>,
    },
    /// A batch of lease records (the draft's BNDUPD, several per message).
    BindingUpdate {
        /// The sender's batch number, echoed by the BINDING-ACK.
        batch: u64,
        /// The sender's clock at sending, to keep the offset current.
        time: u64,
        /// The records, in the order the sender committed them.
        leases: Vec<WireLease>,
    },
    /// Acknowledges a BINDING-UPDATE once the accepted records are durable here
    /// (the draft's BNDACK); sent only after the commit.
    BindingAck {
        /// The batch acknowledged.
        batch: u64,
        /// Records not taken, each with why; the refusing side sends its own
        /// version back in a binding update of its own.
        rejects: Vec<Reject>,
    },
    /// Asks for every change the partner made after a sequence number (the draft's UPDREQ).
    UpdateRequest {
        /// The highest sequence number of the partner's changes already committed here.
        since: u64,
    },
    /// Asks for every record the partner holds (the draft's UPDREQALL), after a
    /// database loss or when the partner's database is not the one known.
    UpdateRequestAll,
    /// All records the request asked for have been sent and acknowledged (the draft's UPDDONE).
    UpdateDone,
    /// Asks the partner for free addresses of a pool (the draft's POOLREQ), in NORMAL only.
    PoolRequest {
        /// The pool, as its `PoolId` number.
        pool: u32,
        /// How many free addresses the sender would need to reach its share.
        wanted: u32,
    },
    /// Answers a POOL-REQUEST (the draft's POOLRESP); the addresses move by binding update.
    PoolResponse {
        /// The pool, as its `PoolId` number.
        pool: u32,
        /// How many free addresses were handed over (0 outside NORMAL).
        given: u32,
    },
    /// The sender is closing the link, and why (the draft's DISCONNECT).
    Disconnect {
        /// Human-readable reason, logged by the receiver.
        reason: String,
    },
    /// The sender's pair fingerprint (`Config::fingerprint`) after a
    /// reload, for the receiver to compare on a live link (protocol 5; not
    /// in the draft, whose peers share no configuration digest). Appended
    /// last, so the earlier messages keep their wire tags.
    PairConfig {
        /// The sender's fingerprint (hex SHA-256).
        fingerprint: String,
        /// Whether this answers the receiver's own `PairConfig`; a first one
        /// is answered with the receiver's fingerprint, an answer is not.
        answer: bool,
    },
    /// A `BindingUpdate` with each record's DNS side (protocols 6 and 7,
    /// in their form: one stale name at most), which the protocol-5
    /// record cannot carry: `dns[i]` belongs to `leases[i]`.
    /// Wire form only: the codec sends it in place of `BindingUpdate` on a
    /// session that speaks 6 (`Message::for_version`) and reads it back as
    /// one (`Message::normalized`), so the peer never sees it. Appended
    /// last, keeping earlier wire tags.
    BindingUpdateDns {
        /// As in `BindingUpdate`.
        batch: u64,
        /// As in `BindingUpdate`.
        time: u64,
        /// As in `BindingUpdate`.
        leases: Vec<WireLease>,
        /// The DNS side of each record, in the same order.
        dns: Vec<Option<Box<crate::lease::DnsRecordsV6>>>,
    },
    /// The sender's runtime reservations (`config::runtime`), every entry
    /// (removals included), at connect and after each operator change
    /// (protocol 7; not in the draft). The receiver keeps each entry that
    /// supersedes its own. Appended last, keeping earlier wire tags.
    Reservations {
        /// The entries, at most `config::runtime::MAX_ENTRIES`.
        entries: Vec<crate::config::runtime::RuntimeEntry>,
    },
    /// `BindingUpdateDns` from protocol 8: each record's DNS side with all
    /// its stale names. Wire form only, like `BindingUpdateDns`. Appended
    /// last, keeping earlier wire tags.
    BindingUpdateStale {
        /// As in `BindingUpdate`.
        batch: u64,
        /// As in `BindingUpdate`.
        time: u64,
        /// As in `BindingUpdate`.
        leases: Vec<WireLease>,
        /// The DNS side of each record, in the same order.
        dns: Vec<Option<Box<crate::lease::DnsRecords>>>,
    },
}

/// The first peer protocol version that carries DNS records
/// (`Message::BindingUpdateDns`).
pub const DNS_VERSION: u16 = 6;

/// The first peer protocol version that carries runtime reservations
/// (`Message::Reservations`).
pub const RESERVATIONS_VERSION: u16 = 7;

/// The first peer protocol version that carries every stale DNS name of a
/// record (`Message::BindingUpdateStale`).
pub const STALE_VERSION: u16 = 8;

impl Message {
    /// Lower-case name for logs and errors, e.g. "binding-update".
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
            Message::PairConfig { .. } => "pair-config",
            Message::BindingUpdateDns { .. } => "binding-update-dns",
            Message::BindingUpdateStale { .. } => "binding-update-stale",
            Message::Reservations { .. } => "reservations",
        }
    }
}

/// Sent by each side first: who it is and what it has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connect {
    /// The sender's `PROTOCOL_VERSION` (its newest); see `agree`.
    pub version: u16,
    /// The sender's server name, for logs and status.
    pub name: String,
    /// Whether the sender is the primary; the two must differ.
    pub primary: bool,
    /// The sender's clock, for the offset (draft section 5.10).
    pub time: u64,
    /// Digest of the pool configuration (`Config::fingerprint`); must match ours.
    pub fingerprint: String,
    /// The sender's database identity.
    pub epoch: u64,
    /// The receiver's epoch as the sender last knew it, if ever.
    pub seen_epoch: Option<u64>,
    /// The sender's current failover state.
    pub state: WireState,
    /// The sender's MCLT in seconds.
    pub mclt: u64,
    /// The sender's database holds every binding of the pair: a partner
    /// that lost its database may stop re-learning once it has all of them.
    pub covers: bool,
    /// How many binding updates the sender takes unacknowledged, where its
    /// protocol says so: an ISC dhcpd's max-unacked-updates, from its
    /// CONNECT or CONNECTACK (draft section 7.1.1), set by the ISC
    /// session. Not on tandem's own wire (`None` from a tandem peer, which
    /// takes the configured window of batches).
    #[serde(skip)]
    pub max_unacked: Option<u32>,
}

/// Answers a CONNECT.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAck {
    /// The sender's clock at sending.
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
    /// The state, or `None` for a number this version does not know.
    pub fn state(self) -> Option<State> {
        State::ALL.get(usize::from(self.0)).copied()
    }
}

/// How a [`Reject::reason`] begins when the record could not be read
/// (an ISC translator maps it to ISC's "missing binding information").
pub const REJECT_INVALID_RECORD: &str = "invalid record";

/// How a [`Reject::reason`] begins when the address is in no subnet of
/// the receiver's (ISC's "illegal IP address").
pub const REJECT_NO_SUBNET: &str = "address is in no subnet here";

/// One record of a BINDING-UPDATE the receiver refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// The address, as a host-order `u32`.
    pub addr: u32,
    /// Why it was refused, for the sender's log.
    pub reason: String,
}

/// A full-fidelity lease record on the wire (times in the sender's clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireLease {
    /// The address, as a host-order `u32`.
    pub addr: u32,
    /// `LeaseState::code`.
    pub state: u8,
    /// `Owner::index`.
    pub owner: u8,
    /// Option 61 bytes, type byte included (2 to 255 octets).
    pub client_id: Option<Vec<u8>>,
    /// Hardware type of the client.
    pub htype: u8,
    /// chaddr, up to 16 octets.
    pub chaddr: Vec<u8>,
    /// Host name (up to 255 octets).
    pub hostname: Option<String>,
    /// Option 82 as last received (up to 255 octets).
    pub relay_info: Option<Vec<u8>>,
    /// Time of the latest grant; 0 means never.
    pub starts: u64,
    /// End of the binding; 0 means never.
    pub expires: u64,
    /// Client last transaction time; 0 means never.
    pub cltt: u64,
    /// Seconds granted at the last ACK.
    pub lease_time: u32,
    /// The expiry the sender may grant up to, which the receiver must honour; 0 means never.
    pub potential_expiry: u64,
    /// The sender's sequence number for this change (0: not its own change).
    pub seq: u64,
    /// The binding's DNS records: not part of this struct's wire form,
    /// which protocol 5 fixed; protocol 6 carries them beside it
    /// (`Message::BindingUpdateDns`, made and undone by the codec).
    #[serde(skip)]
    pub dns: Option<Box<crate::lease::DnsRecords>>,
}

/// Why a received `WireLease` cannot become a `Lease`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLease {
    /// The state number is not a `LeaseState` code.
    #[error("unknown binding state {0}")]
    State(u8),
    /// The owner number is not 0 or 1.
    #[error("unknown owner {0}")]
    Owner(u8),
    /// The named field is longer than its limit (chaddr 16, others 255 octets).
    #[error("{0} is longer than allowed")]
    TooLong(&'static str),
    /// An active binding with neither chaddr nor client identifier.
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
            dns: l.dns.clone(),
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
        if self
            .dns
            .as_ref()
            .is_some_and(|d| !crate::ddns::valid_records(d))
        {
            return Err(InvalidLease::TooLong("dns records"));
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
            dns: self.dns.clone(),
        })
    }
}
