//! The invariants, checked as the world runs and at the end.

use super::*;
use crate::ddns::dhcid;
use crate::lease::DnsStatus;

/// Seconds after a binding's end (on a server's clock) within which its
/// DNS records may still stand: the removal runs at the next tick.
const DNS_GRACE: u64 = 5;

impl World {
    pub(super) fn collect_acked(&mut self, i: usize) {
        let Some(n) = self.nodes[i].as_mut() else {
            return;
        };
        let committed: Vec<_> = n.committed_pe.drain(..).collect();
        for c in committed {
            let (addr, client, t) = (c.addr, c.client, c.pe);
            if self.opts.trace {
                let _ = writeln!(
                    self.trace,
                    "         server {i} committed {addr} ({}) for {client:?} potential expiry t={t}",
                    c.what
                );
            }
            let e = self.acked[i].entry(addr).or_insert((client.clone(), t));
            if e.0 != client || t >= e.1 {
                *e = (client, t);
            }
        }
    }

    pub(super) fn release_hold(&mut self, c: usize, h: Held) {
        self.holders.release(c, h, self.now);
    }

    pub(super) fn client_receive(&mut self, c: usize, bytes: &[u8]) -> Result<(), Violation> {
        let before = self.clients[c].held;
        match self.clients[c].receive(self.now, bytes) {
            Event::Bound(h) => {
                self.summary.acks += 1;
                if let Err((other, until)) = self.holders.bind(c, h, before, self.now) {
                    return Err(self.violation(format!(
                        "address {} ACKed to client {c} while client {other} holds it until t={until}",
                        h.addr
                    )));
                }
            }
            Event::Naked(lost) => {
                self.summary.naks += 1;
                if let Some(h) = lost {
                    self.release_hold(c, h);
                    if !self.chaos && self.now > CHAOS + 2 * MCLT && !self.dangerous {
                        return Err(self.violation(format!(
                            "client {c} was refused its lease {} after the network healed",
                            h.addr
                        )));
                    }
                }
            }
            Event::Nothing => {}
        }
        let w = self.clients[c].wake;
        self.at(w, Ev::ClientWake(c));
        Ok(())
    }

    /// In every state, PARTNER-DOWN included, no lease runs past MCLT
    /// beyond what the partner has acknowledged (its disk) or beyond the
    /// grant time.
    pub(super) fn check_mclt(&self, i: usize, g: &Grant) -> Result<(), Violation> {
        let to_global = |t: u64, node: usize| (t as i64 - self.offsets[node]).max(0) as u64;
        // What this ACK granted; the record may keep a later end that an
        // earlier ACK (checked then) promised the same client.
        let end = to_global(g.local_now.0 + u64::from(g.lease.lease_time), i);
        let now = to_global(g.local_now.0, i);
        let acked = self.acked[1 - i]
            .get(&g.lease.addr)
            .filter(|(c, _)| c.is_none() || *c == g.lease.client())
            .map_or(0, |(_, t)| *t);
        let bound = now.max(acked) + MCLT + CLOCK_SLACK;
        if end > bound && !self.dangerous {
            return Err(self.violation(format!(
                "server {i} granted {} until t={end}, beyond MCLT past the partner's acknowledgement (bound t={bound}; partner committed {:?})",
                g.lease.addr,
                self.acked[1 - i].get(&g.lease.addr)
            )));
        }
        Ok(())
    }

    /// After the network healed and both servers ran for the settle period:
    /// the same active bindings on both, both in NORMAL.
    pub(super) fn final_check(&mut self) -> Result<(), Violation> {
        if self.dangerous {
            return Ok(());
        }
        let (a, b) = (
            self.nodes[0].as_ref().expect("up"),
            self.nodes[1].as_ref().expect("up"),
        );
        if a.node.state() != Some(State::Normal) || b.node.state() != Some(State::Normal) {
            return Err(self.violation(format!(
                "pair not in NORMAL after settling: {} / {}",
                a.node.state().map_or("alone", |s| s.as_str()),
                b.node.state().map_or("alone", |s| s.as_str())
            )));
        }
        let active = |n: &Host, other_offset: i64| -> BTreeMap<Ipv4Addr, String> {
            let now = n.local(self.now).0;
            n.node
                .store()
                .iter()
                .filter(|l| {
                    l.state == LeaseState::Active
                        && l.expires.0 > now + CLOCK_SLACK + 2 + other_offset.unsigned_abs()
                })
                .map(|l| (l.addr, format!("{:?}", l.client())))
                .collect()
        };
        let slack = self.offsets[0] - self.offsets[1];
        let (x, y) = (active(a, slack), active(b, slack));
        for (addr, c) in &x {
            if let Some(d) = y.get(addr).filter(|d| *d != c) {
                return Err(self.violation(format!(
                    "{addr} bound to {c} on server 0 and to {d} on server 1"
                )));
            }
        }
        let mut missing = vec![];
        for (addr, c) in x
            .iter()
            .filter(|(a, _)| !y.contains_key(a))
            .chain(y.iter().filter(|(a, _)| !x.contains_key(a)))
        {
            missing.push(format!("{addr}={c}"));
        }
        // Bindings that expire within the clock slack may legitimately differ.
        if !missing.is_empty() {
            return Err(self.violation(format!("bindings on one server only: {missing:?}")));
        }
        match self.dns_mismatch() {
            Some(m) => Err(self.violation(m)),
            None => Ok(()),
        }
    }

    /// After settling, DNS and the bindings agree (the ddns family): a
    /// binding whose records are `Added` has them, with its client's DHCID;
    /// every A and PTR record belongs to a binding that is active on some
    /// server, or ended within [`DNS_GRACE`] seconds of its clock (unless a
    /// server lost its database: then what it alone knew is gone).
    fn dns_mismatch(&self) -> Option<String> {
        let hosts: Vec<&Host> = self.nodes.iter().flatten().collect();
        let zone = self.zone.borrow();
        hosts
            .iter()
            .find_map(|h| self.records_missing(h, &zone))
            .or_else(|| {
                (!self.wiped)
                    .then(|| self.records_left_behind(&hosts, &zone))
                    .flatten()
            })
    }

    /// A binding of `h`, active well within its lease, whose records are
    /// removed, or `Added` but not in `zone` as its client's.
    fn records_missing(&self, h: &Host, zone: &crate::sim::dns::Zone) -> Option<String> {
        let now = h.local(self.now).0;
        let id = h.server_id;
        // A copy behind a newer registration of the address on the other
        // server (a rename in the last seconds, its update in flight) is
        // not checked: the newer one is.
        let behind = |l: &crate::lease::Lease, tag: u64| {
            self.nodes.iter().flatten().any(|o| {
                o.node
                    .store()
                    .get(l.addr)
                    .and_then(|x| x.dns.as_ref())
                    .is_some_and(|x| x.tag > tag)
            })
        };
        h.node.store().iter().find_map(|l| {
            let d = l.dns.as_ref()?;
            if l.state != LeaseState::Active
                || l.expires.0 <= now + CLOCK_SLACK + 2
                || behind(l, d.tag)
            {
                return None;
            }
            if d.status == DnsStatus::Removed && (d.forward || d.reverse) {
                return Some(format!(
                    "server {id}: {} is active, its records removed",
                    l.addr
                ));
            }
            let want = dhcid::for_lease(l, &d.fqdn);
            let has = zone.a_of(&d.fqdn);
            (d.status == DnsStatus::Added && d.forward && has != Some((l.addr, want.as_slice())))
                .then(|| {
                    format!(
                        "server {id}: {} of {:?} is Added but DNS has {:?}",
                        l.addr,
                        l.client(),
                        has.map(|a| a.0)
                    )
                })
        })
    }

    /// An A or PTR record in `zone` that no binding on `hosts` holds.
    fn records_left_behind(&self, hosts: &[&Host], zone: &crate::sim::dns::Zone) -> Option<String> {
        let held = |addr, name: &str, dhcid: Option<&[u8]>| {
            hosts.iter().any(|h| {
                let now = h.local(self.now).0;
                h.node.store().get(addr).is_some_and(|l| {
                    l.state == LeaseState::Active
                        && l.expires.0 + DNS_GRACE > now
                        && holds(l, name, dhcid)
                })
            })
        };
        let a = zone
            .a_records()
            .find(|(name, addr, d)| !held(*addr, name, Some(d)));
        if let Some((name, addr, _)) = a {
            return Some(format!(
                "DNS name {name} -> {addr} left behind: no binding holds it"
            ));
        }
        let ptr = zone
            .ptr_records()
            .find(|(addr, name)| !held(*addr, name, None));
        ptr.map(|(addr, name)| format!("DNS PTR {addr} -> {name} left behind: no binding holds it"))
    }
}

/// Whether the active binding `l` accounts for a record of `name` (an A
/// record with `dhcid`, or a PTR when `None`): its own name, kept by the
/// server, or a name its pending add removes first (`StaleName`).
fn holds(l: &crate::lease::Lease, name: &str, dhcid: Option<&[u8]>) -> bool {
    let Some(d) = l.dns.as_deref() else {
        return false;
    };
    let own = d.fqdn == name
        && match dhcid {
            Some(x) => d.forward && x == dhcid::for_lease(l, name),
            None => d.reverse,
        };
    let going = d
        .pending_stale()
        .any(|s| s.fqdn == name && dhcid.is_none_or(|x| x == s.dhcid.as_slice()));
    own || going
}
