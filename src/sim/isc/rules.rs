//! The simulated dhcpd's lease record and its rules for a partner's binding
//! update, read from ISC DHCP 4.4.3's `server/failover.c`
//! (`failover_lease_is_better`, `normal_binding_state_transition_check`,
//! `conflict_binding_state_transition_check`, `lease_mine_to_reallocate`)
//! and `server/dhcp.c` (the lease time a failover pool may give). Times
//! are dhcpd's own clock, 32-bit absolute seconds, as it stores them.

use crate::failover::isc::binding::status::{
    ABANDONED, ACTIVE, BACKUP, EXPIRED, FREE, RELEASED, RESET,
};
use std::net::Ipv4Addr;

/// Slack dhcpd allows before a binding's end when it takes an expiry
/// (`ends - 65 <= now`, failover.c 6130-6138, 6288-6297).
pub const END_SLACK: u32 = 65;

/// One address as dhcpd keeps it (its `struct lease`, the fields
/// failover uses).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IscLease {
    /// The address.
    pub addr: Ipv4Addr,
    /// binding-status (`binding_status::*`).
    pub status: u8,
    /// Hardware type and chaddr, as a BNDUPD carries them (empty: none).
    pub chaddr: Vec<u8>,
    /// When the binding ends.
    pub ends: u32,
    /// The potential expiry sent to the partner.
    pub tstp: u32,
    /// The potential expiry the partner acknowledged (or sent).
    pub tsfp: u32,
    /// The partner's acknowledged `tstp` (what `UPDREQ` compares).
    pub atsfp: u32,
    /// When the binding (or a balancing move) started.
    pub starts: u32,
    /// The client's last transaction time.
    pub cltt: u32,
    /// The state the partner last acknowledged, which an unreported
    /// expiry or release may go back to (`rewind_binding_state`).
    pub rewind: u8,
    /// For the simulator's classification only (ISC keeps no such mark):
    /// whether dhcpd's own grant, not a partner's update, wrote the
    /// binding last. Taking a partner's update leaves `tstp` as it was
    /// (failover.c 5357-5366 sets `tsfp` and `atsfp` only), so a binding
    /// taken from tandem over an older, later-ending `tstp` of dhcpd's own
    /// looks like dhcpd's renewal not yet told; it is not one.
    pub granted_here: bool,
}

impl IscLease {
    /// A never-used address, FREE (the primary's), as a new pool starts
    /// on both servers.
    pub fn new(addr: Ipv4Addr) -> IscLease {
        IscLease {
            addr,
            status: FREE,
            chaddr: vec![],
            ends: 0,
            tstp: 0,
            tsfp: 0,
            atsfp: 0,
            starts: 0,
            cltt: 0,
            rewind: FREE,
            granted_here: false,
        }
    }

    /// Whether the record binds a client (ACTIVE).
    pub fn bound(&self) -> bool {
        self.status == ACTIVE
    }
}

/// `failover_lease_is_better`: whether dhcpd keeps its own unacknowledged
/// version `ours` over an incoming one of `status` and `cltt` (0 when
/// absent).
pub fn prefers_its_own(ours: &IscLease, status: u8, cltt: u32, primary: bool) -> bool {
    match (ours.status, status) {
        (ACTIVE, ACTIVE) => cltt < ours.cltt || (cltt == ours.cltt && primary),
        (ACTIVE, EXPIRED) => false,
        (_, ACTIVE) => false,
        _ => primary,
    }
}

/// The two transition checks: whether dhcpd, holding `ours`, takes a
/// move to `to` whose potential expiry is `pe`, at `now`, `normal` when
/// dhcpd is in NORMAL.
pub fn transition_ok(
    ours: &IscLease,
    to: u8,
    pe: u32,
    now: u32,
    primary: bool,
    normal: bool,
) -> bool {
    let from = ours.status;
    let agreed_expired = pe <= now;
    let ends_near = ours.ends.saturating_sub(END_SLACK) <= now;
    if from == to {
        return true;
    }
    if !normal {
        return match (from, to) {
            (ACTIVE, FREE | BACKUP) => false,
            (ACTIVE, EXPIRED) => ends_near,
            _ => true,
        };
    }
    match from {
        ACTIVE if primary => matches!(to, RELEASED | ABANDONED),
        ACTIVE => match to {
            FREE | BACKUP => agreed_expired,
            EXPIRED => ends_near,
            _ => true,
        },
        EXPIRED | RESET => !matches!(to, FREE | BACKUP) || agreed_expired,
        _ => true,
    }
}

/// What the server may do with an address, beside the partner.
#[derive(Clone, Copy, Debug)]
pub struct Standing {
    /// The primary (FREE is its own), or the secondary (BACKUP).
    pub primary: bool,
    /// In PARTNER-DOWN, and since when (our clock).
    pub partner_down_since: Option<u32>,
    /// The MCLT, seconds.
    pub mclt: u32,
    /// Now, its clock.
    pub now: u32,
}

/// `lease_mine_to_reallocate`: whether a new client may be given `l`.
pub fn mine_to_reallocate(l: &IscLease, s: Standing) -> bool {
    let waited = |stos: u32| {
        let from = if l.tsfp < stos { stos } else { l.tsfp };
        from.saturating_add(s.mclt) < s.now
    };
    match l.status {
        ACTIVE => false,
        FREE | ABANDONED => s.primary || s.partner_down_since.is_some_and(waited),
        BACKUP => !s.primary || s.partner_down_since.is_some_and(waited),
        RELEASED | EXPIRED | RESET => {
            let rewind = if s.primary { FREE } else { BACKUP };
            (matches!(l.status, RELEASED | EXPIRED) && l.rewind == rewind)
                || (s.partner_down_since.is_some() && l.tsfp < s.now)
        }
        _ => false,
    }
}

/// The lease time dhcpd gives for `desired` seconds in a failover pool
/// (dhcp.c 2900-2915): MCLT when the partner has acknowledged nothing
/// ahead, else up to that plus MCLT.
pub fn granted(desired: u32, tsfp: u32, now: u32, mclt: u32) -> u32 {
    if desired <= mclt {
        desired
    } else if tsfp <= now {
        mclt
    } else if now.saturating_add(desired) > tsfp.saturating_add(mclt) {
        tsfp - now + mclt
    } else {
        desired
    }
}

/// The potential expiry dhcpd asks of its partner for a grant of
/// `granted` seconds when `desired` were wanted (dhcp.c 2925-2935).
pub fn potential_expiry(desired: u32, granted: u32, now: u32) -> u32 {
    now.saturating_add(desired).saturating_add(granted / 2)
}
