//! What a running server may take from a changed configuration (SIGHUP,
//! `tandem reload`) and what it must refuse. Options, lease times, T1/T2,
//! PXE fields, reservations, rate limits, probation and offer hold apply at
//! once; pools and subnets may be added. Refused, each naming its key:
//!
//! - what the edge opened at start (interfaces, ports, database, sockets,
//!   metrics listener, server identity): a restart applies those;
//! - what both peers of a pair must agree on in `[failover]` (role, link,
//!   key, MCLT, split; the rest is each peer's own and applies at once);
//! - in a pair, a pool removed or resized: a pool's extent decides which
//!   peer owns each never-leased address (`LeaseStore::initial_owner`), so
//!   two peers disagreeing on it could both allocate one address. Alone, a
//!   pool may shrink or go when no lease is held in what leaves (the node
//!   checks that against its lease store: [`Change::vacated`]);
//! - in a pair, a reservation added, removed or moved inside a pool: while
//!   only one peer has it, that peer gives the address to the reserved
//!   client and the other may give it, as its own free address, to anyone;
//! - in a pair, a subnet added or removed: the peer without it refuses the
//!   other's bindings there, again and again;
//! - beside an ISC dhcpd, `max_response_delay`, `max_unacked_updates` and
//!   the pools added: its link told dhcpd the first two at the handshake
//!   and counts the pools at start.

use super::{Config, FailoverConfig, Range, ServerConfig};

/// One reason a reload is refused: the key (`server.port`,
/// `failover.split`, `subnet.pools`...) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The configuration key that changed.
    pub key: String,
    /// Why it cannot change on a running server.
    pub why: String,
}

/// What a reload changes that the node must check against its leases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Address ranges of the old pools that no new pool covers (only for a
    /// server without a partner; in a pair they are refused outright).
    pub vacated: Vec<Range>,
}

/// Compares the running `old` configuration with `new`. Returns what the
/// node must still check ([`Change`]), or every refusal.
pub fn check(old: &Config, new: &Config) -> Result<Change, Vec<Refusal>> {
    let mut refused = Vec::new();
    server(&old.server, &new.server, &mut refused);
    failover(old.failover.as_ref(), new.failover.as_ref(), &mut refused);
    let vacated = pools(old, new, &mut refused);
    let beside_isc = old
        .failover
        .as_ref()
        .is_some_and(|f| f.protocol.secret_file().is_none());
    if beside_isc && old.pools.len() != new.pools.len() {
        let why = "beside an ISC dhcpd pools are added with a restart (the link answers dhcpd's pool requests from the pools it started with)";
        refuse(&mut refused, "subnet.pools", why);
    }
    if old.failover.is_some() {
        pair_only(old, new, &mut refused);
    }
    if refused.is_empty() {
        Ok(Change { vacated })
    } else {
        Err(refused)
    }
}

fn refuse(out: &mut Vec<Refusal>, key: &str, why: impl Into<String>) {
    out.push(Refusal {
        key: key.into(),
        why: why.into(),
    });
}

/// The `[server]` keys the edge acts on only at start.
fn server(old: &ServerConfig, new: &ServerConfig, out: &mut Vec<Refusal>) {
    let restart = "changes only with a restart";
    let changed = [
        ("server.name", old.name != new.name),
        ("server.interfaces", old.interfaces != new.interfaces),
        ("server.lease_db", old.lease_db != new.lease_db),
        ("server.port", old.port != new.port),
        ("server.client_port", old.client_port != new.client_port),
        ("server.server_id", old.server_id != new.server_id),
        (
            "server.direct_unicast",
            old.direct_unicast != new.direct_unicast,
        ),
        ("server.sync", old.sync_full != new.sync_full),
        (
            "server.control_socket",
            old.control_socket != new.control_socket,
        ),
        ("server.metrics", old.metrics != new.metrics),
    ];
    for (key, _) in changed.iter().filter(|c| c.1) {
        refuse(out, key, restart);
    }
}

/// Any `[failover]` change: both peers must agree on all of it.
fn failover(old: Option<&FailoverConfig>, new: Option<&FailoverConfig>, out: &mut Vec<Refusal>) {
    let (o, n) = match (old, new) {
        (None, None) => return,
        (Some(o), Some(n)) => (o, n),
        _ => {
            let why = "adding or removing the partner changes only with a restart";
            return refuse(out, "failover", why);
        }
    };
    // max_response_delay, load_balance_max_secs, auto_partner_down and its
    // partner_down_evidence, max_unacked_updates and max_clock_offset are
    // each peer's own: they apply at once (`Peer::reconfigure`).
    let (op, np) = (&o.protocol, &n.protocol);
    let kind = std::mem::discriminant(op) != std::mem::discriminant(np);
    let changed = [
        ("failover.role", o.role != n.role),
        ("failover.listen", o.listen != n.listen),
        ("failover.peer", o.peer != n.peer),
        ("failover.protocol", kind),
        (
            "failover.secret_file",
            !kind && op.secret_file() != np.secret_file(),
        ),
        (
            "failover.relationship",
            !kind && op != np && op.secret_file().is_none(),
        ),
        ("failover.mclt", o.mclt != n.mclt),
        ("failover.split", o.split != n.split),
    ];
    let why =
        "the pair's failover settings change only by restarting both peers with the same value";
    for (key, _) in changed.iter().filter(|c| c.1) {
        refuse(out, key, why);
    }
    if o.witness != n.witness {
        refuse(
            out,
            "failover.witness",
            "the witness changes only with a restart",
        );
    }
    if !kind && op.secret_file().is_none() {
        isc_link(o, n, out);
    }
}

/// Beside an ISC dhcpd, what its link told dhcpd in the handshake (our
/// receive timer, how many updates we take unacknowledged) is fixed for
/// the connection, and dhcpd paces its keepalives by it: a peer that
/// took a shorter `max_response_delay` at once would close a healthy link
/// again and again.
fn isc_link(o: &FailoverConfig, n: &FailoverConfig, out: &mut Vec<Refusal>) {
    let why = "beside an ISC dhcpd it changes only with a restart (dhcpd learned it when the link came up)";
    if o.max_response_delay != n.max_response_delay {
        refuse(out, "failover.max_response_delay", why);
    }
    if o.max_unacked_updates != n.max_unacked_updates {
        refuse(out, "failover.max_unacked_updates", why);
    }
}

/// In a pair: reservations inside a pool and the set of subnets must not
/// change on one peer alone (see the module docs).
fn pair_only(old: &Config, new: &Config, out: &mut Vec<Refusal>) {
    type Held = (std::net::Ipv4Addr, Option<[u8; 6]>, Option<Vec<u8>>);
    let in_pool = |c: &Config, a: std::net::Ipv4Addr| {
        c.pools
            .iter()
            .any(|p| p.range.first <= a && a <= p.range.last)
    };
    let held = |c: &Config| -> Vec<Held> {
        let mut v: Vec<Held> = c
            .subnets
            .iter()
            .flat_map(|s| &s.reservations)
            .filter(|r| !r.runtime)
            .filter(|r| in_pool(old, r.address) || in_pool(new, r.address))
            .map(|r| (r.address, r.mac, r.client_id.clone()))
            .collect();
        v.sort();
        v
    };
    let (was, now) = (held(old), held(new));
    let gone = was.iter().filter(|r| !now.contains(r));
    for r in gone.chain(now.iter().filter(|r| !was.contains(r))) {
        let why = format!(
            "the reservation of {} lies in a pool: in a pair, change it on both peers together by restarting them, or move it out of the pools (as ISC dhcpd requires)",
            r.0
        );
        refuse(out, "subnet.reservation", why);
    }
    let cidrs = |c: &Config| c.subnets.iter().map(|s| s.cidr).collect::<Vec<_>>();
    let (a, b) = (cidrs(old), cidrs(new));
    for c in a
        .iter()
        .filter(|c| !b.contains(c))
        .chain(b.iter().filter(|c| !a.contains(c)))
    {
        let why = format!(
            "subnet {c} was added or removed: in a pair the peer without it would refuse the other's bindings there; restart both peers with the same subnets"
        );
        refuse(out, "subnet.cidr", why);
    }
}

/// Old pool ranges not kept exactly: refused in a pair, else returned
/// (the parts no new pool covers) for the node to check.
fn pools(old: &Config, new: &Config, out: &mut Vec<Refusal>) -> Vec<Range> {
    let kept = |r: &Range| new.pools.iter().any(|p| p.range == *r);
    let mut vacated = Vec::new();
    for p in old.pools.iter().filter(|p| !kept(&p.range)) {
        let cidr = old.subnet(p.subnet).cidr;
        let r = p.range;
        if old.failover.is_some() {
            let why = format!(
                "pool {}-{} of subnet {cidr} was removed or resized: a pool's extent decides which peer owns its free addresses, so change it by restarting both peers with the same pools",
                r.first, r.last
            );
            refuse(out, "subnet.pools", why);
        } else {
            vacated.extend(uncovered(r, new));
        }
    }
    vacated
}

/// The parts of `r` that no pool of `new` covers.
fn uncovered(r: Range, new: &Config) -> Vec<Range> {
    let mut spans: Vec<(u32, u32)> = new
        .pools
        .iter()
        .map(|p| (u32::from(p.range.first), u32::from(p.range.last)))
        .collect();
    spans.sort_unstable();
    let (mut at, end) = (u64::from(u32::from(r.first)), u64::from(u32::from(r.last)));
    let mut gaps = Vec::new();
    for (a, b) in spans {
        let (a, b) = (u64::from(a), u64::from(b));
        if b < at || a > end {
            continue;
        }
        if a > at {
            gaps.push((at, a - 1));
        }
        at = at.max(b + 1);
    }
    if at <= end {
        gaps.push((at, end));
    }
    gaps.into_iter()
        .map(|(a, b)| Range {
            first: (a as u32).into(),
            last: (b as u32).into(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
