//! Runtime reservations (`tandem reservation add|del|list`): fixed
//! addresses an operator adds to a running server through the control
//! socket, kept in the lease database's meta table, replicated to the
//! partner and laid over the configuration file's reservations
//! ([`Config::with_runtime`]). The file stays the operator's; these are
//! the changes made without editing it, as Kea's `reservation-add` does.
//!
//! Each client (MAC or client identifier) has at most one entry; a removal
//! is an entry without an address (a tombstone), so it replicates and wins
//! over the add it undoes. Two versions of one client's entry settle on the
//! later change, and equal times on the larger entry, on both peers alike.

use super::{Config, Reservation, SubnetId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The meta-table key the set is kept under (one JSON value).
pub const META_KEY: &str = "runtime_reservations";

/// Entries (tombstones included) a server keeps. An add beyond is refused;
/// beyond it, the oldest removals are forgotten, and a partner's new
/// clients are not taken (logged). Runtime reservations are the day's
/// changes; a campus's standing ones belong in the file.
pub const MAX_ENTRIES: usize = 4096;

/// How far (seconds) an entry's time may lie ahead of the receiver's
/// clock: a partner's clock is within `max_clock_offset` (a minute by
/// default); a time further ahead would win every later change.
const FUTURE_SLACK: u64 = 86_400;

/// Whom a runtime reservation is for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReservedClient {
    /// A client whose chaddr is this Ethernet address (htype 1).
    Mac([u8; 6]),
    /// A client whose option 61 is exactly these octets (type octet
    /// included, 2 to 255 octets).
    ClientId(Vec<u8>),
}

impl ReservedClient {
    /// Whether a file reservation is for this client.
    fn is(&self, r: &Reservation) -> bool {
        match self {
            ReservedClient::Mac(m) => r.mac == Some(*m),
            ReservedClient::ClientId(id) => r.client_id.as_ref() == Some(id),
        }
    }
}

/// Octets as lower-case hex pairs joined by ':' (how MACs and client
/// identifiers are shown and read back by `values::parse_hex`).
pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

impl std::fmt::Display for ReservedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReservedClient::Mac(m) => write!(f, "mac {}", hex(m)),
            ReservedClient::ClientId(id) => write!(f, "client-id {}", hex(id)),
        }
    }
}

/// One client's runtime reservation, or its removal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeEntry {
    /// The client.
    pub client: ReservedClient,
    /// The reserved address; `None` once removed (a tombstone).
    pub address: Option<Ipv4Addr>,
    /// Host name sent as option 12 when the client asks for it (and its DNS
    /// name with `[ddns]`), at most 63 octets.
    pub hostname: Option<String>,
    /// When the operator made this change: seconds of the clock of the
    /// server that took it. Peers' clocks agree within `max_clock_offset`,
    /// which is far finer than the pace of operator changes.
    pub changed: u64,
}

impl RuntimeEntry {
    /// Whether this version of a client's entry supersedes `other`: the
    /// later change, and at equal times the larger (address, host name), so
    /// that both peers settle on the same one.
    fn supersedes(&self, other: &RuntimeEntry) -> bool {
        (self.changed, self.address, &self.hostname)
            > (other.changed, other.address, &other.hostname)
    }

    /// Why this entry, received from a partner at `now` (our clock,
    /// seconds), cannot be kept; `None` when it can.
    pub fn invalid(&self, now: u64) -> Option<String> {
        if let ReservedClient::ClientId(id) = &self.client
            && !(2..=255).contains(&id.len())
        {
            return Some(format!("client identifier of {} octets", id.len()));
        }
        if self.changed > now.saturating_add(FUTURE_SLACK) {
            return Some(format!("change time {} far ahead of ours", self.changed));
        }
        match &self.hostname {
            Some(h) if !is_host_label(h) => Some(format!("host name {h:?} that is no host label")),
            _ => None,
        }
    }
}

/// Whether `h` is one DNS label of letters, digits and '-' (1 to 63
/// octets): what `reservation add --hostname` takes.
pub fn is_host_label(h: &str) -> bool {
    (1..=63).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The runtime reservations a server holds, by client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeReservations {
    entries: BTreeMap<ReservedClient, RuntimeEntry>,
}

/// A runtime reservation the configuration cannot take now, and why (the
/// file reserves the address or the client, the address left every subnet
/// after a reload, or lies in a pool of a pair). It stays in the set and
/// applies again once the obstacle goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shadowed {
    /// The entry left out.
    pub entry: RuntimeEntry,
    /// Why, for `reservation list` and the reload answer.
    pub why: String,
}

impl RuntimeReservations {
    /// The set kept under [`META_KEY`]; an unreadable value is an error
    /// (the caller logs it and starts with none rather than guess).
    pub fn from_json(s: &str) -> Result<RuntimeReservations, serde_json::Error> {
        let list: Vec<RuntimeEntry> = serde_json::from_str(s)?;
        let mut set = RuntimeReservations::default();
        set.merge(list);
        Ok(set)
    }

    /// The value to keep under [`META_KEY`].
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.list()).unwrap_or_else(|_| "[]".into())
    }

    /// Every entry, tombstones included, in client order.
    pub fn list(&self) -> Vec<RuntimeEntry> {
        self.entries.values().cloned().collect()
    }

    /// The entries that reserve an address (no tombstones).
    pub fn live(&self) -> impl Iterator<Item = &RuntimeEntry> {
        self.entries.values().filter(|e| e.address.is_some())
    }

    /// Entries kept, tombstones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// This client's entry, tombstone included.
    pub fn get(&self, client: &ReservedClient) -> Option<&RuntimeEntry> {
        self.entries.get(client)
    }

    /// A local change by the operator: it replaces the client's entry
    /// whatever its time (the clock may have stepped back since), so it
    /// gets a time past the one it replaces.
    pub fn set(&mut self, mut e: RuntimeEntry) -> RuntimeEntry {
        if let Some(old) = self.entries.get(&e.client) {
            e.changed = e.changed.max(old.changed.saturating_add(1));
        }
        self.entries.insert(e.client.clone(), e.clone());
        self.trim();
        e
    }

    /// Takes each entry of `incoming` (the partner's set, or a read-back)
    /// that supersedes ours, within [`MAX_ENTRIES`] (`trim`). Returns
    /// whether anything changed.
    pub fn merge(&mut self, incoming: Vec<RuntimeEntry>) -> bool {
        let mut changed = false;
        for e in incoming {
            if self.entries.get(&e.client).is_none_or(|o| e.supersedes(o)) {
                self.entries.insert(e.client.clone(), e);
                changed = true;
            }
        }
        self.trim();
        changed
    }

    /// Back within [`MAX_ENTRIES`]: the oldest removals go first (a
    /// partner away longer than their age could bring back what they
    /// removed), then the newest clients, which the operator is told of.
    fn trim(&mut self) {
        let over = self.entries.len().saturating_sub(MAX_ENTRIES);
        if over == 0 {
            return;
        }
        let mut order: Vec<(bool, u64, ReservedClient)> = self
            .entries
            .values()
            .map(|e| (e.address.is_some(), e.changed, e.client.clone()))
            .collect();
        order.sort();
        let (live, gone): (Vec<_>, Vec<_>) = order.into_iter().partition(|o| o.0);
        let dropped = gone.into_iter().chain(live.into_iter().rev()).take(over);
        for (live, _, client) in dropped {
            if live {
                tracing::error!(%client, "more than {MAX_ENTRIES} runtime reservations: this one is not kept");
            }
            self.entries.remove(&client);
        }
    }

    /// Frames of at most about `octets` encoded octets each, every entry in
    /// exactly one (an entry is at most about 400 octets).
    pub fn frames(&self, octets: usize) -> Vec<Vec<RuntimeEntry>> {
        let size = |e: &RuntimeEntry| {
            let id = match &e.client {
                ReservedClient::Mac(_) => 6,
                ReservedClient::ClientId(id) => id.len(),
            };
            32 + id + e.hostname.as_ref().map_or(0, String::len)
        };
        let mut out: Vec<Vec<RuntimeEntry>> = vec![];
        let mut used = 0;
        for e in self.entries.values() {
            if out.is_empty() || used + size(e) > octets {
                out.push(vec![]);
                used = 0;
            }
            used += size(e);
            out.last_mut().expect("pushed").push(e.clone());
        }
        out
    }
}

impl Config {
    /// This configuration with the live runtime reservations of `rt` added
    /// to their subnets (marked `runtime`), and those it cannot take with
    /// why; their addresses are `held`. Where two live entries claim one
    /// address, the later change has it.
    pub fn with_runtime(&self, rt: &RuntimeReservations) -> (Config, Vec<Shadowed>) {
        let mut config = self.clone();
        let mut shadowed = vec![];
        let mut live: Vec<&RuntimeEntry> = rt.live().collect();
        live.sort_by(|a, b| {
            if a.supersedes(b) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
        for e in live {
            match config.runtime_fit(e) {
                Ok(sid) => config.subnets[sid.0 as usize]
                    .reservations
                    .push(reservation_of(e)),
                Err(why) => shadowed.push(Shadowed {
                    entry: e.clone(),
                    why,
                }),
            }
        }
        // Not given to anyone else here: the partner may apply them.
        config.held = shadowed.iter().filter_map(|s| s.entry.address).collect();
        (config, shadowed)
    }

    /// The subnet a live runtime entry goes to, or why it cannot: see
    /// [`Shadowed`]. A reservation inside a pool is refused in a pair: a
    /// peer that has not heard of it yet could give the address, as its
    /// own free one, to another client (the reason `config::reload`
    /// refuses such a change on one peer).
    pub fn runtime_fit(&self, e: &RuntimeEntry) -> Result<SubnetId, String> {
        let Some(a) = e.address else {
            return Err("removed".into());
        };
        let s = self
            .subnet_containing(a)
            .ok_or_else(|| format!("{a} lies outside every subnet"))?;
        if s.cidr.prefix < 31 && (a == s.cidr.network || a == s.cidr.broadcast()) {
            return Err(format!("{a} is not a usable address of {}", s.cidr));
        }
        if self.failover.is_some() && self.pool_containing(a).is_some() {
            return Err(format!(
                "{a} lies in a dynamic pool: in a pair a runtime reservation must lie outside the pools (or go into both configuration files)"
            ));
        }
        for o in self.link_of(s) {
            if let Some(r) = o.reservations.iter().find(|r| e.client.is(r)) {
                let by = if r.runtime { "a runtime" } else { "the file's" };
                return Err(format!(
                    "this client already has {by} reservation of {} on this network",
                    r.address
                ));
            }
        }
        if let Some(r) = s.reservations.iter().find(|r| r.address == a) {
            let by = if r.runtime {
                "at runtime"
            } else {
                "in the file"
            };
            return Err(format!("{a} is reserved {by} for another client"));
        }
        Ok(s.id)
    }
}

/// The configuration's form of a live entry.
fn reservation_of(e: &RuntimeEntry) -> Reservation {
    let (mac, client_id) = match &e.client {
        ReservedClient::Mac(m) => (Some(*m), None),
        ReservedClient::ClientId(id) => (None, Some(id.clone())),
    };
    Reservation {
        mac,
        client_id,
        address: e.address.unwrap_or(Ipv4Addr::UNSPECIFIED),
        hostname: e.hostname.clone(),
        options: vec![],
        runtime: true,
    }
}

#[cfg(test)]
mod tests;
