//! One address binding with everything a failover partner needs to know about
//! it (draft-ietf-dhc-failover-12 section 5.1: the full-fidelity lease record).

use crate::proto::{ClientKey, HwAddr};
use crate::time::Time;
use std::net::Ipv4Addr;

/// Where an address stands in its binding life cycle; the draft's binding states,
/// reduced to those this server uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeaseState {
    /// Available, owned by `owner`.
    Free,
    /// Bound to a client until `expires`.
    Active,
    /// The client let it run out; it still remembers the client, who gets it back first.
    Expired,
    /// The client gave it back (DHCPRELEASE).
    Released,
    /// A client reported it in use by someone else (DHCPDECLINE); quarantined until `expires`.
    Declined,
}

impl LeaseState {
    /// Lower-case name for logs, JSON and `tandem leases`.
    pub fn as_str(self) -> &'static str {
        match self {
            LeaseState::Free => "free",
            LeaseState::Active => "active",
            LeaseState::Expired => "expired",
            LeaseState::Released => "released",
            LeaseState::Declined => "declined",
        }
    }

    /// Stable number stored in the database and sent on the peer link; never renumber.
    pub fn code(self) -> i64 {
        match self {
            LeaseState::Free => 0,
            LeaseState::Active => 1,
            LeaseState::Expired => 2,
            LeaseState::Released => 3,
            LeaseState::Declined => 4,
        }
    }

    /// The state stored as `code`, or `None` for an unknown number.
    pub fn from_code(c: i64) -> Option<LeaseState> {
        Some(match c {
            0 => LeaseState::Free,
            1 => LeaseState::Active,
            2 => LeaseState::Expired,
            3 => LeaseState::Released,
            4 => LeaseState::Declined,
            _ => return None,
        })
    }

    /// Whether an address in this state may be given to a new client.
    pub fn is_reusable(self) -> bool {
        matches!(
            self,
            LeaseState::Free | LeaseState::Expired | LeaseState::Released
        )
    }
}

/// Which peer may allocate a free address. A server without a partner is the
/// primary and owns every address.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// The primary server of the pair (and a server without a partner).
    Primary,
    /// The secondary server of the pair.
    Secondary,
}

impl Owner {
    /// Lower-case name for logs, JSON and `tandem leases`.
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Primary => "primary",
            Owner::Secondary => "secondary",
        }
    }

    /// The other side of the pair.
    pub fn other(self) -> Owner {
        match self {
            Owner::Primary => Owner::Secondary,
            Owner::Secondary => Owner::Primary,
        }
    }

    /// Stable number stored in the database and sent on the peer link: 0 primary, 1 secondary.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The owner stored as `index`, or `None` for an unknown number.
    pub fn from_code(c: i64) -> Option<Owner> {
        match c {
            0 => Some(Owner::Primary),
            1 => Some(Owner::Secondary),
            _ => None,
        }
    }
}

/// The record of one address: its state, owner, client and times. There is one per
/// address that has ever been touched; an address with no record is free and owned
/// as the pool split says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The address this record is about.
    pub addr: Ipv4Addr,
    /// Where the binding stands.
    pub state: LeaseState,
    /// Which peer may allocate it while it is free.
    pub owner: Owner,
    /// Option 61 of the client, type byte included, when it sent one.
    pub client_id: Option<Vec<u8>>,
    /// The client's htype and chaddr.
    pub hw: HwAddr,
    /// Host name: the reservation's, else what the client sent (option 12), else the previous one.
    pub hostname: Option<String>,
    /// Option 82 as last received, for audit and for the partner.
    pub relay_info: Option<Vec<u8>>,
    /// Time of the latest grant (renewals included).
    pub starts: Time,
    /// When the binding ends: lease end for an active lease, quarantine end for a
    /// declined one, the release time for a released one; `Time::ZERO` if never bound.
    pub expires: Time,
    /// Client last transaction time.
    pub cltt: Time,
    /// Seconds granted at the last ACK.
    pub lease_time: u32,
    /// The expiry this server told its partner it might grant (failover).
    pub potential_expiry: Time,
    /// The potential expiry the partner has acknowledged (failover).
    pub acked_potential_expiry: Time,
    /// Sequence number of this server's latest change to the record, to be
    /// replicated; 0 when the current version came from the partner.
    pub update_seq: u64,
    /// The binding's DNS records (RFC 4703), when DDNS registered a name
    /// (boxed: most records have none, and the store holds every address).
    pub dns: Option<Box<super::DnsRecords>>,
}

impl Lease {
    /// A record for an address nobody holds.
    pub fn free(addr: Ipv4Addr, owner: Owner) -> Lease {
        Lease {
            addr,
            state: LeaseState::Free,
            owner,
            client_id: None,
            hw: HwAddr::default(),
            hostname: None,
            relay_info: None,
            starts: Time::ZERO,
            expires: Time::ZERO,
            cltt: Time::ZERO,
            lease_time: 0,
            potential_expiry: Time::ZERO,
            acked_potential_expiry: Time::ZERO,
            update_seq: 0,
            dns: None,
        }
    }

    /// The client this record is bound to, if it still is.
    pub fn client(&self) -> Option<ClientKey> {
        match self.state {
            LeaseState::Active | LeaseState::Expired | LeaseState::Released => {
                Some(ClientKey::new(self.client_id.as_deref(), &self.hw))
            }
            LeaseState::Free | LeaseState::Declined => None,
        }
    }

    /// The record with every set time moved by `d` seconds (0 stays
    /// "never"): how it would look through a clock `d` seconds off.
    pub fn shifted(&self, d: i64) -> Lease {
        let mut l = self.clone();
        for t in [
            &mut l.cltt,
            &mut l.expires,
            &mut l.starts,
            &mut l.potential_expiry,
        ] {
            if *t != Time::ZERO {
                *t = Time(t.0.saturating_add_signed(d));
            }
        }
        l
    }

    /// Whether the record remembers a binding (or a decline): times a
    /// partner may still be honouring.
    pub fn has_history(&self) -> bool {
        self.expires != Time::ZERO
            || self.potential_expiry != Time::ZERO
            || self.acked_potential_expiry != Time::ZERO
    }

    /// An upper bound on the octets of this record in a binding update
    /// (fixed fields at their widest, variable ones by length).
    pub fn wire_octets(&self) -> usize {
        let len = |b: Option<usize>| b.unwrap_or(0) + 2;
        let dns = self.dns.as_ref().map_or(0, |d| {
            d.fqdn.len()
                + d.stale
                    .iter()
                    .map(|s| s.fqdn.len() + s.dhcid.len() + 18)
                    .sum::<usize>()
                + 24
        });
        96 + len(self.client_id.as_ref().map(Vec::len))
            + len(self.hostname.as_ref().map(String::len))
            + len(self.relay_info.as_ref().map(Vec::len))
            + self.hw.bytes().len()
            + dns
    }

    /// Orders reusable addresses: never used first, then least recently ended.
    pub fn last_used(&self) -> Time {
        match self.state {
            LeaseState::Free => Time::ZERO,
            _ => self.expires.max(self.cltt),
        }
    }
}
